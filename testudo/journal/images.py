"""Checking and cleaning uploaded images (pure, CPU-bound: call from a worker thread).

The format comes from the file's first bytes, never from the declared content type or the
file name; only PNG, JPEG, WEBP and GIF are accepted and Pillow is told to use only that
decoder. Dimensions are checked from the header before anything is decoded (a decompression
bomb is refused before it costs memory; ``Image.MAX_IMAGE_PIXELS`` stays on as a second net).
The image is then decoded and encoded again from its pixels, which drops every metadata block
(EXIF with GPS positions, XMP, ICC profiles, comments) and anything appended to the file.
"""

from __future__ import annotations

import io

import attrs
from PIL import Image, ImageOps, ImageSequence

from testudo.problems import Problem

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 16_000_000  # one frame (a 4K screenshot is 8.3 million)
MAX_TOTAL_PIXELS = 16_000_000  # pixels times frames: what decoding holds in memory at once
MAX_FRAMES = 300
KEEP_INFO = ("transparency", "duration", "loop", "background")


@attrs.frozen
class Limits:
    """What one decode may cost: decoded pixels per frame, pixels times frames, frames.

    Decoding keeps every frame (up to 4 bytes a pixel) plus the copy being encoded, so
    ``max_total_pixels`` bounds the memory of one decode (16 million: about 64 MiB of pixels,
    twice that while re-encoding); the service also bounds how many decodes run at once.
    """

    max_pixels: int = MAX_PIXELS
    max_total_pixels: int = MAX_TOTAL_PIXELS
    max_frames: int = MAX_FRAMES


LIMITS = Limits()


@attrs.frozen
class Format:
    pillow: str
    mime: str
    extension: str


FORMATS = {
    "PNG": Format("PNG", "image/png", "png"),
    "JPEG": Format("JPEG", "image/jpeg", "jpg"),
    "WEBP": Format("WEBP", "image/webp", "webp"),
    "GIF": Format("GIF", "image/gif", "gif"),
}


@attrs.frozen
class ImageRejected(Problem):
    """A :class:`~testudo.problems.Problem` of an upload that is not an acceptable image
    (``invalid_type``, ``too_large``)."""


@attrs.frozen
class CleanImage:
    format: Format
    data: bytes
    width: int
    height: int
    frames: int


def sniff(data: bytes) -> Format | None:
    """The format named by the file's magic bytes, if it is one we accept."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FORMATS["PNG"]
    if data.startswith(b"\xff\xd8\xff"):
        return FORMATS["JPEG"]
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return FORMATS["GIF"]
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return FORMATS["WEBP"]
    return None


def _unsupported() -> ImageRejected:
    return ImageRejected("invalid_type", "Only PNG, JPG, WEBP and GIF images are accepted.")


def _fresh(frame: Image.Image) -> Image.Image:
    """A copy of the pixels with only the display-relevant info kept."""
    copy = frame.copy()
    copy.info = {k: frame.info[k] for k in KEEP_INFO if k in frame.info}
    return copy


def _encode(image: Image.Image, fmt: Format, frames: int) -> bytes:
    out = io.BytesIO()
    if fmt.pillow == "JPEG":
        upright = ImageOps.exif_transpose(image)  # keep how it looked, drop the EXIF
        clean = _fresh(upright if upright is not None else image)
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90)
    elif frames > 1:
        sequence = [_fresh(f) for f in ImageSequence.Iterator(image)]
        extra: dict[str, object] = {}
        if fmt.pillow == "WEBP":
            extra["quality"] = 90
        sequence[0].save(
            out,
            fmt.pillow,
            save_all=True,
            append_images=sequence[1:],
            duration=[f.info.get("duration", 100) for f in sequence],
            loop=image.info.get("loop", 0),
            **extra,
        )
    elif fmt.pillow == "WEBP":
        _fresh(image).save(out, "WEBP", quality=90)
    else:
        _fresh(image).save(out, fmt.pillow)
    return out.getvalue()


def _check_size(width: int, height: int, frames: int, limits: Limits) -> None:
    """Refuse from the header alone what would cost too much to decode."""
    if width <= 0 or height <= 0:
        raise _unsupported()
    if width * height > limits.max_pixels:
        raise ImageRejected(
            "too_large", f"Image is {width}x{height} pixels; at most {limits.max_pixels:,}."
        )
    if frames > limits.max_frames or width * height * frames > limits.max_total_pixels:
        raise ImageRejected(
            "too_large",
            f"The animation has {frames} frames of {width}x{height}: at most "
            f"{limits.max_total_pixels:,} pixels in all frames together.",
        )


def clean_image(data: bytes, limits: Limits = LIMITS) -> CleanImage:
    """Validate ``data`` and return it re-encoded without metadata; raise ImageRejected."""
    if len(data) > MAX_FILE_BYTES:
        raise ImageRejected("too_large", "File exceeds 5MB limit.")
    fmt = sniff(data)
    if fmt is None:
        raise _unsupported()
    try:
        with Image.open(io.BytesIO(data), formats=[fmt.pillow]) as image:
            width, height = image.size
            _check_size(width, height, 1, limits)  # before counting frames (which reads them)
            frames = int(getattr(image, "n_frames", 1))
            _check_size(width, height, frames, limits)
            image.load()
            encoded = _encode(image, fmt, frames)
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise ImageRejected("too_large", "Image dimensions are too large.") from None
    except (OSError, SyntaxError, ValueError, TypeError, EOFError, MemoryError):
        raise ImageRejected("invalid_type", "The file is not a readable image.") from None
    if len(encoded) > MAX_FILE_BYTES:
        raise ImageRejected("too_large", "The image exceeds 5MB once re-encoded.")
    return CleanImage(fmt, encoded, width, height, frames)
