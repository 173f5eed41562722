"""One cluster, one identity: nodes on one database share their secrets, and a node with other
secrets refuses to start, with one line, before it serves anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import attrs
import httpx
import psycopg
import pytest
import trio
from psycopg.rows import dict_row

from api.testing.desk import Desk, signed_in
from api.testing.trader import open_trader
from api.testing.venues import venue_named
from tests.service.test_cli import env, one_error_line, wait_listening
from tests.support import make_settings, on_simulator, running_service
from testudo.clock import ManualClock
from testudo.cluster import identity
from testudo.cluster.identity import Fingerprints, Recorded, jwt_fingerprint
from testudo.config import Settings
from testudo.exchanges.vault import key_id_for, load_vault, ring_path
from testudo.sim.client import SimClient

TESTUDO = [sys.executable, "-m", "testudo.cli"]
JWT = "j" * 40
MASTER = "11" * 32


def node_settings(db_url: str, data_dir: Path, sim_url: str) -> Settings:
    settings = on_simulator(make_settings(db_url, data_dir), sim_url)
    return attrs.evolve(settings, jwt_secret=JWT, master_key=MASTER)


async def test_a_token_and_a_credential_from_node_a_work_on_node_b(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, sim: SimClient
) -> None:
    clock = ManualClock()
    a_settings = node_settings(db_url, tmp_path / "a", sim.base_url)
    b_settings = node_settings(db_url, tmp_path / "b", sim.base_url)
    async with (
        running_service(nursery, a_settings, clock) as node_a,
        running_service(nursery, b_settings, clock) as node_b,
        signed_in(node_a.http_url, clock) as on_a,
    ):
        trader = await open_trader(on_a, sim, venue_named("binance"))  # sealed by node A
        async with httpx.AsyncClient(base_url=node_b.http_url, timeout=30) as http_b:
            http_b.headers.update(on_a.session.bearer())
            on_b = Desk(http_b, on_a.session, on_a.wallet)
            me = await on_b.get("/api/v1/auth/me")  # node A's token, accepted by node B
            assert on_a.user_id in str(me)
            accounts = await on_b.get("/api/v1/exchanges/accounts")
            assert trader.account_id in str(accounts)
            # node B opens the secret node A sealed: the venue answers the signed request
            tested = await on_b.post(f"/api/v1/exchanges/accounts/{trader.account_id}/test")
            assert tested, tested
            await on_b.get(f"/api/v1/exchanges/accounts/{trader.account_id}/positions")


def recorded(db_url: str) -> Recorded | None:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        return identity.read(conn)


def record(db_url: str, jwt: str, master_hex: str) -> None:
    """The cluster's identity as a first node with these secrets records it."""
    key_id = key_id_for(bytes.fromhex(master_hex))
    mine = Fingerprints(jwt_fingerprint(jwt.encode()), key_id, frozenset({key_id}))
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        assert identity.claim(conn, mine).action == "record"


def serve(db_url: str, data_dir: Path, **secrets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TESTUDO, "serve", "--http-port", "0", "--ws-port", "0", "--data-dir", str(data_dir)],
        env=env(TESTUDO_DATABASE_URL=db_url, **secrets),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        (
            {"TESTUDO_JWT_SECRET": "x" * 40, "TESTUDO_MASTER_KEY": MASTER},
            "testudo: error: this node's JWT secret differs from the cluster's: give every node "
            "the same TESTUDO_JWT_SECRET (or a copy of <data dir>/keys/jwt.key)",
        ),
        (
            {"TESTUDO_JWT_SECRET": JWT, "TESTUDO_MASTER_KEY": "22" * 32},
            "testudo: error: this node's master key ring lacks the cluster's active key "
            "{active}: give every node the same TESTUDO_MASTER_KEY (or a copy of "
            "<data dir>/keys/master-keys.json)",
        ),
        (
            {},  # secrets generated into a fresh data dir: not the cluster's
            "testudo: error: this node's JWT secret differs from the cluster's",
        ),
    ],
)
def test_a_node_with_other_secrets_refuses_to_start(
    db_url: str, tmp_path: Path, secrets: dict[str, str], expected: str
) -> None:
    record(db_url, JWT, MASTER)
    before = recorded(db_url)
    assert before is not None
    result = serve(db_url, tmp_path / "other", **secrets)
    line = one_error_line(result)  # one line, exit 2, nothing logged as listening
    assert line.startswith(expected.format(active=before.master_key_id)), line
    for secret in (*secrets.values(), JWT, MASTER):
        assert secret not in result.stderr
    assert recorded(db_url) == before


def test_a_node_with_the_cluster_secrets_records_and_starts(db_url: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*TESTUDO, "serve", "--http-port", "0", "--ws-port", "0", "--data-dir", str(tmp_path)],
        env=env(TESTUDO_DATABASE_URL=db_url, TESTUDO_JWT_SECRET=JWT, TESTUDO_MASTER_KEY=MASTER),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_listening(proc)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    found = recorded(db_url)
    assert found is not None and found.jwt == jwt_fingerprint(JWT.encode())
    assert found.master_key_id == key_id_for(bytes.fromhex(MASTER))


def test_rotate_key_moves_the_cluster_to_the_new_key(db_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    old = load_vault(shared)  # the ring every node has a copy of
    old_hex = ring_path(shared).read_text()
    record_with_ring(db_url, shared)
    rotated = subprocess.run(
        [*TESTUDO, "rotate-key", "--database-url", db_url, "--data-dir", str(shared)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stderr
    new = load_vault(shared)
    found = recorded(db_url)
    assert found is not None
    assert (found.master_key_id, found.retired) == (new.active, (old.active,))
    stale = tmp_path / "stale"  # a node that kept the ring of before the rotation
    ring_path(stale).parent.mkdir(parents=True)
    ring_path(stale).write_text(old_hex)
    result = serve(db_url, stale, TESTUDO_JWT_SECRET=JWT)
    assert f"lacks the cluster's active key {new.active}" in one_error_line(result)


def record_with_ring(db_url: str, data_dir: Path) -> None:
    vault = load_vault(data_dir)
    mine = identity.fingerprints(JWT.encode(), vault)
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        assert identity.claim(conn, mine).action == "record"


JA, JB = jwt_fingerprint(b"a" * 32), jwt_fingerprint(b"b" * 32)


@pytest.mark.parametrize(
    ("cluster", "mine", "action"),
    [
        (None, Fingerprints(JA, "k1", frozenset({"k1"})), "record"),
        (Recorded(JA, "k1"), Fingerprints(JA, "k1", frozenset({"k1"})), "keep"),
        (Recorded(JA, "k1"), Fingerprints(JB, "k1", frozenset({"k1"})), "refuse"),
        (Recorded(JA, "k1"), Fingerprints(JA, "k2", frozenset({"k2"})), "refuse"),
        # TESTUDO_MASTER_KEY changed with the old ring kept: a rotation by configuration
        (Recorded(JA, "k1"), Fingerprints(JA, "k2", frozenset({"k1", "k2"})), "advance"),
        # a node still on a key a rotation retired
        (Recorded(JA, "k2", ("k1",)), Fingerprints(JA, "k1", frozenset({"k1", "k2"})), "refuse"),
    ],
)
def test_judge(cluster: Recorded | None, mine: Fingerprints, action: str) -> None:
    assert identity.judge(cluster, mine).action == action


def test_the_fingerprint_is_keyed_and_hides_the_secret() -> None:
    import hashlib

    secret = b"s" * 40
    assert jwt_fingerprint(secret) == jwt_fingerprint(secret)
    assert jwt_fingerprint(secret) != jwt_fingerprint(b"t" * 40)
    assert hashlib.sha256(secret).hexdigest()[:32] not in jwt_fingerprint(secret)
    assert secret.decode() not in jwt_fingerprint(secret)


def test_a_new_master_key_with_the_old_ring_moves_the_cluster_and_retires_the_old(
    db_url: str,
) -> None:
    ja = jwt_fingerprint(JWT.encode())
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        assert identity.claim(conn, Fingerprints(ja, "k1", frozenset({"k1"}))).action == "record"
        conn.commit()
        moved = identity.claim(conn, Fingerprints(ja, "k2", frozenset({"k1", "k2"})))
        assert moved.action == "advance"
        conn.commit()
        assert identity.read(conn) == Recorded(ja, "k2", ("k1",))
        stale = identity.claim(conn, Fingerprints(ja, "k1", frozenset({"k1", "k2"})))
        assert stale.action == "refuse" and "k1 was replaced by k2" in stale.message
        assert identity.record_rotation(conn, "k3") is True
        assert identity.record_rotation(conn, "k3") is False
        assert identity.read(conn) == Recorded(ja, "k3", ("k1", "k2"))
