"""The simulator inside a ``testudo serve`` process (``--simulated-exchanges``).

Only the CLI (and tests) start the simulator: the service receives :func:`start_in_process` as
a plain callable, so nothing in the product imports the simulator.
"""

from __future__ import annotations

import logging

import trio

from testudo.sim.server import serve_simulator
from testudo.sim.simulator import SimConfig

log = logging.getLogger("api.process")


async def start_in_process(nursery: trio.Nursery, port: int) -> str:
    """Start the simulator on ``port`` (0: any) in ``nursery``; return its base URL.

    Raises ``OSError`` when the port is taken. The seeded demo account's credentials are
    logged (stderr, JSON) and printed in full on stdout (the banner of ``testudo sim``), so
    the offline demo can add the account and sign in to it.
    """
    from testudo.sim.cli import banner

    handle = await nursery.start(serve_simulator, SimConfig(port=port))
    demo = handle.demo
    log.info(
        "simulator started",
        extra={
            "json_fields": {
                "event": "simulator_started",
                "url": handle.base_url,
                "demo_api_key": demo.api_key,
                "demo_secret": demo.secret,
                "demo_passphrase": demo.passphrase,
                "demo_wallet": demo.wallet_address,
                "demo_wallet_private_key": demo.wallet_private_key,
            }
        },
    )
    print(banner(handle), flush=True)
    return str(handle.base_url)
