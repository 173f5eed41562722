"""Image bombs: small files that decode into a lot of memory."""

from __future__ import annotations

import io

from PIL import Image


def gif_bomb(side: int = 1600, frames: int = 8) -> bytes:
    """An animated GIF of ``frames`` frames of ``side`` x ``side`` pixels, a few KB on disk."""
    sequence = [Image.new("P", (side, side), color=i % 2) for i in range(frames)]
    out = io.BytesIO()
    sequence[0].save(
        out, "GIF", save_all=True, append_images=sequence[1:], duration=100, loop=0, optimize=False
    )
    return out.getvalue()


def png_bytes(side: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), "navy").save(out, "PNG")
    return out.getvalue()
