"""Exchange accounts as stored: their rows, the owner's view of one, and their SQL.

The service that adds, tests and reads accounts through their actors is
:class:`actors.exchanges.service.AccountsService`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from testudo.money import wire

from . import catalog
from .catalog import ExchangeInfo

ACCOUNT_COLUMNS = """
    id::text AS id, user_id::text AS user_id, exchange, account_name, auth_mode,
    api_key_masked, wallet_address, agent_address, status, permissions, agent_approved_at,
    created_at, last_used_at"""
SELECT_ACCOUNT = f"""SELECT {ACCOUNT_COLUMNS} FROM exchange_accounts
WHERE id = %s AND user_id = %s AND status <> 'deleted'"""
LIST_ACCOUNTS = f"""SELECT {ACCOUNT_COLUMNS} FROM exchange_accounts
WHERE user_id = %s AND status <> 'deleted' ORDER BY created_at DESC"""
SELECT_SECRETS = """
SELECT id::text AS id, user_id::text AS user_id, exchange, auth_mode, wallet_address,
       api_key_enc, secret_enc, passphrase_enc, key_id, status
FROM exchange_accounts WHERE id = %s"""
INSERT_ACCOUNT = """
INSERT INTO exchange_accounts (id, user_id, exchange, account_name, auth_mode, api_key_masked,
    wallet_address, agent_address, api_key_enc, secret_enc, passphrase_enc, key_id, status,
    permissions)
VALUES (%(id)s, %(user_id)s, %(exchange)s, %(account_name)s, %(auth_mode)s, %(api_key_masked)s,
    %(wallet_address)s, %(agent_address)s, %(api_key_enc)s, %(secret_enc)s, %(passphrase_enc)s,
    %(key_id)s, %(status)s, %(permissions)s)"""
QUEUE_IMPORT = """
INSERT INTO import_jobs (user_id, exchange_account_id, reason) VALUES (%s, %s, %s)
RETURNING id::text AS id"""
DELETE_ACCOUNT = """
UPDATE exchange_accounts SET status = 'deleted', api_key_enc = NULL, secret_enc = NULL,
    passphrase_enc = NULL, updated_at = now()
WHERE id = %s AND user_id = %s AND status <> 'deleted' RETURNING id"""
TOUCH_ACCOUNT = "UPDATE exchange_accounts SET last_used_at = %s WHERE id = %s"
ACCOUNT_ORDER_OWNERS = """
SELECT o.client_order_id, o.role, g.id::text AS group_id, g.symbol
FROM trade_orders o JOIN trade_groups g ON g.id = o.group_id
WHERE g.exchange_account_id = %s
  AND g.status IN ('pending', 'active', 'awaiting_reconciliation')"""

AGENT_APPROVAL_WINDOW = dt.timedelta(days=30)
AGENT_EXPIRY_WARNING = dt.timedelta(days=5)


@attrs.frozen
class AccountView:
    """An account as the owner sees it: never a secret, the API key masked."""

    id: str
    user_id: str
    exchange: str
    account_name: str
    auth_mode: str
    status: str
    api_key_masked: str | None
    wallet_address: str | None
    agent_address: str | None
    permissions: dict[str, Any]
    agent_approved_at: dt.datetime | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    @property
    def info(self) -> ExchangeInfo:
        found = catalog.get(self.exchange)
        assert found is not None
        return found

    def to_json(self, now: dt.datetime) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "exchange_name": self.exchange,
            "account_name": self.account_name,
            "auth_mode": self.auth_mode,
            "status": self.status,
            "is_active": self.status == "active",
            "requires_reauthorization": self.status == "requires_reauthorization",
            "api_key": self.api_key_masked,
            "wallet_address": self.wallet_address,
            "permissions": self.permissions,
            "created_at": _iso(self.created_at),
            "last_used_at": _iso(self.last_used_at),
        }
        if self.auth_mode == "agent_wallet":
            body["agent_address"] = self.agent_address
            body["agent_approved_at"] = _iso(self.agent_approved_at)
            if self.agent_approved_at is not None and self.status == "active":
                expires = self.agent_approved_at + AGENT_APPROVAL_WINDOW
                body["agent_expires_at"] = _iso(expires)
                body["approval_age_days"] = (now - self.agent_approved_at).days
                body["expiry_warning"] = expires - now <= AGENT_EXPIRY_WARNING
        return body


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def mask(api_key: str) -> str:
    return ("…" + api_key[-4:]) if len(api_key) > 4 else "…"


@attrs.frozen
class NewAccount:
    """Validated input of ``POST /exchanges/accounts``."""

    exchange: str
    api_key: str = attrs.field(repr=False)
    secret: str = attrs.field(repr=False)
    passphrase: str | None = attrs.field(default=None, repr=False)
    account_name: str | None = None


class AccountNotFound(Exception):
    pass


_dec = wire


def _new_uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
