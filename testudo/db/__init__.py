"""PostgreSQL access from trio: a thread-hopping pool, the embedded server, migrations."""

from .database import Database, DatabaseUnavailable, open_database, redact

__all__ = ["Database", "DatabaseUnavailable", "open_database", "redact"]
