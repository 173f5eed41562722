"""Golden test: a handful of fills whose trades and every analytics figure are worked out by
hand below, checked through the HTTP API.

The fills (March 2026, UTC; the 2nd is a Monday):

BTC_USDT, long with a scale-in and two partial closes (T1)::

    Mon 09:00 buy 1 @ 100 (fee .1)   09:30 buy 1 @ 110 (.1)
    Mon 10:00 sell .5 @ 120 (.05)    12:00 sell 1.5 @ 130 (.15)
    qty 2, entry 105, exit 127.5, P&L .5x15 + 1.5x25 = 45, fees .4, net 44.6, 3 h

BTC_USDT, short then a flip to long (T2, T3)::

    Tue 08:00 sell 1 @ 100 (.1)      08:30 buy 3 @ 104 (.3): closes 1, opens 2 long
    T2 short 1, 100 -> 104, P&L -4, fees .1 + .3/3 = .2, net -4.2, 30 min
    Tue 14:00 sell 2 @ 104 (.2)
    T3 long 2, 104 -> 104, P&L 0, fees .2 + .2 = .4, net -.4, 5.5 h  (a break-even exit)

ETH_USDT short (T4)::

    Wed 10:00 sell 2 @ 50 (.05)      16:00 buy 2 @ 45 (.05)
    P&L 10, fees .1, net 9.9, 6 h

ETH_USDT long placed by Testudo (T5, recorded from its trade group with stop and risk)::

    Mon 9th 10:00 -> 11:00, 1 @ 40 -> 38, fees .1, stop 38.5, risk 2
    P&L -2, net -2.1, R = -2.1 / 2 = -1.05, setup "Breakout"
"""

from __future__ import annotations

import uuid
from decimal import Decimal as D
from typing import Any

import httpx

from api.process import Running
from testudo.clock import ManualClock
from testudo.imports.store import store_trades
from testudo.journal.linking import GroupClose, record_closed_group
from testudo.journal.roundtrips import reconstruct

from .support import at, fill, new_user

FILLS = [
    fill("1", "BTC_USDT", "buy", "1", "100", "0.1", at(2, 9)),
    fill("2", "BTC_USDT", "buy", "1", "110", "0.1", at(2, 9, 30)),
    fill("3", "BTC_USDT", "sell", "0.5", "120", "0.05", at(2, 10)),
    fill("4", "BTC_USDT", "sell", "1.5", "130", "0.15", at(2, 12)),
    fill("5", "BTC_USDT", "sell", "1", "100", "0.1", at(3, 8)),
    fill("6", "BTC_USDT", "buy", "3", "104", "0.3", at(3, 8, 30)),
    fill("7", "BTC_USDT", "sell", "2", "104", "0.2", at(3, 14)),
    fill("8", "ETH_USDT", "sell", "2", "50", "0.05", at(4, 10)),
    fill("9", "ETH_USDT", "buy", "2", "45", "0.05", at(4, 16)),
]


async def seed(service: Running, user_id: str) -> None:
    trips = reconstruct(FILLS).trips
    assert len(trips) == 4
    close = GroupClose(
        user_id=user_id,
        trade_group_id=str(uuid.uuid4()),
        exchange_account_id=None,
        exchange="binance",
        symbol="ETH_USDT",
        side="buy",
        entry_price=D(40),
        exit_price=D(38),
        quantity=D(1),
        fees=D("0.1"),
        opened_at=at(9, 10),
        closed_at=at(9, 11),
        stop_price=D("38.5"),
        risk_amount=D(2),
        setup_tag="Breakout",
        close_reason="stop_loss",
    )

    def work(conn: Any) -> None:
        assert store_trades(conn, user_id, None, "import_ccxt", trips) == 4  # type: ignore[arg-type]
        assert record_closed_group(conn, close).created

    await service.system.db.run(work)


async def get(http: httpx.AsyncClient, headers: dict[str, str], path: str, **params: str) -> Any:
    response = await http.get(f"/api/v1/journal{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_golden_trades_and_analytics(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await new_user(http, clock.now())
    auth = session.bearer()
    await seed(service, session.user["id"])

    # ---- the trades
    listed = await get(http, auth, "/trades", sort="closed_at", order="asc")
    assert listed["total"] == 5
    rows = [
        (
            t["symbol"],
            t["side"],
            t["quantity"],
            t["entry_price"],
            t["exit_price"],
            t["realized_pnl"],
            t["fees"],
            t["net_pnl"],
            t["r_multiple"],
            t["duration_secs"],
        )
        for t in listed["trades"]
    ]
    assert rows == [
        ("BTC_USDT", "LONG", "2", "105", "127.5", "45", "0.4", "44.6", None, 10800),
        ("BTC_USDT", "SHORT", "1", "100", "104", "-4", "0.2", "-4.2", None, 1800),
        ("BTC_USDT", "LONG", "2", "104", "104", "0", "0.4", "-0.4", None, 19800),
        ("ETH_USDT", "SHORT", "2", "50", "45", "10", "0.1", "9.9", None, 21600),
        ("ETH_USDT", "LONG", "1", "40", "38", "-2", "0.1", "-2.1", "-1.05", 3600),
    ]
    assert listed["trades"][0]["realized_pnl_pct"] == "21.42857143"  # 45 / 210
    assert listed["trades"][4]["risk_amount"] == "2" and listed["trades"][4]["stop_price"] == "38.5"
    assert listed["trades"][4]["source"] == "testudo"

    # ---- overview
    overview = await get(http, auth, "/analytics/overview")
    assert overview["account"] == {
        "total_trades": 5,
        "total_pnl": "49",
        "total_fees": "1.2",
        "net_pnl": "47.8",
    }
    perf = overview["performance"]
    assert perf == {
        "win_count": 2,
        "loss_count": 3,
        "win_rate": "40",
        "profit_factor": "8.13432836",  # 54.5 / 6.7
        "gross_profit": "54.5",
        "gross_loss": "6.7",
        "avg_win": "27.25",
        "avg_loss": "-2.23333333",
        "largest_win": "44.6",
        "largest_loss": "-4.2",
        "expectancy": "9.56",  # .4 x 27.25 - .6 x 2.2333 = 47.8 / 5
        "expectancy_r": "-1.05",
        "avg_r_multiple": "-1.05",
        "r_trade_count": 1,
        "trades_per_day": "0.83333333",  # 5 trades over 6 whole days (Mon 12:00 -> Mon 11:00)
        "avg_duration_secs": 11520,  # 57600 / 5
        "total_duration_days": 6,
    }
    risk = overview["risk"]
    assert risk == {
        "max_drawdown": "4.6",  # end-of-day curve 44.6, 40, 49.9, 47.8
        "max_drawdown_pct": "10.31390135",  # 4.6 / 44.6
        "worst_day": "-4.6",
        "best_day": "44.6",
        "worst_week": "-2.1",
        "best_week": "49.9",
        "worst_month": "47.8",
        "best_month": "47.8",
        "avg_r_multiple": "-1.05",
        "risk_of_ruin": "0.00365616",  # 0.6 ** 20 x 100
        "current_streak": -1,  # W L L W L
        "best_streak": 1,
        "worst_streak": -2,
    }

    # ---- equity curve and daily P&L
    curve = (await get(http, auth, "/analytics/equity-curve"))["data"]
    assert [
        (p["date"], p["pnl"], p["cumulative_pnl"], p["peak"], p["drawdown"], p["drawdown_pct"])
        for p in curve
    ] == [
        ("2026-03-02", "44.6", "44.6", "44.6", "0", "0"),
        ("2026-03-03", "-4.6", "40", "44.6", "-4.6", "-10.31390135"),
        ("2026-03-04", "9.9", "49.9", "49.9", "0", "0"),
        ("2026-03-09", "-2.1", "47.8", "49.9", "-2.1", "-4.20841683"),
    ]
    daily = (await get(http, auth, "/analytics/daily-pnl"))["data"]
    assert [(d["date"], d["pnl"], d["trade_count"], d["win_count"], d["fees"]) for d in daily] == [
        ("2026-03-02", "44.6", 1, 1, "0.4"),
        ("2026-03-03", "-4.6", 2, 0, "0.6"),
        ("2026-03-04", "9.9", 1, 1, "0.1"),
        ("2026-03-09", "-2.1", 1, 0, "0.1"),
    ]

    # ---- breakdowns
    symbols = (await get(http, auth, "/analytics/symbol-breakdown"))["data"]
    assert symbols == [
        {
            "symbol": "BTC_USDT",
            "trade_count": 3,
            "total_pnl": "40",
            "win_rate": "33.33333333",
            "avg_r_multiple": None,
            "expectancy": "13.33333333",
            "profit_factor": "9.69565217",
            "fees": "1",
        },
        {
            "symbol": "ETH_USDT",
            "trade_count": 2,
            "total_pnl": "7.8",
            "win_rate": "50",
            "avg_r_multiple": "-1.05",
            "expectancy": "3.9",
            "profit_factor": "4.71428571",
            "fees": "0.2",
        },
    ]
    setups = (await get(http, auth, "/analytics/setup-breakdown"))["data"]
    assert [
        (s["setup_tag"], s["trade_count"], s["total_pnl"], s["expectancy"]) for s in setups
    ] == [
        ("(untagged)", 4, "49.9", "12.475"),
        ("breakout", 1, "-2.1", "-2.1"),
    ]

    # ---- distributions
    times = (await get(http, auth, "/analytics/time-distribution"))["data"]
    assert [
        (t["day_of_week"], t["hour"], t["trade_count"], t["total_pnl"], t["avg_pnl"]) for t in times
    ] == [
        (0, 9, 1, "44.6", "44.6"),
        (0, 10, 1, "-2.1", "-2.1"),
        (1, 8, 2, "-4.6", "-2.3"),  # an average, not the original's sum
        (2, 10, 1, "9.9", "9.9"),
    ]
    durations = await get(http, auth, "/analytics/duration-profit")
    assert [(p["duration_secs"], p["pnl"]) for p in durations["data"]] == [
        (10800.0, "44.6"),
        (1800.0, "-4.2"),
        (19800.0, "-0.4"),
        (21600.0, "9.9"),
        (3600.0, "-2.1"),
    ]
    buckets = {b["bucket"]: b for b in durations["buckets"]}
    assert (buckets["15m-1h"]["trade_count"], buckets["15m-1h"]["total_pnl"]) == (1, "-4.2")
    assert (buckets["1-4h"]["trade_count"], buckets["1-4h"]["avg_pnl"]) == (2, "21.25")
    assert buckets["1-4h"]["avg_r_multiple"] == "-1.05"
    assert (buckets["4-24h"]["trade_count"], buckets["4-24h"]["win_rate"]) == (2, "50")
    returns = (await get(http, auth, "/analytics/return-distribution"))["data"]
    assert [(r["bucket"], r["count"]) for r in returns] == [
        ("-5%", 1),
        ("-4%", 1),
        ("0%", 1),
        ("10%", 1),
        ("21%", 1),
    ]
    daily_returns = await get(http, auth, "/analytics/return-distribution", basis="daily")
    # day 2: -4.6 / 44.6 = -10.3% -> -11; day 3: 9.9 / 40 = 24.75%; day 4: -2.1 / 49.9 = -4.2%
    assert [(r["bucket"], r["count"]) for r in daily_returns["data"]] == [
        ("-11%", 1),
        ("-5%", 1),
        ("24%", 1),
    ]
    scratch = await get(http, auth, "/analytics/break-even")
    assert (
        scratch["break_even_count"],
        scratch["break_even_rate"],
        scratch["net_pnl"],
        scratch["fees"],
    ) == (1, "20", "-0.4", "0.4")

    # ---- filters: inclusive date_to, side, symbol, setup, source
    async def count(**params: str) -> int:
        body = await get(http, auth, "/analytics/overview", **params)
        listed = await get(http, auth, "/trades", **params)
        assert listed["total"] == body["account"]["total_trades"]
        return int(body["account"]["total_trades"])

    assert await count(date_to="2026-03-03") == 3
    assert await count(date_from="2026-03-03", date_to="2026-03-03") == 2
    assert await count(date_to="2026-03-03T08:30:00Z") == 2
    assert await count(side="long") == 3
    assert await count(side="SHORT", symbol="btc_usdt") == 1
    assert await count(setup_tag="BREAKOUT") == 1
    assert await count(source="testudo") == 1
    assert await count(exchange="hyperliquid") == 0
    assert (await get(http, auth, "/analytics/overview", side="short"))["performance"][
        "win_rate"
    ] == "50"

    # ---- tags: link, filter (any / all), unlink, delete
    ids = [t["id"] for t in listed["trades"]]
    aplus = (
        await http.post(
            "/api/v1/journal/tags", headers=auth, json={"name": "A+", "color": "#22c55e"}
        )
    ).json()
    scalp = (await http.post("/api/v1/journal/tags", headers=auth, json={"name": "scalp"})).json()
    for trade_id, body in (
        (ids[0], {"tag_id": aplus["id"]}),
        (ids[3], {"tag_ids": [aplus["id"], scalp["id"]]}),
    ):
        linked = await http.post(f"/api/v1/journal/trades/{trade_id}/tags", headers=auth, json=body)
        assert linked.status_code == 200, linked.text
    again = await http.post(
        f"/api/v1/journal/trades/{ids[0]}/tags", headers=auth, json={"tag_id": aplus["id"]}
    )
    assert [t["name"] for t in again.json()] == ["A+"]
    assert await count(tags="a+") == 2
    assert await count(tags="A+,scalp") == 2
    assert await count(tags="A+,scalp", tag_match="all") == 1
    assert await count(tag="scalp") == 1
    tagged = await get(http, auth, "/analytics/overview", tags="a+")
    assert tagged["account"]["net_pnl"] == "54.5" and tagged["risk"]["best_streak"] == 2
    assert (await get(http, auth, "/analytics/time-distribution", tags="scalp"))["data"] == [
        {
            "day_of_week": 2,
            "hour": 10,
            "trade_count": 1,
            "total_pnl": "9.9",
            "avg_pnl": "9.9",
            "win_rate": "100",
        }
    ]
    removed = await http.delete(f"/api/v1/journal/trades/{ids[3]}/tags/{scalp['id']}", headers=auth)
    assert removed.json() == {"deleted": True}
    gone = await http.delete(f"/api/v1/journal/trades/{ids[3]}/tags/{scalp['id']}", headers=auth)
    assert gone.status_code == 404
    assert (
        await http.delete(f"/api/v1/journal/tags/{aplus['id']}", headers=auth)
    ).status_code == 200
    detail = await get(http, auth, f"/trades/{ids[3]}")
    assert detail["tags"] == []

    options = await get(http, auth, "/analytics/filter-options")
    assert options["exchanges"] == ["binance"]
    assert options["symbols"] == [
        {"symbol": "BTC_USDT", "count": 3},
        {"symbol": "ETH_USDT", "count": 2},
    ]
    assert options["sources"] == ["import_ccxt", "testudo"]
    assert options["setup_tags"] == [{"setup_tag": "breakout", "count": 1}]

    batch = await http.post(
        "/api/v1/journal/analytics/batch",
        headers=auth,
        json={"filter": {"symbol": "ETH_USDT"}, "sections": ["overview", "daily-pnl"]},
    )
    assert set(batch.json()) == {"overview", "daily-pnl"}
    # One spelling: every section of the batch is named as its own path.
    whole = await http.post("/api/v1/journal/analytics/batch", headers=auth, json={})
    assert "equity-curve" in whole.json()
    for name, section in whole.json().items():
        assert await get(http, auth, f"/analytics/{name}") == section, name
    assert batch.json()["overview"]["account"]["net_pnl"] == "7.8"
