"""``/docs`` (Swagger UI) and ``/redocs`` (ReDoc), served with no network at all.

The pages load their scripts and styles from ``/docs/assets/``, read from the Swagger UI and
ReDoc builds that the ``drf-spectacular-sidecar`` package ships (located on disk, never
imported: the package's ``__init__`` imports Django).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from quart import Blueprint, Response
from quart_schema import hide

from ..problems import problem

SIDECAR = "drf_spectacular_sidecar"
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui.css": ("swagger-ui-dist/swagger-ui.css", "text/css; charset=utf-8"),
    "swagger-ui-bundle.js": ("swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui-standalone-preset.js": (
        "swagger-ui-dist/swagger-ui-standalone-preset.js",
        "text/javascript",
    ),
    "favicon-32x32.png": ("swagger-ui-dist/favicon-32x32.png", "image/png"),
    "redoc.standalone.js": ("redoc/bundles/redoc.standalone.js", "text/javascript"),
}
PAGE = "text/html; charset=utf-8"
# Nothing leaves the service: ReDoc's menu shows a logo from its vendor's site, which this
# policy blocks in the browser (ReDoc then hides the image).
OFFLINE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Testudo API</title>
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      withCredentials: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "BaseLayout"
    });
  </script>
</body>
</html>
"""

REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Testudo API</title>
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
  <style>body { margin: 0; padding: 0; }</style>
</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="/docs/assets/redoc.standalone.js"></script>
</body>
</html>
"""

docs_blueprint = Blueprint("docs", __name__)


@cache
def static_root() -> Path:
    """The sidecar package's static folder (found without importing the package)."""
    spec = importlib.util.find_spec(SIDECAR)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{SIDECAR} is not installed: it ships the docs pages' assets")
    return Path(spec.origin).parent / "static" / SIDECAR


@cache
def asset(name: str) -> bytes:
    return (static_root() / ASSETS[name][0]).read_bytes()


@docs_blueprint.get("/docs")
@hide
async def swagger_ui() -> Response:
    """The Swagger UI page of ``/openapi.json``."""
    return _page(SWAGGER_PAGE)


@docs_blueprint.get("/redocs")
@hide
async def redoc() -> Response:
    """The ReDoc page of ``/openapi.json``."""
    return _page(REDOC_PAGE)


def _page(html: str) -> Response:
    response = Response(html, content_type=PAGE)
    response.headers["Content-Security-Policy"] = OFFLINE_POLICY
    return response


@docs_blueprint.get("/docs/assets/<name>")
@hide
async def docs_asset(name: str) -> Response:
    """A script, style sheet or icon of the docs pages (404 for anything else)."""
    if name not in ASSETS:
        raise problem("not_found", "No such docs asset.")
    response = Response(asset(name), content_type=ASSETS[name][1])
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
