"""Image bombs are refused before they are decoded; decodes are bounded in size and number."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
import trio
from PIL import Image

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock
from testudo.journal import images, uploads

from .images import gif_bomb, png_bytes

UPLOAD = "/api/v1/journal/upload"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full decode (``Image.load``) of an opened file (not of images the test draws)."""
    seen: list[str] = []
    original = Image.Image.load

    def spy(self: Image.Image) -> Any:
        if self.format is not None:
            seen.append(f"{self.format} {self.size}")
        return original(self)

    monkeypatch.setattr(Image.Image, "load", spy)
    return seen


async def test_an_animated_bomb_is_refused_without_being_decoded(
    http: httpx.AsyncClient, clock: ManualClock, decodes: list[str]
) -> None:
    bomb = gif_bomb()
    assert len(bomb) < 200_000  # small on the wire, 20 million pixels decoded
    session = await sign_in(http, Wallet(), clock.now())
    response = await http.post(
        UPLOAD, files={"file": ("cat.gif", bomb, "image/gif")}, headers=session.bearer()
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "too_large"
    assert decodes == []


async def test_a_full_quota_is_answered_before_decoding(
    http: httpx.AsyncClient, service: Running, clock: ManualClock, decodes: list[str]
) -> None:
    journal = service.system.journal
    assert journal is not None
    session = await sign_in(http, Wallet(), clock.now())
    journal.images.quota_bytes = 0
    response = await http.post(
        UPLOAD, files={"file": ("a.png", png_bytes(), "image/png")}, headers=session.bearer()
    )
    assert response.status_code == 413 and response.json()["error"] == "quota_exceeded"
    assert decodes == []


async def test_concurrent_uploads_decode_at_most_two_at_once(
    http: httpx.AsyncClient, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    active, peak, lock = [0], [0], threading.Lock()
    original = images.clean_image

    def counted(data: bytes, limits: images.Limits = images.LIMITS) -> images.CleanImage:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.05)  # overlap the decodes; nothing is measured on this
            return original(data, limits)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(uploads, "clean_image", counted)
    session = await sign_in(http, Wallet(), clock.now())
    statuses: list[int] = []

    async def one(i: int) -> None:
        response = await http.post(
            UPLOAD,
            files={"file": (f"{i}.png", png_bytes(64 + i), "image/png")},
            headers=session.bearer(),
        )
        statuses.append(response.status_code)

    async with trio.open_nursery() as nursery:
        for i in range(6):
            nursery.start_soon(one, i)
    assert statuses == [201] * 6
    assert peak[0] == uploads.DECODES == 2
