"""What the journal blueprints share: the trade-filter query string and a few helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, Field

from testudo.db.database import Conn
from testudo.journal.filters import FilterError, TradeFilter, build_filter

from .auth_guard import principal
from .context import system
from .problems import Problem, problem

T = TypeVar("T")
Text = Field(default=None, max_length=200)


class TradeFilterQuery(BaseModel):
    """The filter every list, export and analytics endpoint accepts."""

    exchange: str | None = Text
    account: str | None = Field(default=None, max_length=64, description="exchange account id")
    symbol: str | None = Text
    side: str | None = Field(default=None, max_length=10, description="LONG or SHORT")
    source: str | None = Text
    setup_tag: str | None = Text
    tags: str | list[str] | None = Field(
        default=None, description="tag names, comma-separated (or repeated)"
    )
    tag: str | None = Field(default=None, max_length=64, description="one tag name")
    tag_match: str | None = Field(default=None, max_length=3, description="any (default) or all")
    date_from: str | None = Field(default=None, max_length=40, description="YYYY-MM-DD or RFC 3339")
    date_to: str | None = Field(
        default=None, max_length=40, description="YYYY-MM-DD (inclusive) or RFC 3339"
    )

    def to_filter(self) -> TradeFilter:
        tags = ",".join(self.tags) if isinstance(self.tags, list) else self.tags
        if tags is not None and len(tags) > 2000:
            raise invalid("tags", "too long")
        try:
            return build_filter(
                exchange=self.exchange,
                account=self.account,
                symbol=self.symbol,
                side=self.side,
                source=self.source,
                setup_tag=self.setup_tag,
                tags=tags,
                tag=self.tag,
                tag_match=self.tag_match,
                date_from=self.date_from,
                date_to=self.date_to,
            )
        except FilterError as exc:
            raise invalid(exc.field, exc.message) from None


def invalid(field: str, message: str) -> Problem:
    """A 422 validation problem about one field (the same shape as schema failures)."""
    return problem(
        "validation_error",
        f"Invalid {field}: {message}.",
        errors=[{"field": field, "message": message}],
    )


def not_found(what: str) -> Problem:
    return problem("not_found", f"No such {what}.")


def user_id() -> str:
    return principal().user_id


async def run(work: Callable[[Conn], T]) -> T:
    """One transaction on the service's database."""
    return await system().db.run(work)


def clamp(value: int | None, default: int, low: int, high: int) -> int:
    return default if value is None else max(low, min(high, value))
