"""``testudo sim``: run the exchange simulator as a standalone server."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TYPE_CHECKING

import trio

from testudo.heap import freeze_heap

if TYPE_CHECKING:  # the server (a web framework, ccxt-free but heavy) loads only to run
    from testudo.sim.server import SimHandle
    from testudo.sim.simulator import SimConfig

DEFAULT_PORT = 8090


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``testudo sim``."""
    parser.add_argument("--sim-host", default="127.0.0.1", help="address to bind")
    parser.add_argument(
        "--sim-port",
        type=int,
        default=int(os.environ.get("TESTUDO_SIM_PORT", DEFAULT_PORT)),
        help="port to bind (env TESTUDO_SIM_PORT; default 8090; 0 picks a free port)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of prices and demo keys")
    parser.add_argument(
        "--walk-interval",
        type=float,
        default=1.0,
        help="seconds between random-walk price steps (0 freezes prices)",
    )


def banner(handle: SimHandle) -> str:
    """What ``testudo sim`` prints once it listens."""
    demo = handle.demo
    balance = handle.simulator.config.demo_balance
    return "\n".join(
        [
            f"Testudo exchange simulator listening on {handle.base_url}",
            f"  Binance USD-M : {handle.exchange_url('binanceusdm')}",
            f"  Hyperliquid   : {handle.exchange_url('hyperliquid')}",
            f"  OKX           : {handle.exchange_url('okx')}",
            f"  WOO X         : {handle.exchange_url('woo')}",
            f"  Bybit         : {handle.exchange_url('bybit')}",
            f"  Control API   : {handle.base_url}/_sim (loopback only)",
            f"Demo account ({balance} USDT on Binance, OKX, WOO X and Bybit,"
            f" {balance} USDC on Hyperliquid):",
            f"  api_key            {demo.api_key}",
            f"  secret             {demo.secret}",
            f"  passphrase (OKX)   {demo.passphrase}",
            f"  wallet_address     {demo.wallet_address}",
            f"  wallet_private_key {demo.wallet_private_key}",
        ]
    )


async def _main(config: SimConfig) -> None:
    from testudo.sim.server import serve_simulator

    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            handle: SimHandle = await nursery.start(serve_simulator, config)
            freeze_heap()
            print(banner(handle), flush=True)
            async for _ in signals:
                print("Simulator stopping.", flush=True)
                nursery.cancel_scope.cancel()
                break


def run(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; return the exit status."""
    from testudo.sim.simulator import SimConfig

    config = SimConfig(
        host=args.sim_host,
        port=args.sim_port,
        seed=args.seed,
        walk_interval_s=args.walk_interval or None,
    )
    try:
        trio.run(_main, config)
    except (OSError, ExceptionGroup) as exc:
        error = _os_error(exc)
        if error is None:
            raise
        print(
            f"testudo sim: cannot listen on {args.sim_host}:{args.sim_port}: {error}",
            file=sys.stderr,
        )
        return 1
    return 0


def _os_error(exc: BaseException) -> OSError | None:
    """The ``OSError`` inside ``exc`` (possibly nested in exception groups)."""
    if isinstance(exc, OSError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _os_error(inner)
            if found is not None:
                return found
    return None
