"""Request weights of the Binance endpoints the simulator serves, as Binance documents them.

Source: the "Request Weight" of each endpoint page of the USDⓈ-M futures API
(developers.binance.com/docs/derivatives/usds-margined-futures/...). ``/fapi`` requests count
against the IP's ``REQUEST_WEIGHT`` limit (2400 per minute, reported in
``X-MBX-USED-WEIGHT-1M``); ``/sapi`` requests against the separate SAPI IP limit (12000 per
minute, ``X-SAPI-USED-IP-WEIGHT-1M``), with the weights of the wallet/margin API pages.
Placing an order (``POST /fapi/v1/order``, ``POST /fapi/v1/algoOrder``) weighs 0 on the IP
limit: it counts only against the account's order-rate limits, which are not simulated.
"""

from __future__ import annotations

from collections.abc import Mapping

FAPI = "binance"
SAPI = "binance_sapi"

# (method, path) -> weight; a pair of weights is (with symbol, without symbol).
FIXED: Mapping[tuple[str, str], int] = {
    ("GET", "/fapi/v1/ping"): 1,
    ("GET", "/fapi/v1/time"): 1,
    ("GET", "/fapi/v1/exchangeInfo"): 1,
    ("GET", "/fapi/v1/trades"): 5,
    ("GET", "/fapi/v1/aggTrades"): 20,
    ("GET", "/fapi/v3/account"): 5,
    ("GET", "/fapi/v2/account"): 5,
    ("GET", "/fapi/v2/balance"): 5,
    ("GET", "/fapi/v3/balance"): 5,
    ("GET", "/fapi/v3/positionRisk"): 5,
    ("GET", "/fapi/v2/positionRisk"): 5,
    ("GET", "/fapi/v1/leverageBracket"): 1,
    ("GET", "/fapi/v1/positionSide/dual"): 30,
    ("POST", "/fapi/v1/positionSide/dual"): 1,
    ("GET", "/fapi/v1/multiAssetsMargin"): 30,
    ("GET", "/fapi/v1/commissionRate"): 20,
    ("POST", "/fapi/v1/leverage"): 1,
    ("GET", "/fapi/v1/userTrades"): 5,
    ("GET", "/fapi/v1/income"): 30,
    ("POST", "/fapi/v1/order"): 0,
    ("DELETE", "/fapi/v1/order"): 1,
    ("GET", "/fapi/v1/order"): 1,
    ("GET", "/fapi/v1/openOrder"): 1,
    ("GET", "/fapi/v1/allOrders"): 5,
    ("DELETE", "/fapi/v1/allOpenOrders"): 1,
    ("POST", "/fapi/v1/algoOrder"): 0,
    ("DELETE", "/fapi/v1/algoOrder"): 1,
    ("GET", "/fapi/v1/algoOrder"): 1,
    ("DELETE", "/fapi/v1/algoOpenOrders"): 1,
    ("GET", "/sapi/v1/capital/config/getall"): 10,
    ("GET", "/sapi/v1/margin/allPairs"): 1,
    ("GET", "/sapi/v1/account/apiRestrictions"): 1,
}
BY_SYMBOL: Mapping[tuple[str, str], tuple[int, int]] = {
    ("GET", "/fapi/v1/ticker/24hr"): (1, 40),
    ("GET", "/fapi/v1/ticker/price"): (1, 2),
    ("GET", "/fapi/v2/ticker/price"): (1, 2),
    ("GET", "/fapi/v1/ticker/bookTicker"): (2, 5),
    ("GET", "/fapi/v1/premiumIndex"): (1, 10),
    ("GET", "/fapi/v1/openOrders"): (1, 40),
    ("GET", "/fapi/v1/openAlgoOrders"): (1, 40),
}
# GET /fapi/v1/depth: weight by ``limit`` (default 500).
DEPTH_WEIGHTS: Mapping[int, int] = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}
UNKNOWN_WEIGHT = 1


def depth_weight(limit: str | None) -> int:
    """Weight of an order-book request for ``limit`` (an invalid limit weighs the default's)."""
    if limit is None or not limit.isdigit():
        return DEPTH_WEIGHTS[500]
    return DEPTH_WEIGHTS.get(int(limit), DEPTH_WEIGHTS[500])


def request_weight(method: str, path: str, params: Mapping[str, str]) -> tuple[str, int]:
    """The budget (``binance`` for /fapi, ``binance_sapi`` for /sapi) and weight of a request."""
    budget = SAPI if path.startswith("/sapi/") else FAPI
    key = (method, path)
    if key in FIXED:
        return budget, FIXED[key]
    if key in BY_SYMBOL:
        with_symbol, without = BY_SYMBOL[key]
        return budget, with_symbol if params.get("symbol") else without
    if key == ("GET", "/fapi/v1/depth"):
        return budget, depth_weight(params.get("limit"))
    return budget, UNKNOWN_WEIGHT
