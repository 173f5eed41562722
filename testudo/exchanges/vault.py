"""Exchange secrets at rest: AES-256-GCM, a fresh 96-bit nonce per value, row-bound AAD.

Each value is stored as ``nonce(12) || ciphertext || tag(16)`` with the id of the key that
sealed it in the row's ``key_id``. The associated data is rebuilt from the row's own columns
(``v1|<field>|<user id>|<account id>|<exchange>``), so a ciphertext moved to another row,
user or field fails to decrypt (``InvalidTag``).

Keys live in a key ring: ``<data dir>/keys/master-keys.json`` (0600), created on first start,
or the active key comes from ``TESTUDO_MASTER_KEY`` (64 hex characters). ``testudo rotate-key``
adds a new active key and re-encrypts every row (see :mod:`testudo.exchanges.rotation`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class VaultError(Exception):
    """A secret could not be sealed or opened (wrong key, moved ciphertext, missing key)."""


@attrs.frozen
class SealContext:
    """Where a value belongs: every part is bound into the associated data."""

    field: str
    user_id: str
    account_id: str
    exchange: str

    def aad(self) -> bytes:
        return f"v1|{self.field}|{self.user_id}|{self.account_id}|{self.exchange}".encode()


class Vault:
    """Seals and opens secrets with a ring of AES-256 keys (one active)."""

    def __init__(self, keys: dict[str, bytes], active: str, ring: Path | None = None) -> None:
        if active not in keys:
            raise VaultError("the active key is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise VaultError(f"key {key_id} is not 32 bytes")
        self._keys = dict(keys)
        self.active = active
        self._ring = ring

    def seal(self, plaintext: str, context: SealContext) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        cipher = AESGCM(self._keys[self.active])
        return nonce + cipher.encrypt(nonce, plaintext.encode(), context.aad())

    def open(self, blob: bytes, key_id: str, context: SealContext) -> str:
        key = self._keys.get(key_id)
        if key is None and self._ring is not None and self._ring.exists():
            # A rotation by `testudo rotate-key` may have added keys since start-up.
            keys, _ = _read_ring(self._ring)
            self._keys.update(keys)
            key = self._keys.get(key_id)
        if key is None:
            raise VaultError(f"key {key_id} is not in the key ring")
        if len(blob) < NONCE_BYTES + 16:
            raise VaultError("ciphertext too short")
        try:
            plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.aad())
        except InvalidTag:
            raise VaultError("the secret does not belong to this account or key") from None
        return plain.decode()

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)


def key_id_for(key: bytes) -> str:
    return "k" + hashlib.sha256(key).hexdigest()[:12]


def ring_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "master-keys.json"


def _write_ring(path: Path, keys: dict[str, bytes], active: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"active": active, "keys": {k: v.hex() for k, v in keys.items()}}, handle)
    os.replace(temp, path)


def _read_ring(path: Path) -> tuple[dict[str, bytes], str]:
    data = json.loads(path.read_text())
    return {k: bytes.fromhex(v) for k, v in data["keys"].items()}, str(data["active"])


def load_vault(data_dir: Path, configured_key: str | None = None) -> Vault:
    """The vault of this data dir, creating the key ring on first start."""
    path = ring_path(data_dir)
    keys, active = _read_ring(path) if path.exists() else ({}, "")
    if configured_key:
        try:
            key = bytes.fromhex(configured_key)
        except ValueError:
            raise VaultError("TESTUDO_MASTER_KEY must be 64 hexadecimal characters") from None
        if len(key) != 32:
            raise VaultError("TESTUDO_MASTER_KEY must be 64 hexadecimal characters")
        active = key_id_for(key)
        keys[active] = key
        return Vault(keys, active, path)
    if not keys:
        key = secrets.token_bytes(32)
        active = key_id_for(key)
        keys = {active: key}
        _write_ring(path, keys, active)
    return Vault(keys, active, path)


def add_active_key(data_dir: Path) -> str:
    """Add a fresh key to the ring and make it active; return its id (for rotation)."""
    path = ring_path(data_dir)
    keys, _ = _read_ring(path) if path.exists() else ({}, "")
    key = secrets.token_bytes(32)
    active = key_id_for(key)
    keys[active] = key
    _write_ring(path, keys, active)
    return active


def prune_keys(data_dir: Path, keep: set[str]) -> list[str]:
    """Remove keys not in ``keep`` (and not active) from the ring; return the removed ids."""
    path = ring_path(data_dir)
    keys, active = _read_ring(path)
    removed = [k for k in keys if k != active and k not in keep]
    for key_id in removed:
        del keys[key_id]
    _write_ring(path, keys, active)
    return removed
