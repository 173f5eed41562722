"""Testudo's public surface: the HTTP API (QuartTrio on 8080) and the WebSocket server (4000)."""
