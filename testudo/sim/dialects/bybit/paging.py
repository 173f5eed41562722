"""Newest-first pages with Bybit's ``limit`` / ``cursor`` / ``nextPageCursor``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from testudo.sim.dialects.bybit.common import Params, integer, text
from testudo.sim.dialects.bybit.errors import invalid
from testudo.sim.dialects.bybit.ids import decode_cursor, encode_cursor

T = TypeVar("T")


def page_limit(params: Params, default: int, maximum: int) -> int:
    """``limit`` within ``[1, maximum]`` (``default`` when absent)."""
    limit = integer(params, "limit")
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise invalid("limit")
    return limit


def newest_first_page(
    rows: Sequence[T], key: Callable[[T], tuple[int, int]], params: Params, limit: int
) -> tuple[list[T], str]:
    """The page after ``cursor`` of ``rows`` (sorted newest first by ``key`` = (time, id))
    and the ``nextPageCursor`` of the page after it (``""`` on the last page)."""
    cursor_text = text(params, "cursor")
    start = 0
    if cursor_text is not None:
        cursor = decode_cursor(cursor_text)
        if cursor is None:
            raise invalid("cursor")
        while start < len(rows) and key(rows[start]) >= cursor:
            start += 1
    page = list(rows[start : start + limit])
    if start + limit >= len(rows) or not page:
        return page, ""
    time_ms, number = key(page[-1])
    return page, encode_cursor(time_ms, number)
