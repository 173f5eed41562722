"""The WebSocket server on port 4000: Binance-style SUBSCRIBE/UNSUBSCRIBE over JSON."""
