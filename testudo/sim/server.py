"""HTTP front of the simulator: QuartTrio under hypercorn's trio worker."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import partial

import attrs
import trio
from hypercorn.config import Config as HyperConfig
from hypercorn.trio import serve
from quart import Response, request
from quart_trio import QuartTrio

from testudo.sim.accounts import Credentials
from testudo.sim.control import ControlApi, is_loopback
from testudo.sim.dialects.binance import BinanceDialect
from testudo.sim.dialects.bybit import BybitDialect
from testudo.sim.dialects.hyperliquid import HyperliquidDialect
from testudo.sim.dialects.okx import OkxDialect
from testudo.sim.dialects.wire import Dialect, WireRequest, WireResponse, json_response
from testudo.sim.dialects.woo import WooDialect
from testudo.sim.engine import Engine
from testudo.sim.faults import FaultPlan
from testudo.sim.request_log import RequestEntry
from testudo.sim.simulator import SimConfig, Simulator

log = logging.getLogger("testudo.sim")
METHODS = ["GET", "POST", "PUT", "DELETE"]


@attrs.frozen
class SimHandle:
    """A running simulator: where it listens, its state and the seeded demo account."""

    base_url: str
    simulator: Simulator
    demo: Credentials

    @property
    def engines(self) -> Mapping[str, Engine]:
        """The matching engine of each venue (``binance``, ``hyperliquid``, ``okx``, ``woo``,
        ``bybit``)."""
        return self.simulator.engines

    def exchange_url(self, exchange_id: str) -> str:
        """Base URL of one dialect, e.g. ``http://127.0.0.1:8090/binanceusdm``."""
        return f"{self.base_url}/{exchange_id}"


def dialects_for(sim: Simulator) -> dict[str, Dialect]:
    """Dialects by URL prefix (the ccxt exchange id)."""
    binance = BinanceDialect(sim)
    return {
        "binanceusdm": binance,
        "binance": binance,
        "hyperliquid": HyperliquidDialect(sim),
        "okx": OkxDialect(sim),
        "woo": WooDialect(sim),
        "bybit": BybitDialect(sim),
    }


def _to_response(wire: WireResponse) -> Response:
    return Response(
        wire.body,
        status=wire.status,
        headers=dict(wire.headers),
        content_type=wire.content_type,
    )


def create_app(sim: Simulator) -> QuartTrio:
    """The ASGI app serving every dialect and the control API."""
    app = QuartTrio("testudo.sim")
    dialects = dialects_for(sim)
    control = ControlApi(sim)

    async def read() -> WireRequest:
        body = await request.get_data()
        assert isinstance(body, bytes)
        return WireRequest(
            method=request.method,
            path="/" + request.path.lstrip("/").partition("/")[2],
            query=request.query_string.decode("latin-1"),
            body=body,
            headers=dict(request.headers),
            peer=request.remote_addr or "",
        )

    @app.route("/", methods=["GET"])
    async def index() -> Response:
        return _to_response(
            json_response(
                {
                    "simulator": "testudo",
                    "exchanges": sorted(dialects),
                    "control": "/_sim",
                }
            )
        )

    @app.route("/<path:full>", methods=METHODS)
    async def dispatch(full: str) -> Response:
        prefix = full.partition("/")[0]
        wire = await read()
        sim.settle_funding()  # funding times that passed on the clock are paid first
        if prefix == "_sim":
            if not is_loopback(request.remote_addr):
                return _to_response(json_response({"error": "control API is loopback-only"}, 403))
            return _to_response(control.handle(wire))
        dialect = dialects.get(prefix)
        if dialect is None:
            return _to_response(json_response({"error": f"unknown exchange {prefix}"}, 404))
        return _to_response(await _serve(sim, prefix, dialect, wire))

    return app


async def _serve(sim: Simulator, prefix: str, dialect: Dialect, wire: WireRequest) -> WireResponse:
    """Answer one exchange request, carrying out any fault plan first; log it."""
    keys = dialect.fault_keys(wire)
    plan = sim.faults.plan(prefix, keys, sim.clock.now_ms())
    if plan.delay_s:
        await trio.sleep(plan.delay_s)
    entry = sim.requests.record(
        prefix, wire.method, wire.path, keys, peer=wire.peer, now_ms=sim.clock.now_ms()
    )
    answer = await _carry_out(sim, plan, dialect, wire, entry)
    entry.status = answer.status
    return answer


async def _carry_out(
    sim: Simulator, plan: FaultPlan, dialect: Dialect, wire: WireRequest, entry: RequestEntry
) -> WireResponse:
    """The dialect's answer, or the fault's (after carrying the request out if asked)."""
    if plan.response is None or plan.apply_first:
        with sim.requests.serving(entry):
            handled = dialect.handle(wire)
        if plan.response is None:
            return handled
    if plan.hang_s is not None:
        await trio.sleep(plan.hang_s)
    return dialect.fault_response(plan.response, wire)


async def walk_prices(sim: Simulator, interval_s: float) -> None:
    """Advance the random walk every ``interval_s`` seconds (of trio's clock), forever."""
    while True:
        await trio.sleep(interval_s)
        sim.step()


def base_url(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts bracketed)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def serve_simulator(
    config: SimConfig, *, task_status: trio.TaskStatus[SimHandle] = trio.TASK_STATUS_IGNORED
) -> None:
    """Bind, serve until cancelled; ``task_status.started`` gets the ``SimHandle``.

    Binding happens before ``started``, so a busy port raises ``OSError`` to the caller;
    port 0 picks a free port (see ``SimHandle.base_url``).
    """
    sim = Simulator(config)
    demo = sim.create_account(config.demo_balance)
    app = create_app(sim)
    hyper = HyperConfig()
    hyper.bind = [
        f"[{config.host}]:{config.port}" if ":" in config.host else f"{config.host}:{config.port}"
    ]
    hyper.accesslog = None
    hyper.errorlog = log
    hyper.graceful_timeout = 1.0
    # Bound here, before ``started`` (a busy port raises to the caller, port 0 is resolved);
    # hypercorn's public ``serve`` takes the bound socket as ``fd://`` (a duplicate of ours).
    sock = hyper.create_sockets().insecure_sockets[0]
    try:
        sock.listen(hyper.backlog)
        port = sock.getsockname()[1]
        hyper.bind = [f"fd://{os.dup(sock.fileno())}"]
        handle = SimHandle(base_url=base_url(config.host, port), simulator=sim, demo=demo)
        async with trio.open_nursery() as nursery:
            if config.walk_interval_s:
                nursery.start_soon(walk_prices, sim, config.walk_interval_s)
            await nursery.start(partial(serve, app, hyper, mode="asgi"))
            task_status.started(handle)
    finally:
        sock.close()
