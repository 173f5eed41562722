"""JSON shapes of Hyperliquid ``/info`` responses."""

from __future__ import annotations

from decimal import Decimal

from eth_utils.crypto import keccak

from testudo.sim.engine import Engine
from testudo.sim.funding import Payment
from testudo.sim.instruments import Instrument
from testudo.sim.model import (
    CancelReason,
    Fill,
    Order,
    OrderKind,
    OrderStatus,
    Side,
    TimeInForce,
    TriggerKind,
)
from testudo.sim.money import ZERO, places_of, plain, quantize
from testudo.sim.positions import unrealized_pnl

QUANTUM = Decimal("0.00000001")
USDC_TOKEN = {
    "name": "USDC",
    "szDecimals": 8,
    "weiDecimals": 8,
    "index": 0,
    "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
    "isCanonical": True,
    "evmContract": None,
    "fullName": None,
}
_TIF = {
    TimeInForce.GTC: "Gtc",
    TimeInForce.IOC: "Ioc",
    TimeInForce.FOK: "Ioc",
    TimeInForce.POST_ONLY: "Alo",
}


def num(value: Decimal) -> str:
    """Hyperliquid's number text: plain, with at least one decimal (``"50000.0"``)."""
    text = plain(value)
    return text if "." in text else f"{text}.0"


def side_code(side: Side) -> str:
    """``B`` for bids (buys), ``A`` for asks (sells)."""
    return "B" if side is Side.BUY else "A"


def meta(engine: Engine) -> dict[str, object]:
    """``{"type": "meta"}``."""
    instruments = sorted(engine.instruments.values(), key=lambda i: i.index)
    return {
        "universe": [
            {
                "szDecimals": places_of(instrument.lot_size),
                "name": instrument.venue_symbol,
                "maxLeverage": instrument.max_leverage,
                "marginTableId": instrument.max_leverage,
            }
            for instrument in instruments
        ],
        "marginTables": [
            [
                instrument.max_leverage,
                {
                    "description": "",
                    "marginTiers": [{"lowerBound": "0.0", "maxLeverage": instrument.max_leverage}],
                },
            ]
            for instrument in instruments
        ],
    }


def asset_context(engine: Engine, instrument: Instrument, now_ms: int) -> dict[str, object]:
    """One entry of the ``metaAndAssetCtxs`` contexts list."""
    mark = engine.mark(instrument.symbol)
    bids, asks = engine.depth(instrument.symbol, 1)
    tape = [t for t in engine.tape(instrument.symbol) if t.time_ms >= now_ms - 86_400_000]
    prev = tape[0].price if tape else mark
    base_volume = sum((t.qty for t in tape), ZERO)
    notional_volume = sum((t.qty * t.price for t in tape), ZERO)
    return {
        "funding": "0.0000125",
        "openInterest": num(instrument.level_qty * 1000),
        "prevDayPx": num(prev),
        "dayNtlVlm": num(notional_volume),
        "premium": "0.0",
        "oraclePx": num(mark),
        "markPx": num(mark),
        "midPx": num((bids[0].price + asks[0].price) / 2),
        "impactPxs": [num(bids[0].price), num(asks[0].price)],
        "dayBaseVlm": num(base_volume),
    }


def clearinghouse_state(engine: Engine, account_id: int | None, now_ms: int) -> dict[str, object]:
    """``{"type": "clearinghouseState"}`` (an unknown user gets an empty account)."""
    positions: list[object] = []
    if account_id is None:
        summary_values = (ZERO, ZERO, ZERO, ZERO, ZERO)
    else:
        summary = engine.margin(account_id)
        account = engine.account(account_id)
        raw_usd = summary.wallet_balance
        for symbol, pos in account.positions.items():
            if pos.size == 0:
                continue
            instrument = engine.instruments[symbol]
            mark = engine.mark(symbol)
            leverage = engine.leverage(account_id, symbol)
            value = abs(pos.size) * mark
            pnl = unrealized_pnl(pos.size, pos.entry_price, mark)
            raw_usd -= pos.size * mark - pnl
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": instrument.venue_symbol,
                        "szi": num(pos.size),
                        "leverage": {"type": "cross", "value": leverage},
                        "entryPx": num(quantize(pos.entry_price, QUANTUM)),
                        "positionValue": num(value),
                        "unrealizedPnl": num(pnl),
                        "returnOnEquity": num(
                            quantize(pnl / (abs(pos.size) * pos.entry_price / leverage), QUANTUM)
                        ),
                        "liquidationPx": None,
                        "marginUsed": num(value / leverage),
                        "maxLeverage": instrument.max_leverage,
                        "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
                    },
                }
            )
        summary_values = (
            summary.margin_balance,
            summary.notional,
            raw_usd,
            summary.initial_margin,
            max(ZERO, summary.available),
        )
    account_value, notional, raw, used, withdrawable = summary_values
    margin_summary = {
        "accountValue": num(account_value),
        "totalNtlPos": num(notional),
        "totalRawUsd": num(raw),
        "totalMarginUsed": num(used),
    }
    return {
        "marginSummary": margin_summary,
        "crossMarginSummary": dict(margin_summary),
        "crossMaintenanceMarginUsed": num(notional * Decimal("0.0125")),
        "withdrawable": num(withdrawable),
        "assetPositions": positions,
        "time": now_ms,
    }


def order_type_name(order: Order) -> str:
    """``Limit``, ``Market``, ``Stop Market``, ``Take Profit Limit``, ..."""
    kind = "Market" if order.kind is OrderKind.MARKET else "Limit"
    if order.trigger is None:
        return kind
    prefix = "Stop" if order.trigger.kind is TriggerKind.STOP else "Take Profit"
    return f"{prefix} {kind}"


def basic_order(instrument: Instrument, order: Order) -> dict[str, object]:
    """``openOrders`` entry."""
    limit = (
        order.price if order.price is not None else (order.trigger.price if order.trigger else ZERO)
    )
    row: dict[str, object] = {
        "coin": instrument.venue_symbol,
        "side": side_code(order.side),
        "limitPx": num(limit),
        "sz": num(order.remaining),
        "oid": order.id,
        "timestamp": order.created_ms,
        "origSz": num(order.qty),
    }
    if order.client_id is not None:
        row["cloid"] = order.client_id
    return row


def frontend_order(instrument: Instrument, order: Order) -> dict[str, object]:
    """``frontendOpenOrders`` entry (also the inner order of ``orderStatus``)."""
    trigger = order.trigger
    condition = "N/A"
    if trigger is not None:
        condition = f"Price {'above' if trigger.above else 'below'} {num(trigger.price)}"
    return {
        **basic_order(instrument, order),
        "triggerCondition": condition,
        "isTrigger": trigger is not None,
        "triggerPx": num(trigger.price if trigger else ZERO),
        "children": [],
        "isPositionTpsl": order.close_position,
        "reduceOnly": order.reduce_only,
        "orderType": order_type_name(order),
        "tif": None if trigger is not None else _TIF[order.tif],
        "cloid": order.client_id,
    }


def order_status_name(order: Order) -> str:
    """Status word of ``orderStatus``."""
    if order.is_open:
        return "triggered" if order.triggered_ms is not None else "open"
    if order.status is OrderStatus.FILLED:
        return "filled"
    return {
        CancelReason.REDUCE_ONLY: "reduceOnlyCanceled",
        CancelReason.MARGIN: "marginCanceled",
        CancelReason.POSITION_CLOSED: "siblingFilledCanceled",
    }.get(order.cancel_reason or CancelReason.USER, "canceled")


def direction(fill: Fill) -> str:
    """``Open Long``, ``Close Short``, ``Long > Short``, ..."""
    start = fill.start_position
    buy = fill.side is Side.BUY
    if start == 0 or (start > 0) == buy:
        return "Open Long" if buy else "Open Short"
    if fill.qty <= abs(start):
        return "Close Short" if buy else "Close Long"
    return "Short > Long" if buy else "Long > Short"


def fill_view(instrument: Instrument, fill: Fill) -> dict[str, object]:
    """``userFills`` entry."""
    row: dict[str, object] = {
        "coin": instrument.venue_symbol,
        "px": num(fill.price),
        "sz": num(fill.qty),
        "side": side_code(fill.side),
        "time": fill.time_ms,
        "startPosition": num(fill.start_position),
        "dir": direction(fill),
        "closedPnl": num(fill.realized_pnl),
        "hash": "0x" + keccak(text=f"fill:{fill.id}").hex().removeprefix("0x"),
        "oid": fill.order_id,
        "crossed": not fill.is_maker,
        "fee": num(fill.fee),
        "tid": fill.id,
        "feeToken": fill.fee_asset,
    }
    if fill.client_id is not None and fill.client_id.startswith("0x"):
        row["cloid"] = fill.client_id
    if fill.extra_fee:
        row["builderFee"] = num(fill.extra_fee)
    return row


def funding_view(instrument: Instrument, payment: Payment) -> dict[str, object]:
    """``userFunding`` entry (``usdc`` < 0: paid; funding has no transaction hash)."""
    return {
        "delta": {
            "type": "funding",
            "coin": instrument.venue_symbol,
            "usdc": num(payment.amount),
            "szi": num(payment.size),
            "fundingRate": num(payment.rate),
            "nSamples": None,
        },
        "hash": "0x" + "0" * 64,
        "time": payment.time_ms,
    }
