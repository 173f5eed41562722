"""Sign-in throughput (nonce + verify + session) and the cost of authentication per request."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from api.process import Running, run_service
from tests.auth.helpers import Wallet, sign_in
from tests.support import SIWE_DOMAIN, SIWE_URI, make_settings
from testudo.auth import siwe_check
from testudo.auth.settings import AuthSettings
from testudo.auth.siwe_check import _siwe, check_siwe
from testudo.clock import SystemClock

from .harness import load, report

SIGN_INS = int(os.environ.get("BENCH_SIGN_INS", "100"))
DURATION = float(os.environ.get("BENCH_DURATION", "5"))


async def _sign_ins(http: httpx.AsyncClient, clock: SystemClock) -> tuple[float, float, list[Any]]:
    """Seconds for SIGN_INS sign-ins one at a time, then SIGN_INS at once (fresh wallets)."""
    wallets = [Wallet() for _ in range(SIGN_INS)]
    began = time.perf_counter()
    sessions = [await sign_in(http, wallet, clock.now()) for wallet in wallets]
    sequential = time.perf_counter() - began
    done: list[object] = []

    async def one(wallet: Wallet) -> None:
        done.append(await sign_in(http, wallet, clock.now()))

    began = time.perf_counter()
    async with trio.open_nursery() as crowd:
        for wallet in wallets:
            crowd.start_soon(one, wallet)
    return sequential, time.perf_counter() - began, sessions


@pytest.mark.bench
async def test_sign_in_throughput_and_auth_overhead(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SystemClock()
    settings = make_settings(db_url, tmp_path / "data")  # sign-in limits lifted
    service: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    async with httpx.AsyncClient(base_url=service.http_url, timeout=60) as http:
        with monkeypatch.context() as before:  # the check as it was: no shape check, no high-s
            before.setattr(siwe_check, "check_shape", lambda *args: None)
            before.setattr(siwe_check, "high_s", lambda signature: False)
            old_sequential, old_concurrent, _ = await _sign_ins(http, clock)
        sequential, concurrent, sessions = await _sign_ins(http, clock)
    token = sessions[0].access
    # The server shares this process: run the (blocking) load generator from a thread.
    health = await trio.to_thread.run_sync(load, service.http_url + "/api/v1/health", 32, DURATION)
    me = await trio.to_thread.run_sync(
        functools.partial(
            load,
            service.http_url + "/api/v1/auth/me",
            32,
            DURATION,
            headers=(f"Authorization: Bearer {token}",),
        )
    )
    assert health["errors"] == 0 and me["errors"] == 0
    report(
        "auth_signin",
        [
            {
                "path": f"sign-in, one at a time ({label})",
                "per_s": round(SIGN_INS / seconds, 1),
                "ms_each": round(seconds / SIGN_INS * 1000, 1),
                "after/before": round(old / seconds, 2),
            }
            for label, seconds, old in (
                ("before", old_sequential, old_sequential),
                ("after", sequential, old_sequential),
            )
        ]
        + [
            {
                "path": f"sign-in, {SIGN_INS} concurrent ({label})",
                "per_s": round(SIGN_INS / seconds, 1),
                "ms_each": round(seconds / SIGN_INS * 1000, 1),
                "after/before": round(old / seconds, 2),
            }
            for label, seconds, old in (
                ("before", old_concurrent, old_concurrent),
                ("after", concurrent, old_concurrent),
            )
        ],
        ["path", "per_s", "ms_each", "after/before"],
    )
    report(
        "auth_overhead",
        [
            {
                "path": "GET /api/v1/health",
                "rps": health["rps"],
                "p50_ms": health["p50_ms"],
                "ratio": 1.0,
            },
            {
                "path": "GET /api/v1/auth/me (bearer)",
                "rps": me["rps"],
                "p50_ms": me["p50_ms"],
                "ratio": round(me["rps"] / health["rps"], 2),
            },
        ],
        ["path", "rps", "p50_ms", "ratio"],
    )
    service.shutdown()


def _cpu(fn: Callable[[], object], repeat: int) -> float:
    """CPU seconds per call (process time, so a busy machine does not inflate it)."""
    began = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - began) / repeat


def _check_as_before(message: str, signature: str, settings: AuthSettings) -> None:
    """What the sign-in check did before the hardening: the library's ABNF parse of anything
    up to 4,096 characters, then the signature verification."""
    try:
        parsed = _siwe().SiweMessage.from_message(message[:4096])
        parsed.verify(signature, domain=settings.siwe_domain, uri=settings.siwe_uri)
    except Exception:
        return


@pytest.mark.bench
def test_hostile_sign_in_message_cost_before_and_after() -> None:
    settings = AuthSettings(SIWE_DOMAIN, SIWE_URI)
    now = SystemClock().now()
    wallet = Wallet()
    valid = wallet.message("a" * 32, now)
    signature = wallet.sign(valid)
    hostile = valid.replace("Sign in to Testudo", "x" * 3800)  # 4,096 characters
    widest = wallet.message(
        "a" * 64,
        now,
        statement="x" * 128,
        request_id="r" * 64,
        resources=["https://desk.testudo.test/" + "y" * 100],
        expiration_time="2030-01-01T00:00:00.000000Z",
        not_before="2020-01-01T00:00:00.000000Z",
    )
    rows = []
    for label, message, repeat in (
        ("hostile 4,096 characters", hostile, 2),
        ("widest message the bound lets through", widest, 15),
        ("a desk's sign-in message", valid, 40),
    ):
        before = _cpu(
            lambda m=message: _check_as_before(m, signature, settings),  # type: ignore[misc]
            repeat,
        )
        after = _cpu(lambda m=message: check_siwe(m, signature, settings, now), repeat)  # type: ignore[misc]
        rows.append(
            {
                "message": f"{label} ({len(message)} chars)",
                "before_ms": round(before * 1000, 2),
                "after_ms": round(after * 1000, 3),
                "after/before": round(after / before, 5),
            }
        )
    report("auth_hostile_message", rows, ["message", "before_ms", "after_ms", "after/before"])
    assert rows[0]["after_ms"] < rows[0]["before_ms"]
