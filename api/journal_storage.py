"""``/api/v1/journal``: image upload (multipart), storage usage, serving and deleting images.

Accepted: PNG, JPEG, WEBP, GIF, recognised by content (never by the declared type or name),
at most 5 MiB per file and 100 MiB per user. Problems: ``no_file`` (400), ``invalid_type``
(415), ``too_large`` (413), ``quota_exceeded`` (413, with used/quota/remaining). Images are
served only to their owner; anyone else gets 404.
"""

from __future__ import annotations

import uuid
from typing import Any

import trio
from quart import Blueprint, Response, request
from quart_schema import tag
from werkzeug.exceptions import RequestEntityTooLarge

from testudo.journal.images import MAX_FILE_BYTES
from testudo.journal.uploads import ImageService, QuotaExceeded, format_bytes
from testudo.journal.views import image_json

from .auth_guard import authenticated
from .body_limits import allow_body
from .context import system
from .journal_common import not_found, user_id
from .problems import EdgeAnswer, problem

storage_blueprint = Blueprint("journal_storage", __name__)
STORAGE = tag(["journal storage"])
UPLOAD_PATH = "/api/v1/journal/upload"
MULTIPART_OVERHEAD = 64 * 1024
allow_body("POST", UPLOAD_PATH, MAX_FILE_BYTES + MULTIPART_OVERHEAD)


def images() -> ImageService:
    journal = system().journal
    if journal is None:
        raise problem("unavailable", "Image storage is not running.")
    return journal.images


def _too_large(*, unread_body: bool = False) -> EdgeAnswer:
    # Answering before the body was read leaves the rest of it on the connection: close it,
    # or the client's next request on that connection would stall behind the unread bytes.
    headers = {"Connection": "close"} if unread_body else {}
    return EdgeAnswer(problem("too_large", "File exceeds 5MB limit."), headers)


@storage_blueprint.post("/upload")
@STORAGE
@authenticated
async def upload() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Upload one image (the first file part of a multipart body; its field name is free)."""
    try:
        files = await request.files
    except RequestEntityTooLarge:
        raise _too_large(unread_body=True) from None
    if not files:
        raise problem("no_file", "No file provided: send one image as multipart/form-data.")
    first = next(iter(files.values()))
    data = await trio.to_thread.run_sync(first.read, MAX_FILE_BYTES + 1)
    if not data:
        raise problem("no_file", "The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise _too_large()
    service = images()
    uid = user_id()
    result = await service.upload(uid, data, first.filename)  # ImageRejected is a Problem
    if isinstance(result, QuotaExceeded):
        raise problem(
            "quota_exceeded",
            f"Storage limit reached ({format_bytes(result.used_bytes)} / "
            f"{format_bytes(result.quota_bytes)}). Export your entries to free up space.",
            details={
                "used_bytes": result.used_bytes,
                "quota_bytes": result.quota_bytes,
                "remaining_bytes": result.remaining_bytes,
                "file_bytes": result.file_bytes,
            },
        )
    body = image_json(result)
    return body, 201, {"Location": body["url"]}


@storage_blueprint.get("/storage")
@STORAGE
@authenticated
async def storage() -> dict[str, int]:
    """``{used_bytes, quota_bytes, remaining_bytes, image_count}``."""
    return await images().usage(user_id())


@storage_blueprint.get("/images/<uuid:image_id>")
@STORAGE
@authenticated
async def get_image(image_id: uuid.UUID) -> Response:
    """The image, to its owner only (bearer or the ``access_token`` cookie, so ``<img>`` works)."""
    found = await images().read(user_id(), str(image_id))
    if found is None:
        raise not_found("image")
    response = Response(found.data, content_type=found.mime_type)
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    response.headers["ETag"] = f'"{image_id}"'
    return response


@storage_blueprint.delete("/images/<uuid:image_id>")
@STORAGE
@authenticated
async def delete_image(image_id: uuid.UUID) -> dict[str, bool]:
    """Delete the image and free its quota."""
    if not await images().delete(user_id(), str(image_id)):
        raise not_found("image")
    return {"deleted": True}
