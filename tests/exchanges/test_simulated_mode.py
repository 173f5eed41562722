"""``testudo serve --simulated-exchanges``: the simulator in-process, only simulated exchanges."""

from __future__ import annotations

import functools
from pathlib import Path

import attrs
import httpx
import trio

from api.process import Running, run_service
from tests.auth.helpers import Wallet, sign_in
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.sim.embedded import start_in_process


async def test_simulated_exchanges_in_process(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        simulated_exchanges=True,
        sim_port=0,
        exchange_rate_limit=False,
    )
    service: Running = await nursery.start(
        functools.partial(
            run_service,
            settings,
            handle_signals=False,
            clock=clock,
            start_simulator=start_in_process,
        )
    )
    base = service.system.clients.base_url
    assert base is not None and base.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(base_url=service.http_url, timeout=30) as http:
        user = await sign_in(http, Wallet(), clock.now())
        supported = (await http.get("/api/v1/exchanges/supported", headers=user.bearer())).json()
        assert supported == {"exchanges": ["binance", "bybit", "okx", "hyperliquid"]}
        listed = (await http.get("/api/v1/exchanges", headers=user.bearer())).json()
        woo = next(e for e in listed["exchanges"] if e["id"] == "woo")
        assert woo["available"] is False and woo["status"] == "not_simulated"
        refused = await http.post(
            "/api/v1/exchanges/accounts",
            headers=user.bearer(),
            json={"exchange_name": "woo", "api_key": "k", "secret": "s"},
        )
        assert refused.status_code == 422 and refused.json()["error"] == "exchange_unavailable"
        async with httpx.AsyncClient(base_url=base) as sim_http:
            account = (await sim_http.post("/_sim/accounts", json={"balance": "5000"})).json()
        added = await http.post(
            "/api/v1/exchanges/accounts",
            headers=user.bearer(),
            json={
                "exchange_name": "binance",
                "api_key": account["api_key"],
                "secret": account["secret"],
            },
        )
        assert added.status_code == 201, added.text
        # OKX: the simulator's account answers its passphrase too.
        added = await http.post(
            "/api/v1/exchanges/accounts",
            headers=user.bearer(),
            json={
                "exchange_name": "okx",
                "api_key": account["api_key"],
                "secret": account["secret"],
                "passphrase": account["passphrase"],
            },
        )
        assert added.status_code == 201, added.text
    service.shutdown()
