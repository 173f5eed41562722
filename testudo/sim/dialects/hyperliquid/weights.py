"""Request weights of Hyperliquid's REST API, as its "Rate limits and user limits" page gives them.

- Every ``/exchange`` action weighs ``1 + floor(batch_length / 40)``, ``batch_length`` being
  the length of the action's array (orders of an ``order``, cancels of a ``cancel``, ...).
- ``/info`` requests weigh 2 for ``l2Book``, ``allMids``, ``clearinghouseState``,
  ``orderStatus``, ``spotClearinghouseState`` and ``exchangeStatus``; 60 for ``userRole``;
  20 for every other request.
- Some ``/info`` requests add weight for what they return: one unit per 20 items for
  ``recentTrades``, ``historicalOrders``, ``userFills``, ``userFillsByTime``,
  ``fundingHistory``, ``userFunding``, ``nonUserFundingUpdates``, ``twapHistory``,
  ``userTwapSliceFills``, ``userTwapSliceFillsByTime``, ``delegatorHistory``,
  ``delegatorRewards``, ``validatorStats``; one per 60 items for ``candleSnapshot``.

All of it counts against one per-IP budget of 1200 per minute.
"""

from __future__ import annotations

from collections.abc import Mapping

LIGHT_INFO = frozenset(
    {
        "l2Book",
        "allMids",
        "clearinghouseState",
        "orderStatus",
        "spotClearinghouseState",
        "exchangeStatus",
    }
)
HEAVY_INFO: Mapping[str, int] = {"userRole": 60}
DEFAULT_INFO_WEIGHT = 20
LIGHT_INFO_WEIGHT = 2
ITEMS_PER_EXTRA: Mapping[str, int] = {
    **{
        kind: 20
        for kind in (
            "recentTrades",
            "historicalOrders",
            "userFills",
            "userFillsByTime",
            "fundingHistory",
            "userFunding",
            "nonUserFundingUpdates",
            "twapHistory",
            "userTwapSliceFills",
            "userTwapSliceFillsByTime",
            "delegatorHistory",
            "delegatorRewards",
            "validatorStats",
        )
    },
    "candleSnapshot": 60,
}
BATCH_FIELDS = ("orders", "cancels", "modifies")
ACTIONS_PER_EXTRA = 40


def info_weight(kind: object) -> int:
    """Base weight of an ``/info`` request of type ``kind`` (unknown types weigh 20)."""
    if not isinstance(kind, str):
        return DEFAULT_INFO_WEIGHT
    if kind in LIGHT_INFO:
        return LIGHT_INFO_WEIGHT
    return HEAVY_INFO.get(kind, DEFAULT_INFO_WEIGHT)


def info_extra_weight(kind: object, items: int) -> int:
    """Weight an ``/info`` answer of ``items`` entries adds (one unit per complete 20 or 60)."""
    per = ITEMS_PER_EXTRA.get(kind) if isinstance(kind, str) else None
    return 0 if per is None else items // per


def batch_length(action: object) -> int:
    """Length of the array an action batches (0 for an action without one)."""
    if not isinstance(action, dict):
        return 0
    for field in BATCH_FIELDS:
        value = action.get(field)
        if isinstance(value, list):
            return len(value)
    return 0


def exchange_weight(action: object) -> int:
    """Weight of an ``/exchange`` request: ``1 + floor(batch_length / 40)``."""
    return 1 + batch_length(action) // ACTIONS_PER_EXTRA
