"""Sign-in with Ethereum, sessions, tokens, extension pairing and revocation."""
