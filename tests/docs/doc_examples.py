"""Reading the runnable examples of a markdown document, and comparing answers to them.

The convention (docs/api.md states it for readers):

* a ```` ```sh ```` block runs as written in bash; a ```` ```python <file> ```` block is saved as
  ``<file>`` for later ``sh`` blocks to run;
* an ``sh`` block whose lines are all ``export NAME=value`` or ``export NAME=$(command)`` sets
  those variables for the blocks after it;
* an ``sh`` block followed by an ```` ```http ```` block is a request (``curl -i``) and its
  answer: the status line, the headers worth showing, a blank line and the body;
* an ``sh`` block followed by a ```` ```json ```` block prints one JSON document per line;
* after an answer, "Set `NAME` to `a.0.b`." keeps a value of the JSON body for the next blocks,
  and "Repeat until `a.b` is `value`." repeats the request until the body says so (``$NAME``:
  the value kept as ``NAME``).

Answers are compared by shape, since ids, times and prices vary from run to run: the status,
the content type, every other header shown is present, JSON bodies have the same keys
everywhere and the same kinds of values (``null`` stands for any kind), lists are both empty or
both not (the items shown are compared to the first items received); a body that is not JSON
starts with the same line.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SET = re.compile(r"Set `([A-Z_][A-Z0-9_]*)` to `([\w.-]+)`")
UNTIL = re.compile(r"Repeat until `([\w.-]+)` is `([^`]*)`")
EXPORT = re.compile(r"^export ([A-Z_][A-Z0-9_]*)=(.*)$")
SHOWN = 2  # a list's items shown when the document does not say how many
WIDTH = 96  # the width of rewritten JSON
TEXT_LINES = 3  # lines of a body that is not JSON shown in rewritten answers
LONG = 100  # strings longer than this are shortened in rewritten JSON


@attrs.frozen
class Answer:
    """A documented answer: an HTTP response, or JSON lines printed by a program."""

    kind: str  # "http" or "lines"
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: str
    start: int  # offsets of the block's content in the document
    end: int


@attrs.frozen
class Step:
    """One runnable block, in document order."""

    kind: str  # "shell", "exports" or "file"
    text: str
    line: int
    file_name: str | None = None
    answer: Answer | None = None
    sets: tuple[tuple[str, str], ...] = ()
    until: tuple[str, str] | None = None


def parse_http(text: str, start: int, end: int) -> Answer:
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.strip("\n").split("\n")
    status = int(lines[0].split()[1])
    headers = tuple(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in lines[1:])
    )
    return Answer("http", status, headers, body.strip("\n"), start, end)


def steps(document: str) -> list[Step]:
    """The runnable steps of ``document``, with their answers, captures and repeats."""
    blocks = list(FENCE.finditer(document))
    out: list[Step] = []
    for index, block in enumerate(blocks):
        info = block.group(1).split()
        text = block.group(2)
        line = document.count("\n", 0, block.start()) + 1
        if info[:1] == ["python"] and len(info) > 1:
            out.append(Step("file", text, line, file_name=info[1]))
        elif info[:1] == ["sh"]:
            out.append(_shell_step(document, blocks, index, line))
    return out


def _shell_step(document: str, blocks: list[re.Match[str]], index: int, line: int) -> Step:
    text = blocks[index].group(2)
    lines = [x for x in text.strip().split("\n") if x.strip()]
    if lines and all(EXPORT.match(x) for x in lines):
        return Step("exports", text, line)
    following = blocks[index + 1] if index + 1 < len(blocks) else None
    between = document[blocks[index].end() : following.start()] if following else ""
    if (
        following is None
        or between.strip()
        or following.group(1).split()[:1]
        not in (
            ["http"],
            ["json"],
        )
    ):
        return Step("shell", text, line)
    start, end = following.start(2), following.end(2)
    if following.group(1).split()[0] == "http":
        answer = parse_http(following.group(2), start, end)
    else:
        answer = Answer("lines", None, (), following.group(2).strip("\n"), start, end)
    after_end = blocks[index + 2].start() if index + 2 < len(blocks) else len(document)
    prose = document[following.end() : after_end]
    until = UNTIL.search(prose)
    return Step(
        "shell",
        text,
        line,
        answer=answer,
        sets=tuple(SET.findall(prose)),
        until=(until.group(1), until.group(2)) if until else None,
    )


@attrs.frozen
class Response:
    """What curl -i printed: status, headers (names lower-cased), body."""

    status: int
    headers: dict[str, str]
    body: str
    lines: tuple[tuple[str, str], ...] = ()  # every header line, repeated names too


def parse_curl_output(output: str) -> Response:
    """The last response of ``curl -i`` output (``-D -`` too); interim 100s are skipped."""
    text = output.replace("\r\n", "\n")
    while True:
        head, _, body = text.partition("\n\n")
        status = int(head.split("\n")[0].split()[1])
        if status != 100:
            break
        text = body
    lines = tuple(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in head.split("\n")[1:])
    )
    return Response(status, dict(lines), body, lines)


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def at(value: Any, path: str) -> Any:
    """``value`` at a dotted path (``trades.0.id``)."""
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def shape_differences(documented: Any, actual: Any, where: str = "$") -> list[str]:
    """How ``actual`` differs in shape from ``documented`` (empty when it matches)."""
    if documented is None or actual is None:
        return []
    if kind(documented) != kind(actual):
        return [f"{where}: documented {kind(documented)}, got {kind(actual)} {actual!r:.80}"]
    if isinstance(documented, dict):
        out = []
        for key in sorted(documented.keys() - actual.keys()):
            out.append(f"{where}.{key}: documented, missing")
        for key in sorted(actual.keys() - documented.keys()):
            out.append(f"{where}.{key}: present, not documented")
        for key in sorted(documented.keys() & actual.keys()):
            out.extend(shape_differences(documented[key], actual[key], f"{where}.{key}"))
        return out
    if isinstance(documented, list):
        if bool(documented) != bool(actual):
            return [f"{where}: documented {len(documented)} items, got {len(actual)}"]
        out = []
        for i, (doc_item, item) in enumerate(zip(documented, actual, strict=False)):
            out.extend(shape_differences(doc_item, item, f"{where}[{i}]"))
        return out
    return []


def answer_differences(answer: Answer, response: Response) -> list[str]:
    """How an HTTP ``response`` differs from the documented ``answer``."""
    out = []
    if answer.status != response.status:
        out.append(f"status: documented {answer.status}, got {response.status}")
    for name, value in answer.headers:
        if name not in response.headers:
            out.append(f"header {name}: documented, missing")
        elif name == "content-type" and response.headers[name] != value:
            out.append(f"content-type: documented {value}, got {response.headers[name]}")
    out.extend(body_differences(answer.body, response.body))
    return out


def body_differences(documented: str, actual: str) -> list[str]:
    if not documented.strip():
        return []
    expected = json_or_none(documented)
    if expected is None:
        first, got = documented.split("\n")[0], actual.lstrip().split("\n")[0]
        return [] if first.strip() == got.strip() else [f"first line: got {got!r:.120}"]
    received = json_or_none(actual)
    if received is None:
        return [f"body is not JSON: {actual!r:.200}"]
    return shape_differences(expected, received)


def lines_differences(documented: str, output: str) -> list[str]:
    """JSON lines printed by a program against the documented ones."""
    expected = [json.loads(x) for x in documented.split("\n") if x.strip()]
    received = [json_or_none(x) for x in output.split("\n") if x.strip()]
    if len(expected) != len(received):
        return [f"documented {len(expected)} lines, got {len(received)}: {output!r:.300}"]
    out = []
    for i, (doc, got) in enumerate(zip(expected, received, strict=True)):
        out.extend(shape_differences(doc, got, f"line {i + 1}"))
    return out


def holds(body: Any, path: str, value: str) -> bool:
    """Whether ``body`` has ``value`` at ``path`` (a "Repeat until" condition)."""
    try:
        found = at(body, path)
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return str(found) == value or json.dumps(found) == value


def trimmed_like(actual: Any, documented: Any) -> Any:
    """``actual`` as the document shows it: lists of objects cut to the length documented (to
    :data:`SHOWN` items where nothing is documented), long strings shortened."""
    if isinstance(actual, dict):
        known = documented if isinstance(documented, dict) else {}
        return {k: trimmed_like(v, known.get(k)) for k, v in actual.items()}
    if isinstance(actual, list) and any(isinstance(a, (dict, list)) for a in actual):
        shown = documented if isinstance(documented, list) and documented else [None] * SHOWN
        return [trimmed_like(a, d) for a, d in zip(actual, shown, strict=False)]
    if isinstance(actual, list):
        return [trimmed_like(a, None) for a in actual]
    if isinstance(actual, str) and len(actual) > LONG:
        return f"{actual[: LONG // 2]}…{actual[-8:]}"  # tokens: their length says nothing
    return actual


def compact(value: Any, indent: int = 0, lead: int = 0) -> str:
    """JSON as a person reads it: a value that fits on its line stays on one line, and short
    members share lines (``lead``: characters before the value on its line)."""
    flat = json.dumps(value)
    if indent + lead + len(flat) <= WIDTH or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [
            f"{json.dumps(k)}: {compact(v, indent + 2, len(json.dumps(k)) + 2)}"
            for k, v in value.items()
        ]
        return "{\n" + _packed(items, pad) + "\n" + " " * indent + "}"
    items = [compact(v, indent + 2) for v in value]
    return "[\n" + _packed(items, pad) + "\n" + " " * indent + "]"


def _packed(items: list[str], pad: str) -> str:
    """Members joined by commas, as many one-line members on a line as fit."""
    lines: list[str] = []
    for item in items:
        if lines and "\n" not in item and "\n" not in lines[-1]:
            joined = f"{lines[-1]}, {item}"
            if len(joined) < WIDTH:  # room for the comma after it
                lines[-1] = joined
                continue
        lines.append(pad + item)
    return ",\n".join(lines)


def rendered(answer: Answer, response: Response) -> str:
    """The block content documenting ``response`` as ``answer`` does (for rewriting)."""
    head = [f"HTTP/1.1 {response.status}"]
    for name in dict.fromkeys(name for name, _ in answer.headers):
        head.extend(f"{name}: {value}" for key, value in response.lines if key == name)
    body = response.body
    parsed = json_or_none(body)
    if parsed is not None:
        body = compact(trimmed_like(parsed, json_or_none(answer.body)))
    elif answer.body.strip():
        body = "\n".join(x.rstrip("\r") for x in body.split("\n")[:TEXT_LINES])
    else:
        body = ""
    return "\n".join(head) + ("\n\n" + body if body else "") + "\n"


def rendered_lines(output: str) -> str:
    return "\n".join(json.dumps(json.loads(x)) for x in output.split("\n") if x.strip()) + "\n"


HEADING = re.compile(r"^#+ (GET|POST|PUT|PATCH|DELETE) (\S+)", re.MULTILINE)
PARAMETER = re.compile(r"<[^>]+>|\{[^}]+\}")


def route(method: str, path: str) -> str:
    """``METHOD /path/{}``: path parameters of either spelling made alike."""
    return f"{method} {PARAMETER.sub('{}', path)}"


def documented_routes(document: str) -> set[str]:
    """The endpoints with a heading of their own (``### DELETE /api/v1/trades/{id}``)."""
    return {route(method, path) for method, path in HEADING.findall(document)}
