"""Where image bytes live: one small interface, a local-disk implementation.

An object store can replace :class:`LocalImageStore` by implementing :class:`ImageStore`.
Every method is synchronous and is called from a worker thread (``trio.to_thread`` or inside
a :meth:`Database.run` hop), never from the event loop.

Keys are ``<user id>/<image id>.<ext>``. New files are first written (and fsynced) under a
temporary name, then published under their key with an atomic rename.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import attrs

TEMP_DIR = ".incoming"


class ImageStore(Protocol):
    def write_temp(self, data: bytes) -> str:
        """Store ``data`` durably under a new temporary name; return that name."""
        ...

    def publish(self, temp: str, key: str) -> None:
        """Make the temporary file visible under ``key`` (atomic)."""
        ...

    def discard_temp(self, temp: str) -> None:
        """Remove a temporary file (missing is fine)."""
        ...

    def read(self, key: str) -> bytes:
        """The bytes under ``key``; FileNotFoundError when missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` (missing is fine)."""
        ...

    def published(self) -> Iterator[tuple[str, float]]:
        """Every ``(key, age in seconds)``."""
        ...

    def temporaries(self) -> Iterator[tuple[str, float]]:
        """Every ``(temporary name, age in seconds)``."""
        ...


@attrs.define
class LocalImageStore:
    """Files under ``root`` (``<data dir>/uploads``)."""

    root: Path

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) != 2 or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            raise ValueError(f"bad storage key {key!r}")
        return self.root / parts[0] / parts[1]

    def _temp(self, temp: str) -> Path:
        if "/" in temp or temp.startswith("."):
            raise ValueError(f"bad temporary name {temp!r}")
        return self.root / TEMP_DIR / temp

    def write_temp(self, data: bytes) -> str:
        name = f"{uuid.uuid4().hex}.part"
        path = self._temp(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return name

    def publish(self, temp: str, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp(temp), target)
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def discard_temp(self, temp: str) -> None:
        self._temp(temp).unlink(missing_ok=True)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def published(self) -> Iterator[tuple[str, float]]:
        now = time.time()
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            for path in folder.iterdir():
                try:
                    age = now - path.stat().st_mtime
                except FileNotFoundError:
                    continue
                yield f"{folder.name}/{path.name}", age

    def temporaries(self) -> Iterator[tuple[str, float]]:
        now = time.time()
        folder = self.root / TEMP_DIR
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            try:
                yield path.name, now - path.stat().st_mtime
            except FileNotFoundError:
                continue
