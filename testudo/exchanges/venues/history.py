"""What a venue module provides for history import: streams of fills, paged.

An import reads an account's fills stream by stream (Binance: one stream per symbol, as its
trade list needs a symbol; Hyperliquid: one stream, ``*``, for the whole account). Each stream
is read page by page; every page is one exchange request in the account actor's worker thread,
and carries the *watermark* to save with it, so a later run (or a retry after a crash)
continues from where this one stopped. The importer (:mod:`testudo.imports.runner`) is the
same for every venue: it only calls the methods below.

A venue whose fills are read per symbol but can be listed account-wide (Bybit, OKX, WOO X)
reads only the symbols the account traded: :func:`traded_ids` pages through the account-wide
list collecting market ids, :func:`traded_streams` makes the streams of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import attrs

from testudo.exchanges.models import Fill
from testudo.money import to_decimal

DAY_MS = 86_400_000
# How far back a venue with one stream per traded symbol discovers its streams: Testudo's
# import range (the importer's lookback).
DISCOVERY_DAYS = 90
MAX_DISCOVERY_PAGES = 2000  # account-wide pages one discovery reads at the most

State = TypeVar("State")


class BadFill(ValueError):
    """A row the exchange sent could not be read as a fill."""


@attrs.frozen
class HistoryFill:
    """A fill, and the position before it when the venue tells (Hyperliquid does)."""

    fill: Fill
    start_position: Decimal | None = None


@attrs.frozen
class Watermark:
    """Where a stream's import stopped: the last fill id and/or the time scanned up to."""

    last_fill_id: str | None = None
    last_time: dt.datetime | None = None


@attrs.frozen
class Page:
    """One page of a stream: its fills, what to save, and how to go on."""

    fills: tuple[HistoryFill, ...]
    fetched: int  # rows the exchange returned
    skipped: int  # rows that are not perpetual fills (spot, ...)
    errors: int  # rows that could not be read
    watermark: Watermark | None  # saved with the page (None: nothing new to save)
    window: Mapping[str, Any]  # what the page covered, for progress events
    done: bool
    state: Any = None  # the paging state of the next page


@attrs.frozen
class Stream:
    """What a page function needs to know about the account."""

    name: str  # a Testudo symbol, or ``*`` for the whole account
    market_id: str | None = None  # the venue's id of the symbol, for per-symbol streams
    wallet: str | None = None  # the account's wallet, for venues keyed by it


def ms_to_datetime(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def datetime_to_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def decimal_of(row: Mapping[str, Any], key: str) -> Decimal:
    """A finite Decimal from ``row[key]`` (:class:`BadFill` otherwise)."""
    value = to_decimal(row.get(key))
    if value is None or not value.is_finite():
        raise BadFill(f"missing or invalid {key}")
    return value


def parse_rows(rows: list[dict[str, Any]], parse: Any) -> tuple[tuple[HistoryFill, ...], int, int]:
    """``parse(row)`` each row: (fills, rows skipped (parse gave None), rows unreadable)."""
    fills: list[HistoryFill] = []
    skipped = errors = 0
    for row in rows:
        try:
            item = parse(row)
        except BadFill:
            errors += 1
            continue
        if item is None:
            skipped += 1
        else:
            fills.append(item)
    return tuple(fills), skipped, errors


def traded_ids(
    first: State,
    more: Callable[[State], bool],
    read: Callable[[State], tuple[Iterable[str], State]],
) -> set[str]:
    """The market ids an account-wide discovery finds (worker thread): from the paging state
    ``first``, while ``more(state)``, ``read(state)`` one page (the market ids of its rows,
    and the next state); :data:`MAX_DISCOVERY_PAGES` pages at the most."""
    found: set[str] = set()
    state = first
    for _ in range(MAX_DISCOVERY_PAGES):
        if not more(state):
            break
        ids, state = read(state)
        found.update(ids)
    return found


def traded_streams(
    client: Any,
    markets: Mapping[str, tuple[str, Any]],
    traded: Callable[[Any, int, int], set[str]],
) -> list[Stream]:
    """One stream per market the account traded in the last :data:`DISCOVERY_DAYS` days
    (``traded(client, start_ms, end_ms)``: their market ids), by Testudo symbol; ``markets``:
    market id -> (Testudo symbol, contract size) of the markets imported (worker thread)."""
    now = int(client.milliseconds())
    ids = traded(client, now - DISCOVERY_DAYS * DAY_MS, now)
    streams = [Stream(markets[m][0], m) for m in sorted(ids) if m in markets]
    return sorted(streams, key=lambda s: s.name)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class HistorySource(Protocol):
    """How one venue's fills are imported (see the module docstring).

    ``source`` names the journal's source of trades built from them; ``needs_opening``: the
    venue does not report the position before a fill, so the position before the first
    imported fill is computed from today's positions minus every imported fill.
    """

    @property
    def source(self) -> str: ...

    @property
    def needs_opening(self) -> bool: ...

    def streams(self, client: Any, wallet: str | None) -> list[Stream]:
        """The streams to read (worker thread)."""
        ...

    def start(self, stream: Stream, saved: Watermark | None, start_ms: int) -> Any:
        """The paging state of a stream's first page, from its saved watermark."""
        ...

    def page(self, client: Any, stream: Stream, state: Any, start_ms: int, end_ms: int) -> Page:
        """Read one page (worker thread)."""
        ...
