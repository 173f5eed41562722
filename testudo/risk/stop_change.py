"""Moving the stop of an open position (``PUT /trades/{id}/sl``): the ``stop_change`` check."""

from __future__ import annotations

from decimal import Decimal

from testudo.sides import normalise_side, position_word, protects, stop_where

from .config import RiskConfig
from .figures import raw, show, text, valid_positive
from .model import AccountState, CheckResult, failed, passed
from .sizing import risk_budget, risk_of_stop

CODE = "stop_change"


def stop_change_allowed(
    config: RiskConfig,
    account: AccountState,
    side: str,
    entry_price: Decimal,
    remaining_quantity: Decimal,
    new_stop: Decimal,
    *,
    current_stop: Decimal | None = None,
    mark_price: Decimal | None = None,
) -> CheckResult:
    """May the stop of an open position move to ``new_stop``?

    Allowed when the risk at the new stop (adverse distance from the entry times the remaining
    quantity; 0 once the stop locks in profit) is within :func:`risk_budget`, or when it is no
    larger than the risk at ``current_stop`` (tightening is always allowed, even after the
    equity has fallen). With ``mark_price`` the stop must also be on the protective side of the
    current price (long: below, short: above), or it would trigger at once.
    """
    normal = normalise_side(side)
    if normal is None:
        return failed(CODE, f"side must be buy or sell, not {side!r}")
    if not valid_positive(new_stop):
        return failed(CODE, f"the stop must be a positive number, not {raw(new_stop)}")
    if (
        mark_price is not None
        and valid_positive(mark_price)
        and not protects(normal, new_stop, mark_price)
    ):
        return failed(
            CODE,
            f"a {position_word(normal)} stop must be {stop_where(normal)} the current price "
            f"{text(mark_price)}, not {text(new_stop)}",
            text(mark_price),
            text(new_stop),
        )
    risk = risk_of_stop(normal, entry_price, new_stop, remaining_quantity)
    budget = risk_budget(config, account)
    shown, limit = show(risk, up=True), show(budget)
    if risk <= budget:
        return passed(CODE, f"risk at the new stop {shown} within the limit {limit}", limit, shown)
    if current_stop is not None and valid_positive(current_stop):
        before = risk_of_stop(normal, entry_price, current_stop, remaining_quantity)
        if risk <= before:
            return passed(
                CODE,
                f"risk at the new stop {shown} is above the limit {limit} but not above "
                f"the current {show(before, up=True)}",
                limit,
                shown,
            )
    return failed(CODE, f"risk at the new stop {shown} exceeds the limit {limit}", limit, shown)
