"""Shared pieces of the OKX v5 dialect: errors, the envelope, contracts and parameters.

OKX answers every call as ``{"code": "0", "msg": "", "data": [...]}``. A refused call has
its own ``code``; a call acting on several orders (batch, algo, cancels) answers one item
per order with ``sCode`` / ``sMsg`` and a top-level ``code`` of ``"1"`` when every item
failed, ``"2"`` when only some did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs

from testudo.sim.accounts import Credentials
from testudo.sim.engine import Account, Engine
from testudo.sim.instruments import OKX, OKX_CONTRACT_VALUES, Instrument
from testudo.sim.model import Order
from testudo.sim.money import parse_decimal, plain
from testudo.sim.simulator import Simulator

SWAP = "SWAP"
INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")
LOT_SZ = Decimal("0.01")
MAX_MKT_SZ = {"BTC_USDT": Decimal(12_000), "ETH_USDT": Decimal(30_000), "SOL_USDT": Decimal(30_000)}
MAX_LMT_SZ = Decimal(100_000_000)
PAGE_LIMIT = 100
# A triggered algo order executes as a regular order with its own ``ordId``: the algo's
# engine id plus this offset (OKX ids are 19-digit numbers; both stay below 2**63).
TRIGGERED_ORDER_OFFSET = 10**18
CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
TAG = re.compile(r"^[A-Za-z0-9]{1,16}$")
ALL_FAILED = "All operations failed"
SOME_FAILED = "Bulk operation partially succeeded"


class OkxError(Exception):
    """A whole request refused: ``{"code", "msg", "data": []}`` with an HTTP status.

    ``bare`` answers the body without ``data``, as OKX's gateway does for authentication.
    """

    def __init__(self, code: str, msg: str, status: int = 400, *, bare: bool = False) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.bare = bare


class Refusal(Exception):
    """A business refusal: one item's ``sCode`` / ``sMsg`` in a batch answer, or a whole
    call's ``code`` / ``msg`` (HTTP 200) elsewhere."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg


def empty(name: str) -> OkxError:
    """A required parameter is missing (``50014``, HTTP 400)."""
    return OkxError("50014", f"Parameter {name} can not be empty")


def bad(name: str) -> Refusal:
    """A parameter has an invalid value (``51000``)."""
    return Refusal("51000", f"Parameter {name} error")


@attrs.frozen
class Envelope:
    """A whole answer: top-level code, message, data and HTTP status."""

    data: list[object]
    code: str = "0"
    msg: str = ""
    status: int = 200
    extra: Mapping[str, object] = attrs.Factory(dict)

    def body(self) -> dict[str, object]:
        """The JSON object OKX sends."""
        return {"code": self.code, "data": self.data, "msg": self.msg, **self.extra}


def batch_envelope(items: list[dict[str, object]], now_ms: int) -> Envelope:
    """Per-item results of an order call: ``code`` 0, 1 (all failed) or 2 (some failed)."""
    failed = sum(1 for item in items if item.get("sCode") != "0")
    code, msg = "0", ""
    if items and failed == len(items):
        code, msg = "1", ALL_FAILED
    elif failed:
        code, msg = "2", SOME_FAILED
    stamp = str(now_ms * 1000)
    return Envelope(list(items), code=code, msg=msg, extra={"inTime": stamp, "outTime": stamp})


@attrs.frozen
class Call:
    """One authenticated (or public) request as a handler sees it."""

    params: Mapping[str, str]
    body: object
    creds: Credentials | None

    @property
    def account_id(self) -> int:
        """The caller's account (private endpoints only)."""
        assert self.creds is not None
        return self.creds.account_id


Handler = Callable[[Call], "list[object] | Envelope"]


@attrs.frozen
class Route:
    """A handler and whether it needs the ``OK-ACCESS-*`` signature."""

    handler: Handler
    private: bool


RouteTable = dict[tuple[str, str], Route]


@attrs.frozen
class Contract:
    """An OKX swap: the engine's instrument plus contract value and size limits.

    ``sz`` on the wire counts contracts; the engine counts base units (``sz * ctVal``).
    """

    instrument: Instrument
    ct_val: Decimal
    max_mkt_sz: Decimal

    @property
    def inst_id(self) -> str:
        """``BTC-USDT-SWAP``."""
        return self.instrument.venue_symbol

    def to_base(self, sz: Decimal) -> Decimal:
        """Contracts to base units, exactly."""
        return sz * self.ct_val

    def contracts(self, qty: Decimal) -> str:
        """Base units to the wire's contract count (``"0.03"``)."""
        return plain(qty / self.ct_val)


@attrs.define
class OrderMeta:
    """What OKX remembers of an order that the engine does not: tag and algo details."""

    tag: str = ""
    algo_type: str = ""  # "conditional" or "trigger" for algo orders
    trigger_px_type: str = "last"
    close_fraction: str = ""
    cl_ord_id: str = ""  # an algo order's ``clOrdId`` when an ``algoClOrdId`` was sent too


class Venue:
    """The OKX engine, its contracts and the dialect's per-order memory, shared by every
    endpoint group."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.engine: Engine = sim.engines[OKX]
        self.contracts: dict[str, Contract] = {
            i.venue_symbol: Contract(i, OKX_CONTRACT_VALUES[i.symbol], MAX_MKT_SZ[i.symbol])
            for i in self.engine.instruments.values()
        }
        self.by_symbol = {c.instrument.symbol: c for c in self.contracts.values()}
        self.meta: dict[int, OrderMeta] = {}

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    def account(self, call: Call) -> Account:
        """The caller's ledger on OKX."""
        return self.engine.account(call.account_id)

    def contract(self, inst_id: str | None, *, name: str = "instId") -> Contract:
        """The swap named ``inst_id``; raise ``50014`` if absent, ``51001`` if unknown."""
        if not inst_id:
            raise empty(name)
        found = self.contracts.get(inst_id)
        if found is None:
            raise Refusal("51001", "Instrument ID or Spread ID doesn't exist.")
        return found

    def meta_of(self, order: Order) -> OrderMeta:
        """The dialect's memory of ``order`` (empty for an order it never saw placed)."""
        return self.meta.get(order.id) or OrderMeta()


def text(source: object, name: str) -> str | None:
    """A parameter as text (JSON numbers and booleans too); ``None`` when absent or empty."""
    if not isinstance(source, Mapping):
        return None
    value = source.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise bad(name)


def required(source: object, name: str) -> str:
    """A mandatory parameter; raise ``50014`` when it is missing."""
    value = text(source, name)
    if value is None:
        raise empty(name)
    return value


def decimal(source: object, name: str) -> Decimal | None:
    """A decimal parameter; raise ``51000`` when it is not a number."""
    raw = text(source, name)
    if raw is None:
        return None
    try:
        return parse_decimal(raw)
    except ValueError:
        raise bad(name) from None


def flag(source: object, name: str) -> bool:
    """A boolean parameter (JSON ``true`` or ``"true"``); raise ``51000`` otherwise."""
    raw = text(source, name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise bad(name)
    return raw == "true"


def integer(source: object, name: str) -> int | None:
    """A non-negative integer parameter (ids, timestamps); raise ``51000`` otherwise."""
    raw = text(source, name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise bad(name)
    return int(raw)


def page_limit(source: object) -> int:
    """``limit``: default and maximum 100 (``51000`` beyond)."""
    limit = integer(source, "limit")
    if limit is None:
        return PAGE_LIMIT
    if not 1 <= limit <= PAGE_LIMIT:
        raise bad("limit")
    return limit


def client_id(source: object, name: str) -> str | None:
    """A client order id: 1-32 case-sensitive letters and digits (``51000`` otherwise)."""
    value = text(source, name)
    if value is not None and not CL_ORD_ID.match(value):
        raise bad(name)
    return value


def tag_of(source: object) -> str:
    """The order ``tag`` (up to 16 letters and digits)."""
    value = text(source, "tag")
    if value is None:
        return ""
    if not TAG.match(value):
        raise bad("tag")
    return value


def objects(body: object, limit: int) -> list[Mapping[str, object]]:
    """The JSON array of objects a batch endpoint takes (an object counts as one item)."""
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(item, Mapping) for item in items):
        raise OkxError("50002", "Json data format error")
    if len(items) > limit:
        raise OkxError("51111", f"Maximum {limit} orders can be placed in bulk", 200)
    return [item for item in items if isinstance(item, Mapping)]
