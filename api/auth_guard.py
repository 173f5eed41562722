"""Authentication of requests: bearer token or ``access_token`` cookie (the bearer wins).

``@authenticated`` resolves the caller into a :class:`~actors.auth.service.Principal` (kept in
``g.principal``) or answers 401/429 problem+json. Cookie-authenticated state-changing requests
must also pass a cross-site check: a ``Sec-Fetch-Site`` other than same-origin/none,
or an ``Origin`` outside the allowed list (``null`` included), is refused with 403; when
cookies are not ``SameSite=Strict`` one of the two headers must be present.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from quart import g, request

from actors.auth.service import Principal
from testudo.net import client_address

from .context import system
from .problems import EdgeAnswer, Problem, problem, status_of

P = ParamSpec("P")
R = TypeVar("R")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_ip() -> str:
    """The client's address: X-Forwarded-For only from trusted proxies (``testudo.net``)."""
    return client_address(
        request.remote_addr,
        request.headers.getlist("X-Forwarded-For"),
        system().settings.trusted_proxies,
    )


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def failure(refused: Problem) -> EdgeAnswer:
    """An authentication problem; a 401 challenges the caller for a bearer token."""
    challenge = status_of(refused) == 401
    return EdgeAnswer(refused, {"WWW-Authenticate": 'Bearer realm="testudo"'} if challenge else {})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url


def check_cross_site() -> None:
    """Refuse cross-site state-changing requests that ride on cookies.

    Only same-origin counts: ``Sec-Fetch-Site: same-site`` (a sibling subdomain, perhaps taken
    over) is refused, and so is ``Origin: null`` (sandboxed frames, redirects, ``file:``).
    """
    if request.method in SAFE_METHODS:
        return
    sys = system()
    fetch_site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    allowed = set(sys.settings.cors_origins) | {_origin_of(sys.auth.settings.siwe_uri)}
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise problem("cross_site_request", f"Sec-Fetch-Site {fetch_site}: use a bearer token.")
    if origin is not None and origin not in allowed:
        raise problem("cross_site_request", f"Origin {origin} is not allowed.")
    if sys.auth.settings.cookie_samesite != "Strict" and fetch_site is None and origin is None:
        raise problem(
            "cross_site_request",
            "Cookie-authenticated requests must carry Origin or Sec-Fetch-Site.",
        )


async def current_principal() -> Principal:
    """Authenticate the current request (once) or raise the problem to answer with."""
    known = g.get("principal")
    if isinstance(known, Principal):
        return known
    token = bearer_token()
    from_cookie = False
    if token is None:
        token = request.cookies.get(system().auth.settings.access_cookie)
        from_cookie = token is not None
    if not token:
        raise failure(problem("unauthorized", "Authentication required: a bearer token or cookie."))
    result = await system().auth.authenticate(token)
    if isinstance(result, Problem):
        raise failure(result)
    if from_cookie:
        check_cross_site()
    g.principal = result
    return result


def authenticated(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorator: the handler runs only for an authenticated caller (``g.principal``)."""

    @wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        await current_principal()
        return await handler(*args, **kwargs)

    wrapper.__dict__.setdefault("_testudo_auth", True)
    return cast(Callable[P, Awaitable[R]], wrapper)


def principal() -> Principal:
    """The principal of the current (authenticated) request."""
    return cast(Principal, g.principal)
