"""Secrets generated into the data dir on first start when not configured (0600, never logged)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_SECRET_BYTES = 32


class SecretError(Exception):
    """A configured secret is unusable (too short)."""


def load_or_create_secret(data_dir: Path, name: str, configured: str | None) -> bytes:
    """The configured secret, or the one stored in ``<data_dir>/keys/<name>``, created if absent."""
    if configured:
        raw = configured.encode()
        if len(raw) < MIN_SECRET_BYTES:
            raise SecretError(f"the configured {name} must be at least {MIN_SECRET_BYTES} bytes")
        return raw
    folder = data_dir / "keys"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    value = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex())
    return value
