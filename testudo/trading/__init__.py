"""Trade groups: an entry, its stop-loss and take-profits, managed on the exchange."""
