"""``/api/v1/risk-config``: the caller's risk configuration (docs/risk.md).

GET answers the saved configuration, or the defaults when none was saved. PUT is a partial
update: the fields present replace the saved ones (``null`` clears ``max_risk_amount`` or
``max_position_size``), the result is range-checked as a whole and stored durably; the answer is
the full merged configuration. Bad values are a 422 ``validation_error`` whose ``errors`` name
every bad field. Decimals travel as strings (numbers are accepted on the way in).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from quart import Blueprint, request
from quart_schema import document_request, document_response, tag

from testudo.risk.config import RiskConfigError, load_risk_config, update_risk_config

from .auth_guard import authenticated, principal
from .context import system
from .fields import PlainDecimal
from .problems import problem

risk_blueprint = Blueprint("risk", __name__, url_prefix="/api/v1")
RISK = tag(["risk"])


class RiskConfigBody(BaseModel):
    """The configuration on the wire (GET answer, PUT answer)."""

    account_risk_percent: str
    max_risk_amount: str | None
    max_position_size: str | None
    max_leverage: str
    daily_max_drawdown_percent: str
    max_open_positions: int
    require_stop_loss: bool
    min_risk_reward_ratio: str


class RiskConfigPatch(BaseModel):
    """A PUT body: any subset of the fields (plain decimal strings or JSON numbers).

    Documentation only: the body is parsed by ``testudo.risk.config`` with the same decimal
    rules (``testudo.numbers``) so that every bad field is named at once.
    """

    account_risk_percent: PlainDecimal | None = None
    max_risk_amount: PlainDecimal | None = None
    max_position_size: PlainDecimal | None = None
    max_leverage: PlainDecimal | None = None
    daily_max_drawdown_percent: PlainDecimal | None = None
    max_open_positions: int | str | None = None
    require_stop_loss: bool | None = None
    min_risk_reward_ratio: PlainDecimal | None = None


@risk_blueprint.get("/risk-config")
@RISK
@document_response(RiskConfigBody)
@authenticated
async def get_risk_config() -> dict[str, Any]:
    """The caller's risk configuration (the defaults until one is saved)."""
    config = await load_risk_config(system().db, principal().user_id)
    return config.to_json()


@risk_blueprint.put("/risk-config")
@RISK
@document_request(RiskConfigPatch)
@document_response(RiskConfigBody)
@authenticated
async def put_risk_config() -> dict[str, Any]:
    """Update some fields; answer the full merged configuration."""
    body = await request.get_json(force=True)
    if not isinstance(body, dict):
        raise problem(
            "validation_error",
            "The body must be a JSON object of risk configuration fields.",
            errors=[{"field": "body", "message": "must be a JSON object"}],
        )
    try:
        config = await update_risk_config(system().db, principal().user_id, body)
    except RiskConfigError as error:
        fields = ", ".join(e["field"] for e in error.errors)
        raise problem(
            "validation_error",
            f"Invalid risk configuration: {fields}.",
            errors=error.errors,
        ) from None
    return config.to_json()
