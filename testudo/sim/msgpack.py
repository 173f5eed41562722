"""A minimal MessagePack encoder (what Hyperliquid hashes L1 actions with).

Covers the JSON types: None, bool, int, float, str, list and dict, with the smallest
encodings, as the reference ``msgpack.packb`` produces them.
"""

from __future__ import annotations

import struct


def packb(value: object) -> bytes:
    """Encode ``value``; raise TypeError for anything JSON cannot hold."""
    out = bytearray()
    _pack(value, out)
    return bytes(out)


def _pack(value: object, out: bytearray) -> None:
    if value is None:
        out.append(0xC0)
    elif value is True:
        out.append(0xC3)
    elif value is False:
        out.append(0xC2)
    elif isinstance(value, int):
        _pack_int(value, out)
    elif isinstance(value, float):
        out.append(0xCB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        _pack_str(value.encode("utf-8"), out)
    elif isinstance(value, list | tuple):
        _pack_header(len(value), out, fix=0x90, fix_max=15, codes=(0xDC, 0xDD))
        for item in value:
            _pack(item, out)
    elif isinstance(value, dict):
        _pack_header(len(value), out, fix=0x80, fix_max=15, codes=(0xDE, 0xDF))
        for key, item in value.items():
            _pack(key, out)
            _pack(item, out)
    else:
        raise TypeError(f"cannot msgpack {type(value).__name__}")


def _pack_int(value: int, out: bytearray) -> None:
    if 0 <= value <= 0x7F:
        out.append(value)
    elif -32 <= value < 0:
        out.append(value & 0xFF)
    elif value >= 0:
        for code, fmt, limit in (
            (0xCC, ">B", 0xFF),
            (0xCD, ">H", 0xFFFF),
            (0xCE, ">I", 0xFFFFFFFF),
            (0xCF, ">Q", 0xFFFFFFFFFFFFFFFF),
        ):
            if value <= limit:
                out.append(code)
                out += struct.pack(fmt, value)
                return
        raise OverflowError("integer too large for msgpack")
    else:
        for code, fmt, limit in (
            (0xD0, ">b", -0x80),
            (0xD1, ">h", -0x8000),
            (0xD2, ">i", -0x80000000),
            (0xD3, ">q", -0x8000000000000000),
        ):
            if value >= limit:
                out.append(code)
                out += struct.pack(fmt, value)
                return
        raise OverflowError("integer too small for msgpack")


def _pack_str(data: bytes, out: bytearray) -> None:
    size = len(data)
    if size <= 31:
        out.append(0xA0 | size)
    elif size <= 0xFF:
        out += bytes((0xD9, size))
    elif size <= 0xFFFF:
        out.append(0xDA)
        out += struct.pack(">H", size)
    else:
        out.append(0xDB)
        out += struct.pack(">I", size)
    out += data


def _pack_header(
    size: int, out: bytearray, *, fix: int, fix_max: int, codes: tuple[int, int]
) -> None:
    if size <= fix_max:
        out.append(fix | size)
    elif size <= 0xFFFF:
        out.append(codes[0])
        out += struct.pack(">H", size)
    else:
        out.append(codes[1])
        out += struct.pack(">I", size)
