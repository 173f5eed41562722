"""Journal images: upload under a per-user quota, serve to the owner, delete, sweep orphans.

Crash rules (nothing is left orphaned):

1. The cleaned bytes are written to a temporary file and fsynced.
2. One transaction takes the user's advisory lock (two concurrent uploads of one user are
   serialised, so together they can never exceed the quota), checks the quota, inserts the
   row, and publishes the file under its key (atomic rename) *before* committing.
3. If anything fails, only the temporary file is removed here. A published file whose
   transaction did not commit has no row: the sweeper deletes published files without a row
   once they are older than a grace period, and temporary files older than it.

Deleting commits the row's removal first and then removes the file; a crash in between
leaves a file without a row, which the sweeper removes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import trio

from testudo.db import Database
from testudo.db.database import Conn

from .images import ImageRejected, clean_image
from .storage import ImageStore

log = logging.getLogger("testudo.journal.uploads")

QUOTA_BYTES = 100 * 1024 * 1024
SWEEP_GRACE_SECONDS = 15 * 60
SWEEP_BATCH = 500
DECODES = 2  # image decodes at once, whatever the number of uploads

LOCK_USER = "SELECT pg_advisory_xact_lock(hashtextextended('journal_images:' || %s::text, 0))"
USAGE = """
SELECT coalesce(sum(file_size), 0)::bigint AS used, count(*) AS n
FROM journal_images WHERE user_id = %s
"""
INSERT_IMAGE = """
INSERT INTO journal_images (id, user_id, file_name, file_size, mime_type, width, height,
                            storage_key)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id, file_name, file_size, mime_type, width, height, created_at
"""
GET_IMAGE = """
SELECT storage_key, mime_type, file_size FROM journal_images WHERE id = %s AND user_id = %s
"""
DELETE_IMAGE = "DELETE FROM journal_images WHERE id = %s AND user_id = %s RETURNING storage_key"
KNOWN_KEYS = "SELECT storage_key FROM journal_images WHERE storage_key = ANY(%s)"


@attrs.frozen
class QuotaExceeded:
    used_bytes: int
    quota_bytes: int
    file_bytes: int

    @property
    def remaining_bytes(self) -> int:
        return max(0, self.quota_bytes - self.used_bytes)


@attrs.frozen
class StoredImage:
    key: str
    mime_type: str
    data: bytes


def format_bytes(size: int) -> str:
    """``99.5 MB`` / ``512.0 KB`` (one decimal, binary units, as the original printed)."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.1f} KB"


def display_name(name: str | None, extension: str) -> str:
    """The uploaded file's base name, tamed, with the extension of what we actually store."""
    base = (name or "image").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = "".join(ch for ch in stem if ch.isprintable() and ch not in '"<>:|?*')[:100].strip()
    return f"{stem or 'image'}.{extension}"


@attrs.define
class ImageService:
    db: Database
    store: ImageStore
    quota_bytes: int = QUOTA_BYTES
    decodes: trio.CapacityLimiter = attrs.field(factory=lambda: trio.CapacityLimiter(DECODES))

    async def usage(self, user_id: str) -> dict[str, int]:
        row = await self.db.fetch_one(USAGE, (user_id,))
        assert row is not None
        used = int(row["used"])
        return {
            "used_bytes": used,
            "quota_bytes": self.quota_bytes,
            "remaining_bytes": max(0, self.quota_bytes - used),
            "image_count": int(row["n"]),
        }

    async def upload(
        self, user_id: str, data: bytes, file_name: str | None
    ) -> dict[str, Any] | QuotaExceeded:
        """Store a cleaned copy of ``data``; raise ImageRejected for a refused file.

        A user with no room left is answered before anything is decoded, and at most
        ``DECODES`` decodes run at once (each bounded by ``images.Limits``).
        """
        before = await self.usage(user_id)
        if before["remaining_bytes"] <= 0:
            return QuotaExceeded(before["used_bytes"], self.quota_bytes, len(data))
        image = await trio.to_thread.run_sync(clean_image, data, limiter=self.decodes)
        size = len(image.data)
        image_id = str(uuid.uuid4())
        key = f"{user_id}/{image_id}.{image.format.extension}"
        name = display_name(file_name, image.format.extension)
        temp = await trio.to_thread.run_sync(self.store.write_temp, image.data)

        def store(conn: Conn) -> dict[str, Any] | QuotaExceeded:
            conn.execute(LOCK_USER, (user_id,))
            usage = conn.execute(USAGE, (user_id,)).fetchone()
            used = int(usage["used"]) if usage else 0
            if used + size > self.quota_bytes:
                return QuotaExceeded(used, self.quota_bytes, size)
            row = conn.execute(
                INSERT_IMAGE,
                (
                    image_id,
                    user_id,
                    name,
                    size,
                    image.format.mime,
                    image.width,
                    image.height,
                    key,
                ),
            ).fetchone()
            assert row is not None
            self.store.publish(temp, key)
            return row

        try:
            result = await self.db.run(store)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self.store.discard_temp, temp)
        return result

    async def read(self, user_id: str, image_id: str) -> StoredImage | None:
        row = await self.db.fetch_one(GET_IMAGE, (image_id, user_id))
        if row is None:
            return None
        try:
            data = await trio.to_thread.run_sync(self.store.read, row["storage_key"])
        except FileNotFoundError:
            log.error("image file missing", extra={"json_fields": {"image_id": image_id}})
            return None
        return StoredImage(row["storage_key"], row["mime_type"], data)

    async def delete(self, user_id: str, image_id: str) -> bool:
        row = await self.db.fetch_one(DELETE_IMAGE, (image_id, user_id))
        if row is None:
            return False
        try:
            await trio.to_thread.run_sync(self.store.delete, row["storage_key"])
        except OSError as exc:  # the sweeper will retry: the row is gone
            log.warning("image file not deleted", extra={"json_fields": {"error": str(exc)}})
        return True

    async def sweep(self, grace_seconds: float = SWEEP_GRACE_SECONDS) -> dict[str, int]:
        """Delete temporary files and published files without a row, older than the grace."""

        def old(items: Iterator[tuple[str, float]]) -> list[str]:
            return [name for name, age in items if age >= grace_seconds]

        temps = await trio.to_thread.run_sync(lambda: old(self.store.temporaries()))
        for temp in temps:
            await trio.to_thread.run_sync(self.store.discard_temp, temp)
        candidates = await trio.to_thread.run_sync(lambda: old(self.store.published()))
        orphans = 0
        for start in range(0, len(candidates), SWEEP_BATCH):
            batch = candidates[start : start + SWEEP_BATCH]
            rows = await self.db.fetch_all(KNOWN_KEYS, (batch,))
            known = {r["storage_key"] for r in rows}
            for key in batch:
                if key not in known:
                    await trio.to_thread.run_sync(self.store.delete, key)
                    orphans += 1
        if temps or orphans:
            log.info(
                "upload sweep",
                extra={
                    "json_fields": {
                        "event": "upload_sweep",
                        "temps": len(temps),
                        "orphans": orphans,
                    }
                },
            )
        return {"temporaries": len(temps), "orphans": orphans}


__all__ = ["ImageRejected", "ImageService", "QuotaExceeded", "StoredImage", "format_bytes"]
