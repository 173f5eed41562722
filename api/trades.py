"""``/api/v1/trades``: create risk-checked trade groups and manage them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from quart import Blueprint, Response, jsonify, request
from quart_schema import tag, validate_request

from actors.trading.trade_group import CancelGroup, SetBreakEven, UpdateStop, UpdateTargets
from actors.trading.trader import fingerprint
from testudo.exchanges.symbols import SYMBOL
from testudo.numbers import NotPlainDecimal, parse_plain_decimal
from testudo.sides import normalise_side
from testudo.trading.model import break_even_level
from testudo.trading.opening import TradeInput
from testudo.trading.outcomes import AwaitingReconciliation, Created, TradeOutcome

from .auth_guard import authenticated, principal
from .context import system
from .fields import Leverage, Percent, PositiveDecimal
from .problems import Answer, Problem, answer_of, problem

trades_blueprint = Blueprint("trades", __name__, url_prefix="/api/v1/trades")
TRADES = tag(["trades"])
Price = Decimal


class TakeProfit(BaseModel):
    price: PositiveDecimal
    quantity: PositiveDecimal | None = None
    order_type: Literal["limit", "market"] = "limit"


class PercentTarget(BaseModel):
    price: PositiveDecimal
    percent_to_close: Percent


class BreakEvenBody(BaseModel):
    enabled: bool
    trigger: str | None = Field(default=None, max_length=40)


class CreateTradeBody(BaseModel):
    symbol: str = Field(min_length=3, max_length=41)
    side: str = Field(min_length=3, max_length=5)
    entry_price: PositiveDecimal | None = None
    order_type: Literal["limit", "market"] = "limit"
    quantity: PositiveDecimal | None = None
    stop_loss_price: PositiveDecimal | None = None
    stop_loss: PositiveDecimal | None = None
    take_profit: list[TakeProfit] | None = Field(default=None, max_length=10)
    take_profit_targets: list[PercentTarget] | None = Field(default=None, max_length=10)
    take_profit_price: PositiveDecimal | None = None
    leverage: Leverage = Decimal(1)
    exchange_account_id: str | None = Field(default=None, max_length=64)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    break_even: bool | BreakEvenBody | None = None
    setup_tag: str | None = Field(default=None, max_length=48)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        value = value.strip().upper()
        if not SYMBOL.match(value):
            raise ValueError("symbol must look like BTC_USDT")
        return value

    @field_validator("side")
    @classmethod
    def _side(cls, value: str) -> str:
        # The words of normalise_side, without surrounding spaces (refused here, as before).
        side = normalise_side(value) if value == value.strip() else None
        if side is None:
            raise ValueError("side must be buy or sell")
        return side


class StopBody(BaseModel):
    price: PositiveDecimal


class TargetsBody(BaseModel):
    take_profit: list[TakeProfit] = Field(min_length=1, max_length=10)


def _trade_input(body: CreateTradeBody) -> TradeInput:
    if body.order_type == "limit" and body.entry_price is None:
        raise problem(
            "validation_error",
            "A limit entry needs entry_price.",
            errors=[{"field": "entry_price", "message": "required for limit entries"}],
        )
    targets: list[tuple[Decimal, Decimal | None, str]] = []
    if body.take_profit:
        targets = [(t.price, t.quantity, t.order_type) for t in body.take_profit]
    elif body.take_profit_targets:
        total = sum((t.percent_to_close for t in body.take_profit_targets), Decimal(0))
        if total > 100:
            raise problem(
                "validation_error",
                "percent_to_close adds up to more than 100.",
                errors=[{"field": "take_profit_targets", "message": "over 100 %"}],
            )
        if body.quantity is None:
            raise problem(
                "validation_error",
                "take_profit_targets with percentages need an explicit quantity.",
                errors=[{"field": "quantity", "message": "required"}],
            )
        targets = [
            (t.price, body.quantity * t.percent_to_close / 100, "limit")
            for t in body.take_profit_targets
        ]
    elif body.take_profit_price is not None:
        targets = [(body.take_profit_price, None, "limit")]
    break_even = (
        body.break_even.enabled
        if isinstance(body.break_even, BreakEvenBody)
        else bool(body.break_even)
    )
    return TradeInput(
        symbol=body.symbol,
        side=body.side,
        entry_type=body.order_type,
        entry_price=body.entry_price,
        quantity=body.quantity,
        stop_loss_price=body.stop_loss_price or body.stop_loss,
        targets=tuple(targets),
        leverage=body.leverage,
        exchange_account_id=body.exchange_account_id,
        break_even=break_even,
        setup_tag=(body.setup_tag or "").strip() or None,
    )


def answer_to(outcome: TradeOutcome) -> Answer:
    """The HTTP answer of a trade's outcome: 201 with the group, 202 while it awaits
    reconciliation, a problem's status and ``Retry-After`` from the one table."""
    if isinstance(outcome, Created):
        return Answer(201, outcome.group)
    if isinstance(outcome, AwaitingReconciliation):
        return Answer(202, outcome.body())
    return answer_of(outcome)


def _reply(result: Any) -> Any:
    if result is None:
        raise problem("not_found", "No such trade group.")
    if isinstance(result, Problem):
        raise result
    return result


@trades_blueprint.post("")
@TRADES
@authenticated
@validate_request(CreateTradeBody)
async def create_trade(data: CreateTradeBody) -> Response:
    """Run the Decision Loop; on approval open the group and place its entry (201)."""
    header_key = request.headers.get("Idempotency-Key")
    key = (header_key or data.idempotency_key or "").strip() or None
    if key is not None and len(key) > 255:
        raise problem("invalid_idempotency_key", "Idempotency-Key is at most 255 chars.")
    trade = _trade_input(data)
    raw = await request.get_json()
    outcome = await system().trades.create(principal().user_id, trade, key, fingerprint(raw))
    answer = answer_to(outcome)
    response = jsonify(answer.body)
    response.status_code = answer.status
    response.headers.update(answer.headers)
    if answer.status >= 400:
        response.content_type = "application/problem+json"
    if key is not None:
        response.headers["Idempotency-Key"] = key
    return response


@trades_blueprint.get("")
@TRADES
@authenticated
async def list_trades() -> dict[str, Any]:
    """Active trade groups (pending, active, awaiting reconciliation)."""
    return {"trades": await system().trades.list_live(principal().user_id)}


@trades_blueprint.post("/cleanup")
@TRADES
@authenticated
async def cleanup() -> dict[str, Any]:
    """Cancel ghost orders (Testudo's, owned by no live group); reconcile pending groups."""
    return await system().trades.cleanup(principal().user_id)


@trades_blueprint.get("/<group_id>")
@TRADES
@authenticated
async def get_trade(group_id: str) -> dict[str, Any]:
    """One group with every order, its decision and its event log."""
    result: dict[str, Any] = _reply(await system().trades.get(principal().user_id, group_id))
    return result


@trades_blueprint.delete("/<group_id>")
@TRADES
@authenticated
async def cancel_trade(group_id: str) -> dict[str, Any]:
    """Cancel every open order of the group; close the position at market if it is open."""
    result: dict[str, Any] = _reply(
        await system().trades.command(principal().user_id, group_id, CancelGroup())
    )
    return result


@trades_blueprint.put("/<group_id>/sl")
@TRADES
@authenticated
@validate_request(StopBody)
async def update_stop(group_id: str, data: StopBody) -> dict[str, Any]:
    """Move the stop (new stop placed before the old one is cancelled)."""
    trades = system().trades
    await trades.check_stop_change(principal().user_id, group_id, data.price)
    result: dict[str, Any] = _reply(
        await trades.command(principal().user_id, group_id, UpdateStop(data.price))
    )
    return result


@trades_blueprint.put("/<group_id>/tp")
@TRADES
@authenticated
@validate_request(TargetsBody)
async def update_targets(group_id: str, data: TargetsBody) -> dict[str, Any]:
    """Replace the take-profit targets (quantities may not exceed the position)."""
    trades = system().trades
    targets = await trades.checked_targets(
        principal().user_id,
        group_id,
        [(t.price, t.quantity, t.order_type) for t in data.take_profit],
    )
    result: dict[str, Any] = _reply(
        await trades.command(principal().user_id, group_id, UpdateTargets(targets))
    )
    return result


def _trigger_price(trigger: str) -> Decimal:
    """A break-even price trigger, checked like every decimal of a request."""
    try:
        level = break_even_level(str(parse_plain_decimal(trigger)))
    except NotPlainDecimal:
        level = None
    if level is None:
        raise problem(
            "validation_error",
            "trigger must be first_take_profit or a positive price.",
            errors=[{"field": "trigger", "message": "not first_take_profit or a positive price"}],
        )
    return level


@trades_blueprint.put("/<group_id>/breakeven")
@TRADES
@authenticated
@validate_request(BreakEvenBody)
async def break_even(group_id: str, data: BreakEvenBody) -> dict[str, Any]:
    """Toggle break-even: the stop moves to entry (plus fees) after the first take-profit
    (``trigger`` omitted or ``first_take_profit``) or once the market trades at the trigger
    price (``"52000"``: above it for a long, below for a short)."""
    trigger = (data.trigger or "first_take_profit").strip(" \t")
    if trigger != "first_take_profit":
        trigger = str(_trigger_price(trigger))
    result: dict[str, Any] = _reply(
        await system().trades.command(
            principal().user_id, group_id, SetBreakEven(data.enabled, trigger)
        )
    )
    return result
