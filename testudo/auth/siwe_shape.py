"""A cheap, linear look at a sign-in message before the EIP-4361 parser sees it.

The ``siwe`` library's ABNF parser costs super-linearly in the message length (4 KB took five
CPU-seconds), so a message only reaches it when it is no longer than :func:`max_length` allows
and every line already has the shape EIP-4361 gives it, with the fields Testudo checks
exactly (domain, scheme, URI) already equal to the configured values. Anything else is refused
here in microseconds, with the same errors the full check would give. docs/auth.md derives
the bound.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from testudo.problems import Problem, malformed

from .settings import AuthSettings

HEADER_TAIL = " wants you to sign in with your Ethereum account:"
MAX_STATEMENT = 128  # our desk signs "Sign in to Testudo"; EIP-4361 sets no bound
MAX_NONCE = 64  # we issue 32 characters; EIP-4361 needs at least 8
MAX_CHAIN_ID_DIGITS = 20  # EIP-155 chain ids are 64-bit
MAX_TIME = 40  # RFC 3339 with nanoseconds and an offset is 35
MAX_REQUEST_ID = 64
MAX_RESOURCES = 1
MAX_RESOURCE = 128
MAX_SIGNATURE = 132  # "0x" + 65 bytes in hex: EOA signatures only

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_STATEMENT = re.compile(
    r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;= ]{1,%s}".replace("%s", str(MAX_STATEMENT))
)
_NONCE = re.compile(r"[A-Za-z0-9]{8,N}".replace("N", str(MAX_NONCE)))
_CHAIN_ID = re.compile(r"[0-9]{1,N}".replace("N", str(MAX_CHAIN_ID_DIGITS)))
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9:.]{8,22}([Zz]|[+-][0-9]{2}:[0-9]{2})")
_PCHARS = re.compile(rf"[A-Za-z0-9\-._~!$&'()*+,;=:@%]{{0,{MAX_REQUEST_ID}}}")
_RESOURCE = re.compile(rf"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]{{1,{MAX_RESOURCE}}}")
_SIGNATURE = re.compile(r"(0x)?[0-9a-fA-F]{130}")


def max_length(settings: AuthSettings) -> int:
    """The longest message EIP-4361 needs for this deployment (docs/auth.md)."""
    scheme = len(urlsplit(settings.siwe_uri).scheme) + 3
    header = scheme + len(settings.siwe_domain) + len(HEADER_TAIL) + 1
    body = 42 + 1 + 1 + MAX_STATEMENT + 1 + 1
    fields = (
        len("URI: ") + len(settings.siwe_uri) + 1
        + len("Version: 1") + 1
        + len("Chain ID: ") + MAX_CHAIN_ID_DIGITS + 1
        + len("Nonce: ") + MAX_NONCE + 1
        + len("Issued At: ") + MAX_TIME + 1
        + len("Expiration Time: ") + MAX_TIME + 1
        + len("Not Before: ") + MAX_TIME + 1
        + len("Request ID: ") + MAX_REQUEST_ID + 1
        + len("Resources:") + MAX_RESOURCES * (1 + len("- ") + MAX_RESOURCE)
    )  # fmt: skip
    return header + body + fields


def _malformed(why: str) -> Problem:
    return malformed("invalid_message", f"The message is not a valid EIP-4361 message: {why}.")


def _header(line: str, settings: AuthSettings) -> Problem | None:
    if not line.endswith(HEADER_TAIL):
        return _malformed("no sign-in header")
    origin = line[: -len(HEADER_TAIL)]
    scheme, sep, domain = origin.rpartition("://")
    if domain != settings.siwe_domain:
        return Problem("domain_mismatch", domain_detail(settings.siwe_domain))
    if sep and scheme != urlsplit(settings.siwe_uri).scheme:
        return Problem("scheme_mismatch", scheme_detail(settings.siwe_uri))
    return None


_OPTIONAL = (
    ("Expiration Time: ", _TIME),
    ("Not Before: ", _TIME),
    ("Request ID: ", _PCHARS),
)


def _fields(lines: list[str], settings: AuthSettings) -> Problem | None:
    if not lines or lines[0] != f"URI: {settings.siwe_uri}":
        bad = not lines or not lines[0].startswith("URI: ")
        return _malformed("no URI line") if bad else _uri_mismatch(settings.siwe_uri)
    required = (("Version: ", re.compile("1")), ("Chain ID: ", _CHAIN_ID), ("Nonce: ", _NONCE))
    position = 1
    for prefix, pattern in (*required, ("Issued At: ", _TIME)):
        if not _line_matches(lines, position, prefix, pattern):
            return _malformed(f"no valid {prefix.strip(': ')} line")
        position += 1
    for prefix, pattern in _OPTIONAL:
        if position < len(lines) and lines[position].startswith(prefix):
            if not _line_matches(lines, position, prefix, pattern):
                return _malformed(f"an invalid {prefix.strip(': ')} line")
            position += 1
    return _resources(lines[position:])


def _uri_mismatch(expected: str) -> Problem:
    return Problem("uri_mismatch", uri_detail(expected))


def domain_detail(expected: str) -> str:
    """What a ``domain_mismatch`` says: the domain this service expects."""
    return f"The message is for another domain: this service expects {expected!r}."


def scheme_detail(uri: str) -> str:
    return f"The message is for another scheme: this service expects {urlsplit(uri).scheme!r}."


def uri_detail(expected: str) -> str:
    """What a ``uri_mismatch`` says: the URI this service expects."""
    return f"The message is for another URI: this service expects {expected!r}."


def _line_matches(lines: list[str], index: int, prefix: str, pattern: re.Pattern[str]) -> bool:
    return (
        index < len(lines)
        and lines[index].startswith(prefix)
        and pattern.fullmatch(lines[index][len(prefix) :]) is not None
    )


def _resources(lines: list[str]) -> Problem | None:
    if not lines:
        return None
    if lines[0] != "Resources:" or len(lines) - 1 > MAX_RESOURCES:
        return _malformed(f"unexpected lines, or more than {MAX_RESOURCES} resources")
    for line in lines[1:]:
        if not line.startswith("- ") or _RESOURCE.fullmatch(line[2:]) is None:
            return _malformed("an invalid resource line")
    return None


def check_shape(message: str, signature: str, settings: AuthSettings) -> Problem | None:
    """Why ``message`` cannot be a sign-in message for this deployment, or None."""
    if len(message) > max_length(settings):
        return _malformed(f"longer than the {max_length(settings)} characters EIP-4361 needs here")
    problem = _lines(message.split("\n"), settings)
    if problem is None and _SIGNATURE.fullmatch(signature) is None:
        return malformed("invalid_signature", "The signature is malformed.")
    return problem


def _lines(lines: list[str], settings: AuthSettings) -> Problem | None:
    if len(lines) < 8:
        return _malformed("too few lines")
    problem = _header(lines[0], settings)
    if problem is not None:
        return problem
    if _ADDRESS.fullmatch(lines[1]) is None or lines[2] != "":
        return _malformed("no address line")
    rest = lines[3:]
    if rest[0] != "":
        if _STATEMENT.fullmatch(rest[0]) is None or len(rest) < 2 or rest[1] != "":
            return _malformed(f"the statement is not {MAX_STATEMENT} plain characters at most")
        rest = rest[1:]
    return _fields(rest[1:], settings)
