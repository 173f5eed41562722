"""Secrets at rest: AES-256-GCM bound to their row, key rotation that survives interruption."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from testudo.exchanges.rotation import rotate
from testudo.exchanges.vault import SealContext, VaultError, load_vault, ring_path

ALICE = SealContext("secret", "user-a", "acct-1", "binance")


def test_seal_and_open_round_trip(tmp_path: Path) -> None:
    vault = load_vault(tmp_path)
    blob = vault.seal("s3cret", ALICE)
    assert b"s3cret" not in blob
    assert vault.open(blob, vault.active, ALICE) == "s3cret"
    assert vault.seal("s3cret", ALICE) != blob  # a fresh nonce every time
    assert oct(ring_path(tmp_path).stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize(
    "moved",
    [
        SealContext("secret", "user-b", "acct-1", "binance"),  # another user
        SealContext("secret", "user-a", "acct-2", "binance"),  # another account
        SealContext("api_key", "user-a", "acct-1", "binance"),  # another field
        SealContext("secret", "user-a", "acct-1", "bybit"),  # another exchange
    ],
)
def test_a_ciphertext_moved_elsewhere_fails_to_open(tmp_path: Path, moved: SealContext) -> None:
    vault = load_vault(tmp_path)
    blob = vault.seal("s3cret", ALICE)
    with pytest.raises(VaultError):
        vault.open(blob, vault.active, moved)


def test_configured_master_key_and_bad_ones(tmp_path: Path) -> None:
    vault = load_vault(tmp_path, "11" * 32)
    assert vault.open(vault.seal("x", ALICE), vault.active, ALICE) == "x"
    for bad in ("11" * 16, "zz" * 32):
        with pytest.raises(VaultError):
            load_vault(tmp_path, bad)


def seed_accounts(db_url: str, tmp_path: Path, count: int) -> dict[str, str]:
    """Insert ``count`` accounts sealed with the current key; return id -> plaintext secret."""
    vault = load_vault(tmp_path)
    secrets: dict[str, str] = {}
    with psycopg.connect(db_url) as conn:
        user = conn.execute(
            "INSERT INTO users (wallet_address) VALUES (%s) RETURNING id::text", ("0x" + "c" * 40,)
        ).fetchone()
        assert user is not None
        for i in range(count):
            account_id = conn.execute("SELECT gen_random_uuid()::text").fetchone()[0]  # type: ignore[index]
            secret = f"secret-{i}"
            context = SealContext("secret", user[0], account_id, "binance")
            key_context = SealContext("api_key", user[0], account_id, "binance")
            conn.execute(
                "INSERT INTO exchange_accounts (id, user_id, exchange, account_name, auth_mode,"
                " api_key_enc, secret_enc, key_id, status) VALUES"
                " (%s, %s, 'binance', 'x', 'api_key', %s, %s, %s, 'active')",
                (
                    account_id,
                    user[0],
                    vault.seal(f"key-{i}", key_context),
                    vault.seal(secret, context),
                    vault.active,
                ),
            )
            secrets[account_id] = secret
    return secrets


def read_all(db_url: str, tmp_path: Path) -> dict[str, str]:
    vault = load_vault(tmp_path)
    out = {}
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT id::text, user_id::text, secret_enc, key_id FROM exchange_accounts"
        ).fetchall()
    for account_id, user_id, blob, key_id in rows:
        out[account_id] = vault.open(
            bytes(blob), key_id, SealContext("secret", user_id, account_id, "binance")
        )
    return out


def test_rotation_interrupted_then_resumed_converges(db_url: str, tmp_path: Path) -> None:
    secrets = seed_accounts(db_url, tmp_path, 250)
    old_key = load_vault(tmp_path).active

    class Interrupt(Exception):
        pass

    def stop_after_first_batch(done: int) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        rotate(tmp_path, db_url, after_batch=stop_after_first_batch)
    new_key = load_vault(tmp_path).active
    assert new_key != old_key
    assert read_all(db_url, tmp_path) == secrets  # half-rotated: everything still readable
    with psycopg.connect(db_url) as conn:
        keys = dict(
            conn.execute(
                "SELECT key_id, count(*) FROM exchange_accounts GROUP BY key_id"
            ).fetchall()
        )
    assert keys == {new_key: 100, old_key: 150}

    report = rotate(tmp_path, db_url)  # resumes; does not start another rotation
    assert not report.started_new and report.active_key == new_key
    assert report.rows_rewritten == 150 and report.keys_pruned == (old_key,)
    assert read_all(db_url, tmp_path) == secrets
    assert load_vault(tmp_path).key_ids == {new_key}

    again = rotate(tmp_path, db_url)  # a complete rotation: a new one starts
    assert again.started_new and again.rows_rewritten == 250
    assert read_all(db_url, tmp_path) == secrets
