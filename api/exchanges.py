"""``/api/v1/exchanges``: the exchange list, accounts, and Hyperliquid agent wallets."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import tag, validate_request

from testudo.exchanges import catalog
from testudo.exchanges.accounts import AccountNotFound, NewAccount

from .auth_guard import authenticated, principal
from .context import system
from .errors import render
from .problems import Problem, problem

exchanges_blueprint = Blueprint("exchanges", __name__, url_prefix="/api/v1/exchanges")
EXCHANGES = tag(["exchanges"])


class AddAccount(BaseModel):
    exchange_name: str = Field(min_length=1, max_length=50)
    api_key: str = Field(min_length=1, max_length=500)
    secret: str = Field(min_length=1, max_length=500)
    passphrase: str | None = Field(default=None, min_length=1, max_length=100)
    account_name: str | None = Field(default=None, min_length=1, max_length=100)


class AgentInit(BaseModel):
    wallet_address: str = Field(min_length=1, max_length=64)


class AgentAccount(BaseModel):
    account_id: str = Field(min_length=1, max_length=64)


class AgentApprove(BaseModel):
    account_id: str = Field(min_length=1, max_length=64)
    signature: str = Field(min_length=1, max_length=200)
    nonce: int = Field(ge=0, le=2**63 - 1)


def not_found() -> Problem:
    return problem("not_found", "No such exchange account.")


@exchanges_blueprint.app_errorhandler(AccountNotFound)
async def _account_not_found(_: AccountNotFound) -> Response:
    return render(not_found())


@exchanges_blueprint.get("")
@EXCHANGES
@authenticated
async def list_exchanges() -> dict[str, Any]:
    """Every exchange Testudo knows, with credentials, features and availability."""
    return {"exchanges": system().accounts.catalog_json()}


@exchanges_blueprint.get("/supported")
@EXCHANGES
@authenticated
async def supported() -> dict[str, Any]:
    """The ids usable right now."""
    return {"exchanges": system().accounts.supported()}


@exchanges_blueprint.get("/accounts")
@EXCHANGES
@authenticated
async def list_accounts() -> dict[str, Any]:
    """The caller's exchange accounts (API keys masked, secrets never returned)."""
    now = system().clock.now()
    accounts = await system().accounts.list(principal().user_id)
    return {"accounts": [a.to_json(now) for a in accounts]}


@exchanges_blueprint.post("/accounts")
@EXCHANGES
@authenticated
@validate_request(AddAccount)
async def add_account(data: AddAccount) -> tuple[dict[str, Any], int]:
    """Validate the key live (balance), refuse withdrawal rights, store it, queue an import."""
    info = catalog.get(data.exchange_name)
    if info is None:
        raise problem(
            "unknown_exchange",
            f"Unknown exchange {data.exchange_name!r}.",
            errors=[{"field": "exchange_name", "message": "unknown exchange"}],
        )
    if info.auth_mode == "agent_wallet":
        raise problem(
            "use_agent_wallet",
            f"{info.name} accounts are added with /exchanges/agent-wallet/init.",
        )
    available, status = system().accounts.available(info)
    if not available:
        raise problem("exchange_unavailable", f"{info.name} is not available ({status}).")
    if "passphrase" in info.required_credentials and not data.passphrase:
        raise problem(
            "validation_error",
            f"{info.name} requires a passphrase.",
            errors=[{"field": "passphrase", "message": "required"}],
        )
    warnings: list[dict[str, str]] = []
    passphrase = data.passphrase
    if passphrase and "passphrase" not in info.required_credentials:
        passphrase = None  # not used by the exchange: ignored, not stored, and said so
        message = f"{info.name} keys have no passphrase: the one sent was ignored."
        warnings.append({"field": "passphrase", "message": message})
    new = NewAccount(
        info.id, data.api_key.strip(), data.secret.strip(), passphrase, data.account_name
    )
    account, job_id = await system().accounts.add(principal().user_id, new)
    body = account.to_json(system().clock.now())
    body["import_job_id"] = job_id
    if warnings:
        body["warnings"] = warnings
    return body, 201


@exchanges_blueprint.delete("/accounts/<account_id>")
@EXCHANGES
@authenticated
async def delete_account(account_id: str) -> Response:
    """Delete the account (its secrets are wiped and its actor stopped)."""
    if not await system().accounts.delete(principal().user_id, account_id):
        raise not_found()
    return Response("", status=204)


@exchanges_blueprint.post("/accounts/<account_id>/test")
@EXCHANGES
@authenticated
async def test_account(account_id: str) -> dict[str, Any]:
    """Test the connection: status, message, latency_ms, tested_at."""
    return await system().accounts.test(principal().user_id, account_id)


@exchanges_blueprint.get("/accounts/<account_id>/balance")
@EXCHANGES
@authenticated
async def balance(account_id: str) -> dict[str, Any]:
    """Live balances: ``[{asset, total, free, used}]`` as strings."""
    balances = await system().accounts.balances(principal().user_id, account_id)
    return {
        "account_id": account_id,
        "balances": [b.to_json() for b in balances],
        "fetched_at": system().clock.now().isoformat().replace("+00:00", "Z"),
    }


@exchanges_blueprint.get("/accounts/<account_id>/positions")
@EXCHANGES
@authenticated
async def positions(account_id: str) -> dict[str, Any]:
    """Open positions and open orders."""
    data = await system().accounts.positions(principal().user_id, account_id)
    return {
        "account_id": account_id,
        **data,
        "fetched_at": system().clock.now().isoformat().replace("+00:00", "Z"),
    }


@exchanges_blueprint.post("/agent-wallet/init")
@EXCHANGES
@authenticated
@validate_request(AgentInit)
async def agent_init(data: AgentInit) -> tuple[dict[str, Any], int]:
    """A fresh agent key for this wallet (idempotent: the existing one is returned)."""
    account, created = await system().agent_wallets.init(principal().user_id, data.wallet_address)
    return {
        "account_id": account.id,
        "agent_address": account.agent_address,
        "status": account.status,
    }, 201 if created else 200


@exchanges_blueprint.post("/agent-wallet/approve-data")
@EXCHANGES
@authenticated
@validate_request(AgentAccount)
async def agent_approve_data(data: AgentAccount) -> dict[str, Any]:
    """The EIP-712 ApproveAgent typed data for the user's wallet to sign."""
    return await system().agent_wallets.approve_data(principal().user_id, data.account_id)


@exchanges_blueprint.post("/agent-wallet/approve")
@EXCHANGES
@authenticated
@validate_request(AgentApprove)
async def agent_approve(data: AgentApprove) -> dict[str, Any]:
    """Submit the signed approval to Hyperliquid and activate the account."""
    return await system().agent_wallets.approve(
        principal().user_id, data.account_id, data.signature, data.nonce
    )


@exchanges_blueprint.delete("/agent-wallet/<account_id>/revoke")
@EXCHANGES
@authenticated
async def agent_revoke(account_id: str) -> dict[str, Any]:
    """Destroy the agent key now; approve the replacement to remove it from Hyperliquid."""
    return await system().agent_wallets.revoke(principal().user_id, account_id)
