"""The Decision Loop's warnings: what never blocks a trade but is worth saying.

| code | when |
|---|---|
| ``prices_rounded`` | the entry, stop or a target moved to the tick grid |
| ``approaching_drawdown_limit`` | drawdown at least 80 % of the limit (and below it) |
| ``quantity_rounded`` | a requested quantity rounded down to the lot (:mod:`.sizing`) |
| ``size_above_calculated`` | a requested quantity above the calculated size (:mod:`.sizing`) |
| ``tight_stop`` / ``wide_stop`` | stop distance under 0.5 % / over 5 % of the entry |
| ``large_position`` | position value over 50 % of the equity |
| ``risk_exceeds_drawdown_headroom`` | if the stop fills, today's loss passes the daily limit |

Each function returns its warning, or None when it does not apply.
"""

from __future__ import annotations

from decimal import Decimal

from .config import RiskConfig
from .figures import DOWN, HUNDRED, ZERO, ratio, show, text
from .model import AccountState, RiskWarning, Sizing
from .sizing import drawdown_percent

TIGHT_STOP_PERCENT = Decimal("0.5")
WIDE_STOP_PERCENT = Decimal(5)
APPROACHING_DRAWDOWN = Decimal("0.8")
LARGE_POSITION_PERCENT = Decimal(50)


def prices_rounded(notes: tuple[str, ...], tick: Decimal) -> RiskWarning | None:
    """The entry, stop or a target moved to the tick grid (``notes``: "entry 1.05 → 1")."""
    if not notes:
        return None
    return RiskWarning(
        "prices_rounded",
        f"prices moved to the tick size {text(tick)}: " + ", ".join(notes),
        {"tick_size": text(tick)},
    )


def approaching_drawdown(config: RiskConfig, account: AccountState) -> RiskWarning | None:
    """Today's drawdown is at least 80 % of the limit, and below it."""
    limit = config.daily_max_drawdown_percent
    drawdown = drawdown_percent(account)
    if drawdown >= limit or drawdown < APPROACHING_DRAWDOWN * limit:
        return None
    shown = text(ratio(drawdown))
    return RiskWarning(
        "approaching_drawdown_limit",
        f"today's drawdown {shown}% is at least 80% of the limit {text(limit)}%",
        {"drawdown_percent": shown, "limit_percent": text(limit)},
    )


def stop_width(sizing: Sizing | None, entry: Decimal) -> RiskWarning | None:
    """The stop is under 0.5 % (``tight_stop``) or over 5 % (``wide_stop``) from the entry."""
    if sizing is None or sizing.stop_distance_percent is None or sizing.stop_distance is None:
        return None
    exact = DOWN.multiply(DOWN.divide(sizing.stop_distance, entry), HUNDRED)
    shown = text(sizing.stop_distance_percent)
    if exact < TIGHT_STOP_PERCENT:
        threshold = text(TIGHT_STOP_PERCENT)
        message = f"the stop is {shown}% from the entry, under {threshold}%: "
        message += "noise may stop the trade out"
        code = "tight_stop"
    elif exact > WIDE_STOP_PERCENT:
        threshold = text(WIDE_STOP_PERCENT)
        message = f"the stop is {shown}% from the entry, over {threshold}%"
        code = "wide_stop"
    else:
        return None
    details = {"stop_distance_percent": shown, "threshold_percent": threshold}
    return RiskWarning(code, message, details)


def large_position(
    account: AccountState, quantity: Decimal | None, entry: Decimal
) -> RiskWarning | None:
    """The position's value is over 50 % of the equity."""
    if quantity is None or quantity <= 0 or account.equity <= 0:
        return None
    value = DOWN.multiply(quantity, entry)
    share = DOWN.divide(DOWN.multiply(value, HUNDRED), account.equity)
    if share <= LARGE_POSITION_PERCENT:
        return None
    percent = text(ratio(share))
    return RiskWarning(
        "large_position",
        f"the position value {text(value)} is {percent}% of the equity "
        f"{text(account.equity)} (over {text(LARGE_POSITION_PERCENT)}%)",
        {
            "position_value": text(value),
            "equity": text(account.equity),
            "percent_of_equity": percent,
        },
    )


def drawdown_headroom(
    config: RiskConfig, account: AccountState, risk: Decimal | None
) -> RiskWarning | None:
    """If the stop fills, today's loss passes the daily drawdown limit."""
    limit = config.daily_max_drawdown_percent
    if risk is None or risk <= 0 or account.day_start_equity <= 0:
        return None
    if drawdown_percent(account) >= limit:
        return None
    allowed_loss = DOWN.divide(DOWN.multiply(limit, account.day_start_equity), HUNDRED)
    headroom = allowed_loss - max(-account.daily_pnl, ZERO)
    if risk <= headroom:
        return None
    shown = show(risk, up=True)
    return RiskWarning(
        "risk_exceeds_drawdown_headroom",
        f"if the stop fills, the loss {shown} takes today past "
        f"the daily drawdown limit (headroom {show(headroom)})",
        {"risk_amount": shown, "headroom": show(headroom)},
    )
