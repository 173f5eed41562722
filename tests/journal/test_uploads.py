"""Journal images: content sniffing, metadata stripping, size and pixel limits, the per-user
quota under concurrent uploads, owner-only serving, and no orphan after a crash."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import attrs
import httpx
import pytest
import trio
from PIL import Image

from actors.journal.upload_sweeper import Sweep
from api.process import Running
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.journal.images import MAX_FILE_BYTES, ImageRejected, clean_image
from testudo.journal.storage import LocalImageStore
from testudo.journal.uploads import ImageService

from .support import insert_user, new_user

J = "/api/v1/journal"


def png(size: tuple[int, int] = (64, 48), text: str | None = None) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    info = PngInfo()
    if text:
        info.add_text("Comment", text)
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 20), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to display
    exif[0x8825] = {2: (48.0, 51.0, 30.0), 4: (2.0, 17.0, 40.0)}  # GPS position
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small PNG whose header announces billions of pixels (the data is never decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 10_000, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_metadata_is_stripped_and_orientation_kept() -> None:
    cleaned = clean_image(png(text="secret location"))
    assert cleaned.format.mime == "image/png" and (cleaned.width, cleaned.height) == (64, 48)
    assert b"secret location" not in cleaned.data
    photo = clean_image(jpeg_with_gps())
    with Image.open(io.BytesIO(photo.data)) as reopened:
        assert not reopened.getexif()
        assert reopened.size == (20, 40)  # rotated as the EXIF orientation said, then dropped
    frames = [Image.new("RGB", (10, 10), (80 * i, 40, 200 - 60 * i)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], comment=b"hello")
    gif = clean_image(out.getvalue())
    assert gif.frames == 3 and b"hello" not in gif.data
    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, "WEBP")
    assert clean_image(webp.getvalue()).format.extension == "webp"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<html><script>alert(1)</script></html>", "invalid_type"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "invalid_type"),
        (b"BM" + b"\x00" * 60, "invalid_type"),  # BMP: a real image, not an accepted one
        (png()[:60], "invalid_type"),  # truncated
        (png_bomb(), "too_large"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_FILE_BYTES), "too_large"),
    ],
)
def test_refused_files(data: bytes, code: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        clean_image(data)
    assert caught.value.error == code


async def test_upload_serve_delete_and_abuse(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    alice = await new_user(http, clock.now())
    bob = await new_user(http, clock.now())
    a, b = alice.bearer(), bob.bearer()

    sent = await http.post(
        f"{J}/upload", headers=a, files={"anything": ("chart.PNG", png(text="x"), "text/plain")}
    )
    assert sent.status_code == 201, sent.text
    image = sent.json()
    assert image["mime_type"] == "image/png" and image["file_name"] == "chart.png"
    assert sent.headers["location"] == image["url"]
    served = await http.get(image["url"], headers=a)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(served.content)).size == (64, 48)
    by_cookie = await http.get(image["url"], headers=alice.cookie_header())
    assert by_cookie.status_code == 200  # an <img> tag sends the cookie, not a bearer
    assert (await http.get(image["url"], headers=b)).status_code == 404
    assert (await http.delete(image["url"], headers=b)).status_code == 404
    assert (await http.get(image["url"])).status_code == 401

    usage = (await http.get(f"{J}/storage", headers=a)).json()
    assert usage["image_count"] == 1 and usage["used_bytes"] == image["file_size"]
    assert usage["quota_bytes"] == 100 * 1024 * 1024
    assert (await http.get(f"{J}/storage", headers=b)).json()["used_bytes"] == 0

    async def refused(files: dict[str, tuple[str, bytes, str]] | None, **kw: object) -> str:
        response = await http.post(f"{J}/upload", headers=a, files=files, **kw)  # type: ignore[arg-type]
        assert response.status_code in (400, 413, 415), response.text
        assert response.headers["content-type"] == "application/problem+json"
        return str(response.json()["error"])

    assert await refused({"f": ("evil.png", b"<svg onload=alert(1)>", "image/png")}) == (
        "invalid_type"
    )
    assert await refused({"f": ("bomb.png", png_bomb(), "image/png")}) == "too_large"
    assert await refused(
        {"f": ("big.png", b"\x89PNG" + b"\0" * (6 * 1024 * 1024), "image/png")}
    ) == ("too_large")
    assert (
        await refused({"f": ("edge.png", b"\x89PNG" + b"\0" * (MAX_FILE_BYTES - 3), "image/png")})
        == "too_large"
    )
    assert await refused(None, data={"note": "no file here"}) == "no_file"
    assert await refused({"f": ("empty.png", b"", "image/png")}) == "no_file"
    # the larger body limit is only for the upload route (own client: an early 413 from the
    # app-wide limit leaves the rest of the body on its connection)
    async with httpx.AsyncClient(base_url=service.http_url, timeout=10) as other:
        big_json = await other.post(
            f"{J}/entries",
            headers={**a, "Content-Type": "application/json"},
            content=b"{" + b" " * (2 << 20) + b"}",
        )
    assert big_json.status_code == 413 and big_json.json()["error"] == "payload_too_large"

    deleted = await http.delete(image["url"], headers=a)
    assert deleted.json() == {"deleted": True}
    assert (await http.get(image["url"], headers=a)).status_code == 404
    assert (await http.get(f"{J}/storage", headers=a)).json()["used_bytes"] == 0
    uploads = service.system.settings.data_dir / "uploads"
    assert not [p for p in uploads.rglob("*") if p.is_file()]


async def test_two_concurrent_uploads_cannot_exceed_the_quota(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await new_user(http, clock.now())
    auth = session.bearer()
    body = png((300, 300))
    size = len(clean_image(body).data)
    journal = service.system.journal
    assert journal is not None
    journal.images.quota_bytes = 2 * size + size // 2  # room for two, not three
    first = await http.post(f"{J}/upload", headers=auth, files={"f": ("a.png", body, "image/png")})
    assert first.status_code == 201
    statuses: list[int] = []
    errors: list[str] = []

    async def upload(name: str) -> None:
        response = await http.post(
            f"{J}/upload", headers=auth, files={"f": (name, body, "image/png")}
        )
        statuses.append(response.status_code)
        if response.status_code != 201:
            errors.append(response.json()["error"])
            assert response.json()["details"]["remaining_bytes"] < size

    async with trio.open_nursery() as nursery:
        nursery.start_soon(upload, "b.png")
        nursery.start_soon(upload, "c.png")
    assert sorted(statuses) == [201, 413] and errors == ["quota_exceeded"]
    usage = (await http.get(f"{J}/storage", headers=auth)).json()
    assert usage["used_bytes"] == 2 * size <= usage["quota_bytes"]
    assert usage["image_count"] == 2
    journal.images.quota_bytes = 100 * 1024 * 1024


@attrs.define
class CrashAfterPublish(LocalImageStore):
    """Publishes the file, then the process "dies" before the transaction commits."""

    def publish(self, temp: str, key: str) -> None:
        super().publish(temp, key)
        raise RuntimeError("power cut")


@attrs.define
class CrashOnDelete(LocalImageStore):
    def delete(self, key: str) -> None:
        raise PermissionError("disk went read-only")


async def test_no_orphan_file_or_row_after_a_crash(db: Database, tmp_path: Path) -> None:
    user = await db.run(insert_user)
    root = tmp_path / "uploads"
    crashing = ImageService(db, CrashAfterPublish(root))
    with pytest.raises(RuntimeError):
        await crashing.upload(user, png(), "a.png")
    assert await db.fetch_one("SELECT 1 FROM journal_images") is None
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 1 and ".incoming" not in str(files[0])  # published, never committed
    service = ImageService(db, LocalImageStore(root))
    kept = await service.upload(user, png(), "b.png")
    assert isinstance(kept, dict)
    assert await service.sweep(grace_seconds=3600) == {"temporaries": 0, "orphans": 0}
    assert await service.sweep(grace_seconds=0) == {"temporaries": 0, "orphans": 1}
    remaining = [p for p in root.rglob("*") if p.is_file()]
    assert [p.name for p in remaining] == [f"{kept['id']}.png"]

    # a crash between deleting the row and the file: the row goes, the sweeper takes the file
    failing = ImageService(db, CrashOnDelete(root))
    assert await failing.delete(user, str(kept["id"]))
    assert await db.fetch_one("SELECT 1 FROM journal_images") is None
    assert await service.sweep(grace_seconds=0) == {"temporaries": 0, "orphans": 1}
    assert not [p for p in root.rglob("*") if p.is_file()]

    # a temporary file left by a crash before the transaction
    (root / ".incoming").mkdir(exist_ok=True)
    (root / ".incoming" / "dead.part").write_bytes(b"x")
    assert await service.sweep(grace_seconds=0) == {"temporaries": 1, "orphans": 0}


async def test_the_sweeper_actor_runs_in_the_service(service: Running) -> None:
    journal = service.system.journal
    assert journal is not None and journal.sweeper is not None
    assert await journal.sweeper.ask(Sweep(grace_seconds=0)) == {"temporaries": 0, "orphans": 0}
