"""Exchange simulator: Binance USD-M and Hyperliquid wire dialects over one matching engine."""
