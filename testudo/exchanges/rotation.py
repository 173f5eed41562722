"""``testudo rotate-key``: a new master key, and every sealed secret re-encrypted under it.

Interruptible and restartable: each batch of rows is one transaction (``FOR UPDATE SKIP
LOCKED``), so an interrupted run leaves every row readable (old rows keep their old key id,
whose key stays in the ring), and running the command again finishes the job instead of
starting another rotation. Keys no row references any more are pruned at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import psycopg
from psycopg.rows import dict_row

from .vault import SealContext, Vault, add_active_key, load_vault, prune_keys

BATCH = 100
PENDING = "SELECT count(*) AS n FROM exchange_accounts WHERE key_id <> %s"
LOCK_BATCH = """
SELECT id::text AS id, user_id::text AS user_id, exchange, key_id,
       api_key_enc, secret_enc, passphrase_enc
FROM exchange_accounts WHERE key_id <> %s
ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"""
REWRITE = """
UPDATE exchange_accounts SET api_key_enc = %s, secret_enc = %s, passphrase_enc = %s, key_id = %s
WHERE id = %s"""
KEYS_IN_USE = "SELECT DISTINCT key_id FROM exchange_accounts"
FIELDS = ("api_key", "secret", "passphrase")


@attrs.frozen
class RotationReport:
    active_key: str
    started_new: bool
    rows_rewritten: int
    keys_pruned: tuple[str, ...]


def rotate(
    data_dir: Path,
    database_url: str,
    *,
    after_batch: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> RotationReport:
    """Rotate (or finish an interrupted rotation). Blocking: run it in a thread or a CLI."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        vault = load_vault(data_dir)
        pending = conn.execute(PENDING, (vault.active,)).fetchone()
        started_new = pending is None or pending["n"] == 0
        if started_new:
            add_active_key(data_dir)
            vault = load_vault(data_dir)
        conn.commit()
        rewritten = 0
        while True:
            with conn.transaction():
                rows = conn.execute(LOCK_BATCH, (vault.active, batch)).fetchall()
                for row in rows:
                    conn.execute(REWRITE, (*_reseal(vault, row), vault.active, row["id"]))
            if not rows:
                break
            rewritten += len(rows)
            if after_batch is not None:
                after_batch(rewritten)
        in_use = {r["key_id"] for r in conn.execute(KEYS_IN_USE).fetchall()}
    pruned = prune_keys(data_dir, in_use)
    return RotationReport(vault.active, started_new, rewritten, tuple(pruned))


def _reseal(vault: Vault, row: dict[str, Any]) -> tuple[bytes | None, ...]:
    out: list[bytes | None] = []
    for field in FIELDS:
        blob = row[f"{field}_enc"]
        if blob is None:
            out.append(None)
            continue
        context = SealContext(field, str(row["user_id"]), str(row["id"]), str(row["exchange"]))
        plain = vault.open(bytes(blob), str(row["key_id"]), context)
        out.append(vault.seal(plain, context))
    return tuple(out)
