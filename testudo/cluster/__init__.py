"""Several nodes of one service on one PostgreSQL: what they share and how they agree."""
