"""The HTTP application: QuartTrio + quart-schema, every route under ``/api/v1``.

``create_app(system)`` builds the app around a running :class:`~actors.system.System`. The
OpenAPI 3.1 document is at ``/openapi.json`` (generated from the same pydantic schemas that
validate requests, completed by ``api.openapi``), human docs pages at ``/docs`` (Swagger UI)
and ``/redocs`` (ReDoc), served with no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quart import Blueprint
from quart_schema import QuartSchema
from quart_trio import QuartTrio
from quart_trio.wrappers.request import TrioRequest
from werkzeug.exceptions import BadRequest

from actors.system import System
from testudo import __version__

from . import body_limits, cluster_routing, errors, input_guard, json_input, middleware
from .auth import auth_blueprint
from .exchanges import exchanges_blueprint
from .health import health_blueprint
from .http_metrics import metrics_blueprint
from .imports import imports_blueprint
from .journal import journal_blueprint
from .openapi import TestudoOpenAPI, docs_blueprint
from .problems import problem
from .risk import risk_blueprint
from .trades import trades_blueprint


class InvalidJson(BadRequest):
    """The request body is not JSON (answered as 400 ``invalid_json``)."""

    description = "The request body is not valid JSON."


class Request(TrioRequest):
    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        default = kwargs.pop("max_content_length", None)
        limit = body_limits.limit_for(method, path, default)
        super().__init__(method, scheme, path, *args, max_content_length=limit, **kwargs)

    def on_json_loading_failed(self, error: Exception) -> None:
        raise InvalidJson()

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """As Quart's, but a body that is not UTF-8 is a 400 ``invalid_json`` too, JSON nested
        deeper than the limit is a 400 ``json_too_deep`` and a NUL character in any string is
        a 422 naming the field (``api.json_input``)."""
        try:
            value = await super().get_json(force=force, silent=silent, cache=cache)
            if value is not None:
                text = await self.get_data(as_text=True)
                json_input.check(value, text if isinstance(text, str) else None)
        except UnicodeDecodeError:
            if silent:
                return None
            raise InvalidJson() from None
        except (RecursionError, json_input.JsonTooDeep):
            raise problem("json_too_deep", str(json_input.JsonTooDeep())) from None
        except json_input.NulInJson as exc:
            raise problem(
                "validation_error",
                f"Invalid {exc.field}: {exc}.",
                errors=[{"field": exc.field, "message": str(exc)}],
            ) from None
        return value


def create_app(system: System, extra_blueprints: Iterable[Blueprint] = ()) -> QuartTrio:
    """Build the QuartTrio app serving ``system``."""
    app = QuartTrio("testudo")
    app.request_class = Request
    app.config.update(
        TESTUDO_SYSTEM=system,
        MAX_CONTENT_LENGTH=system.settings.max_body_bytes,
        BODY_TIMEOUT=30,
        RESPONSE_TIMEOUT=60,
        JSON_SORT_KEYS=False,
    )
    QuartSchema(
        app,
        openapi_path="/openapi.json",
        swagger_ui_path=None,  # served offline by api.openapi.ui
        redoc_ui_path=None,
        scalar_ui_path=None,
        info={"title": "Testudo API", "version": __version__},
        # Responses are plain JSON-ready dicts; without this quart-schema builds a pydantic
        # TypeAdapter for every dict it sees (measurable on every request). Request models
        # are pydantic BaseModels and are still validated by pydantic.
        conversion_preference="msgspec",
        openapi_provider_class=TestudoOpenAPI,
    )
    middleware.install(app, system.settings.cors_origins)
    input_guard.install(app)
    errors.install(app)
    cluster_routing.install(app)
    app.register_blueprint(docs_blueprint)
    app.register_blueprint(health_blueprint)
    app.register_blueprint(metrics_blueprint)
    app.register_blueprint(auth_blueprint)
    app.register_blueprint(exchanges_blueprint)
    app.register_blueprint(trades_blueprint)
    app.register_blueprint(risk_blueprint)
    app.register_blueprint(imports_blueprint)
    app.register_blueprint(journal_blueprint)
    for blueprint in extra_blueprints:
        app.register_blueprint(blueprint)
    return app
