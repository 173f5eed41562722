"""docs/api.md works as written: every example runs, in order, against one real service.

The service runs as ``make serve ARGS="--simulated-exchanges"`` runs it (the simulator in
process, the SIWE domain ``localhost:8080``) on free ports; the examples' addresses are
rewritten to those ports. Each ``sh`` block runs in bash (curl for the requests), each answer
is compared by shape (tests/docs/doc_examples.py). With ``TESTUDO_WRITE_API_DOC=1`` the test
rewrites the documented answers from what the service answered instead of comparing.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import trio

from api.process import Running, run_service
from tests.conftest import make_settings
from tests.docs import doc_examples as ex
from testudo.realtime.settings import RealtimeSettings
from testudo.sim.embedded import start_in_process

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
WRITE = os.environ.get("TESTUDO_WRITE_API_DOC") == "1"
PATIENCE = 90  # seconds a "Repeat until" may take (an import reads 90 days in ~40 pages)


@attrs.define
class Service:
    running: Running
    sim_url: str = ""

    def addresses(self) -> dict[str, str]:
        return {
            "http://127.0.0.1:8080": self.running.http_url.rstrip("/"),
            "ws://127.0.0.1:4000": self.running.ws_url.rstrip("/"),
            "http://127.0.0.1:8090": self.sim_url,
        }


@pytest.fixture
async def demo(nursery: trio.Nursery, db_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    """``testudo serve --simulated-exchanges`` on free ports, on this test's database."""
    urls: list[str] = []

    async def simulator(nursery: trio.Nursery, port: int) -> str:
        url = await start_in_process(nursery, port)
        urls.append(url)
        return url

    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        simulated_exchanges=True,
        sim_port=0,
        siwe_domain="localhost:8080",
        siwe_uri="http://localhost:8080",
        siwe_chain_ids=(1,),
        cors_origins=(),
        realtime=RealtimeSettings(market_data=False),
    )
    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, start_simulator=simulator)
    )
    try:
        yield Service(running, urls[0].rstrip("/"))
    finally:
        running.shutdown()


class Shell:
    """Runs the document's blocks in bash, in a folder of their own, keeping exported names."""

    def __init__(self, folder: Path, addresses: dict[str, str]) -> None:
        self.folder = folder
        self.addresses = addresses
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
        (folder / ".venv").symlink_to(sys.prefix)  # the examples run .venv/bin/python

    def local(self, text: str) -> str:
        for documented, real in self.addresses.items():
            text = text.replace(documented, real)
        return text

    async def run(self, script: str) -> str:
        done = await trio.run_process(
            ["bash", "-euo", "pipefail", "-c", self.local(script)],
            cwd=self.folder,
            env=self.env,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        if done.returncode != 0:
            output = done.stderr.decode()[-2000:] + done.stdout.decode()[-500:]
            raise AssertionError(f"exit {done.returncode}: {output}")
        return str(done.stdout.decode())

    async def export(self, text: str) -> None:
        for line in text.strip().split("\n"):
            name = ex.EXPORT.match(line.strip())
            if name:
                self.env[name.group(1)] = await self.run(f'{line}\nprintf %s "${name.group(1)}"')

    def documented(self, text: str) -> str:
        for documented, real in self.addresses.items():
            text = text.replace(real, documented)
        return text

    def save(self, name: str, text: str) -> None:
        (self.folder / name).write_text(self.local(text))


async def replay(step: ex.Step, shell: Shell) -> tuple[list[str], str | None]:
    """Run one step; its differences from the document, and its rewritten answer."""
    if step.kind == "file":
        shell.save(str(step.file_name), step.text)
        return [], None
    if step.kind == "exports":
        await shell.export(step.text)
        return [], None
    output = await shell.run(step.text)
    answer = step.answer
    if answer is None:
        return [], None
    if answer.kind == "lines":
        return ex.lines_differences(answer.body, output), ex.rendered_lines(output)
    response = ex.parse_curl_output(output)
    if step.until is not None:
        path, value = step.until
        value = shell.env.get(value[1:], value) if value.startswith("$") else value
        with trio.move_on_after(PATIENCE):
            while not ex.holds(ex.json_or_none(response.body), path, value):
                await trio.sleep(0.25)
                response = ex.parse_curl_output(await shell.run(step.text))
        if not ex.holds(ex.json_or_none(response.body), path, value):
            raise AssertionError(f"{path} never became {value}: {response.body:.500}")
    body = ex.json_or_none(response.body)
    for name, path in step.sets:
        try:
            shell.env[name] = str(ex.at(body, path))
        except (KeyError, IndexError, TypeError, ValueError):
            raise AssertionError(f"Set `{name}`: no `{path}` in {response.body:.300}") from None
    return ex.answer_differences(answer, response), ex.rendered(answer, response)


# One heading covers the document and its pages (their assets too), or an alias.
UNDOCUMENTED = {"/openapi.json", "/docs", "/redocs", "/docs/assets/<name>", "/metrics"}


def served_routes(running: Running) -> set[str]:
    from api.app import create_app

    app = create_app(running.system)
    return {
        ex.route(method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method in {"GET", "POST", "PUT", "PATCH", "DELETE"}
        and rule.rule not in UNDOCUMENTED
        and rule.endpoint != "static"
    }


async def test_every_endpoint_is_in_the_api_doc_and_its_example_works_as_written(
    demo: Service, tmp_path: Path
) -> None:
    assert shutil.which("curl"), "the examples are curl commands: install curl"
    document = DOC.read_text()
    served = served_routes(demo.running)
    assert len(served) >= 60
    assert served - ex.documented_routes(document) == set(), "served, not in docs/api.md"
    assert ex.documented_routes(document) - served == set(), "in docs/api.md, not served"
    steps = ex.steps(document)
    assert sum(1 for s in steps if s.answer is not None) >= 60
    folder = tmp_path / "reader"
    folder.mkdir()
    shell = Shell(folder, demo.addresses())
    failures: list[str] = []
    rewrites: list[tuple[int, int, str]] = []
    for step in steps:
        try:
            differences, new = await replay(step, shell)
        except (AssertionError, KeyError, IndexError, ValueError) as exc:
            failures.append(f"docs/api.md:{step.line}: {exc}")
            continue
        failures.extend(f"docs/api.md:{step.line}: {d}" for d in differences)
        if new is not None and step.answer is not None:
            rewrites.append((step.answer.start, step.answer.end, shell.documented(new)))
    if WRITE:
        for start, end, new in reversed(rewrites):
            document = document[:start] + new + document[end:]
        DOC.write_text(document)
    assert not failures, "\n".join(failures)
