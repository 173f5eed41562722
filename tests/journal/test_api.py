"""The journal HTTP API: paging and cursors, notes, entries, tags, CSV, validation, isolation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal as D
from typing import Any

import httpx

from api.process import Running
from testudo.clock import ManualClock

from .support import at, insert_trade, new_user

J = "/api/v1/journal"


async def seed_trades(service: Running, user_id: str, count: int) -> list[str]:
    def work(conn: Any) -> list[str]:
        ids = []
        for i in range(count):
            net = D(i % 7 - 3)
            ids.append(
                insert_trade(
                    conn,
                    user_id,
                    opened_at=at(2, 1) + dt.timedelta(hours=i // 2, minutes=-i - 1),
                    closed_at=at(2, 1) + dt.timedelta(hours=i // 2),  # ties on closed_at
                    net_pnl=net,
                    realized_pnl=net,
                    r_multiple=None if i % 3 == 0 else net / 2,
                    side="LONG" if i % 2 else "SHORT",
                    notes='=HYPERLINK("http://x")' if i == 0 else None,
                )
            )
        return ids

    result: list[str] = await service.system.db.run(work)
    return result


async def test_offset_pages_and_cursor_paging_are_stable(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await new_user(http, clock.now())
    auth = session.bearer()
    ids = await seed_trades(service, session.user["id"], 23)

    for sort in ("closed_at", "net_pnl", "r_multiple", "duration_secs"):
        for order in ("asc", "desc"):
            seen: list[str] = []
            cursor = None
            while True:
                params = {"sort": sort, "order": order, "limit": "5"}
                if cursor:
                    params["cursor"] = cursor
                body = (await http.get(f"{J}/trades", headers=auth, params=params)).json()
                assert body["total"] == 23
                seen += [t["id"] for t in body["trades"]]
                cursor = body["next_cursor"]
                assert body["has_more"] == (cursor is not None)
                if cursor is None:
                    break
            assert sorted(seen) == sorted(ids) and len(seen) == 23, (sort, order)
            offset = []
            for page in range(1, 6):
                body = (
                    await http.get(
                        f"{J}/trades",
                        headers=auth,
                        params={"sort": sort, "order": order, "limit": 5, "page": page},
                    )
                ).json()
                offset += [t["id"] for t in body["trades"]]
            assert offset == seen, (sort, order)

    # a trade closed after the first page was read: offset pages drift, the cursor does not
    page_one = (await http.get(f"{J}/trades", headers=auth, params={"limit": 5})).json()
    await service.system.db.run(
        lambda conn: insert_trade(
            conn, session.user["id"], opened_at=at(20, 0), closed_at=at(20, 1)
        )
    )
    by_cursor = (
        await http.get(
            f"{J}/trades", headers=auth, params={"cursor": page_one["next_cursor"], "limit": 5}
        )
    ).json()
    by_offset = (await http.get(f"{J}/trades", headers=auth, params={"page": 2, "limit": 5})).json()
    assert by_offset["trades"][0]["id"] == page_one["trades"][-1]["id"]  # seen twice
    assert by_cursor["trades"][0]["id"] not in {t["id"] for t in page_one["trades"]}
    assert by_cursor["total"] == 24

    # limit is clamped, a cursor of another sort is refused, garbage too
    body = (await http.get(f"{J}/trades", headers=auth, params={"limit": 1000})).json()
    assert body["limit"] == 100 and len(body["trades"]) == 24
    first = (await http.get(f"{J}/trades", headers=auth, params={"limit": 2})).json()
    other = await http.get(
        f"{J}/trades", headers=auth, params={"cursor": first["next_cursor"], "sort": "net_pnl"}
    )
    assert other.status_code == 400 and other.json()["error"] == "invalid_cursor"
    bad = await http.get(f"{J}/trades", headers=auth, params={"cursor": "!!!"})
    assert bad.status_code == 400
    for params in (
        {"date_from": "yesterday"},
        {"side": "up"},
        {"sort": "fees"},
        {"account": "nope"},
        {"date_from": "2026-03-05", "date_to": "2026-03-01"},
    ):
        wrong = await http.get(f"{J}/trades", headers=auth, params=params)
        assert wrong.status_code == 422, params
        assert wrong.json()["error"] == "validation_error"
        wrong = await http.get(f"{J}/analytics/overview", headers=auth, params=params)
        assert wrong.status_code == 422 or "sort" in params, params

    # CSV: same filter, every row, formula-looking text neutralised
    export = await http.get(f"{J}/trades.csv", headers=auth, params={"side": "long"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 12 and {r["side"] for r in rows} == {"LONG"}
    everything = list(
        csv.DictReader(io.StringIO((await http.get(f"{J}/trades.csv", headers=auth)).text))
    )
    assert len(everything) == 24
    assert [r["notes"] for r in everything if r["notes"]] == ['\'=HYPERLINK("http://x")']


async def test_notes_entries_tags_and_isolation(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    alice = await new_user(http, clock.now())
    bob = await new_user(http, clock.now())
    a, b = alice.bearer(), bob.bearer()
    (trade,) = await seed_trades(service, alice.user["id"], 1)

    # notes
    patched = await http.patch(f"{J}/trades/{trade}/notes", headers=a, json={"notes": "# why"})
    assert patched.status_code == 200 and patched.json()["notes"] == "# why"
    too_long = await http.patch(f"{J}/trades/{trade}/notes", headers=a, json={"notes": "x" * 20001})
    assert too_long.status_code == 422

    # entries: create, validate, link, list, update (type kept when omitted), delete
    created = await http.post(
        f"{J}/entries",
        headers=a,
        json={
            "title": "Plan",
            "body": "**long** above 100",
            "entry_type": "pre-trade",
            "trade_id": trade,
            "entry_date": "2026-03-02",
        },
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["entry_type"], entry["trade_id"], entry["entry_date"]) == (
        "pre-trade",
        trade,
        "2026-03-02",
    )
    for body in (
        {"title": "  ", "body": "x"},
        {"title": "t", "body": "x", "entry_type": "memo"},
        {"title": "t"},
    ):
        assert (await http.post(f"{J}/entries", headers=a, json=body)).status_code == 422
    foreign = await http.post(
        f"{J}/entries", headers=b, json={"title": "t", "body": "x", "trade_id": trade}
    )
    assert foreign.status_code == 404
    updated = await http.put(
        f"{J}/entries/{entry['id']}", headers=a, json={"title": "Plan B", "body": "short"}
    )
    assert updated.json()["entry_type"] == "pre-trade" and updated.json()["title"] == "Plan B"
    assert updated.json()["trade_id"] == trade
    unlinked = await http.put(
        f"{J}/entries/{entry['id']}",
        headers=a,
        json={"title": "Plan B", "body": "short", "trade_id": None},
    )
    assert unlinked.json()["trade_id"] is None
    await http.put(
        f"{J}/entries/{entry['id']}",
        headers=a,
        json={"title": "Plan B", "body": "short", "trade_id": trade},
    )
    await http.post(
        f"{J}/entries",
        headers=a,
        json={"title": "Review", "body": "ok", "entry_type": "daily-review"},
    )
    listed = (await http.get(f"{J}/entries", headers=a)).json()
    assert listed["total"] == 2 and listed["entries"][0]["title"] == "Review"
    by_trade = (await http.get(f"{J}/entries", headers=a, params={"trade_id": trade})).json()
    assert [e["id"] for e in by_trade["entries"]] == [entry["id"]]
    detail = (await http.get(f"{J}/trades/{trade}", headers=a)).json()
    assert [e["id"] for e in detail["entries"]] == [entry["id"]] and detail["notes"] == "# why"

    # tags: create, duplicate (case-insensitive) 409, rename, validation, link, delete unlinks
    tag = await http.post(f"{J}/tags", headers=a, json={"name": "Breakout", "color": "#22c55e"})
    assert tag.status_code == 201
    tag_id = tag.json()["id"]
    dup = await http.post(f"{J}/tags", headers=a, json={"name": "breakout"})
    assert dup.status_code == 409 and dup.json()["error"] == "tag_exists"
    assert (await http.post(f"{J}/tags", headers=b, json={"name": "Breakout"})).status_code == 201
    for body in ({"name": ""}, {"name": "x", "color": "red;}"}, {"name": "a,b"}):
        assert (await http.post(f"{J}/tags", headers=a, json=body)).status_code == 422
    other = (await http.post(f"{J}/tags", headers=a, json={"name": "Range"})).json()
    clash = await http.put(f"{J}/tags/{other['id']}", headers=a, json={"name": "BREAKOUT"})
    assert clash.status_code == 409
    assert (await http.put(f"{J}/tags/{other['id']}", headers=a, json={})).status_code == 422
    recoloured = await http.put(f"{J}/tags/{other['id']}", headers=a, json={"color": "blue"})
    assert recoloured.json() == {**other, "color": "blue"}
    linked = await http.post(
        f"{J}/trades/{trade}/tags", headers=a, json={"tag_ids": [tag_id, other["id"]]}
    )
    assert [t["name"] for t in linked.json()] == ["Breakout", "Range"]
    missing = await http.post(
        f"{J}/trades/{trade}/tags", headers=a, json={"tag_id": str(uuid.uuid4())}
    )
    assert missing.status_code == 404
    assert [t["name"] for t in (await http.get(f"{J}/tags", headers=a)).json()] == [
        "Breakout",
        "Range",
    ]
    assert (await http.delete(f"{J}/tags/{tag_id}", headers=a)).json() == {"deleted": True}
    assert [
        t["name"] for t in (await http.get(f"{J}/trades/{trade}", headers=a)).json()["tags"]
    ] == ["Range"]

    # isolation: Bob sees nothing of Alice's and cannot touch it (404, not 403)
    assert (await http.get(f"{J}/trades", headers=b)).json()["total"] == 0
    assert (await http.get(f"{J}/analytics/overview", headers=b)).json()["account"][
        "total_trades"
    ] == 0
    for method, path, body in (
        ("GET", f"{J}/trades/{trade}", None),
        ("PATCH", f"{J}/trades/{trade}/notes", {"notes": "mine"}),
        ("POST", f"{J}/trades/{trade}/tags", {"tag_id": other["id"]}),
        ("DELETE", f"{J}/trades/{trade}/tags/{other['id']}", None),
        ("GET", f"{J}/entries/{entry['id']}", None),
        ("PUT", f"{J}/entries/{entry['id']}", {"title": "x", "body": "y"}),
        ("DELETE", f"{J}/entries/{entry['id']}", None),
        ("PUT", f"{J}/tags/{other['id']}", {"name": "stolen"}),
        ("DELETE", f"{J}/tags/{other['id']}", None),
    ):
        response = await http.request(method, path, headers=b, json=body)
        assert response.status_code == 404, (method, path, response.text)
    bob_tag = (await http.get(f"{J}/tags", headers=b)).json()[0]
    cross = await http.post(f"{J}/trades/{trade}/tags", headers=a, json={"tag_id": bob_tag["id"]})
    assert cross.status_code == 404
    assert (await http.get(f"{J}/entries", headers=b)).json()["total"] == 0
    assert (await http.get(f"{J}/trades/{trade}", headers=a)).json()["notes"] == "# why"

    # delete an entry; the trade's entry list follows
    assert (await http.delete(f"{J}/entries/{entry['id']}", headers=a)).json() == {"deleted": True}
    assert (await http.get(f"{J}/entries/{entry['id']}", headers=a)).status_code == 404
    assert (await http.get(f"{J}/trades/{trade}", headers=a)).json()["entries"] == []
    assert (await http.get(f"{J}/trades", headers={})).status_code == 401
