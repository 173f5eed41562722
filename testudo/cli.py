"""The ``testudo`` command: ``serve``, ``migrate``, ``sim``.

Expected failures (port in use, unreachable database, unwritable data dir) print one line
``testudo: error: ...`` and exit 2, without a traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from testudo import __version__, logs
from testudo.config import ConfigError, add_database_arguments, add_service_arguments, from_args
from testudo.heap import freeze_heap
from testudo.sim import cli as sim_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="testudo", description="Testudo trading backend")
    parser.add_argument("--version", action="version", version=f"testudo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API (8080) and WebSocket (4000) service")
    add_service_arguments(serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    add_database_arguments(migrate)

    rotate = commands.add_parser(
        "rotate-key", help="new master key; re-encrypt every exchange secret (restartable)"
    )
    add_database_arguments(rotate)

    sim = commands.add_parser("sim", help="run the exchange simulator on loopback")
    sim_cli.add_arguments(sim)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(raw)
    try:
        if args.command == "serve":
            return _serve(args, raw)
        if args.command == "migrate":
            return _migrate(args)
        if args.command == "rotate-key":
            return _rotate_key(args)
        if args.command == "sim":
            code: int = sim_cli.run(args)
            return code
    except ConfigError as exc:
        print(f"testudo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


def _serve(args: argparse.Namespace, raw: list[str]) -> int:
    """Check the data dir, bind the ports and open the database first (light imports only:
    a port in use or an unreachable database is one line at once), then import and run the
    service. ``--workers`` above 1: this process supervises that many (api/workers.py)."""
    from api.boot import bind, database
    from api.workers import parent_of_this_worker, supervise
    from testudo.config import ensure_data_dir

    settings = from_args(args)
    logs.configure(settings.log_level)
    parent = parent_of_this_worker()
    if settings.workers > 1 and parent is None:
        code: int = trio.run(_unwrap_config_errors, supervise, settings, raw)
        return code

    async def run() -> None:
        ensure_data_dir(settings.data_dir)
        listeners = await bind(settings, reuse_port=parent is not None)
        async with database(settings) as prepared:
            from api.process import run_service
            from testudo.sim.embedded import start_in_process

            service = functools.partial(
                run_service,
                settings,
                on_ready=freeze_heap,
                start_simulator=start_in_process,
                listeners=listeners,
                prepared=prepared,
            )
            await (service() if parent is None else _as_worker(service, parent))

    trio.run(_unwrap_config_errors, run)
    return 0


async def _as_worker(service: Callable[..., Awaitable[None]], parent: int) -> None:
    """Run the service as a worker of ``--workers``: it also stops when its parent is gone."""
    from api.workers import watch_parent

    async with trio.open_nursery() as nursery:

        async def serve(task_status: trio.TaskStatus[Any]) -> None:
            await service(task_status=task_status)
            nursery.cancel_scope.cancel()

        running = await nursery.start(serve)
        nursery.start_soon(watch_parent, parent, running.shutdown)


def _migrate(args: argparse.Namespace) -> int:
    from api.boot import migrate, start_database
    from testudo.config import ensure_data_dir

    settings = from_args(args)
    logs.configure(settings.log_level)

    async def run() -> None:
        ensure_data_dir(settings.data_dir)
        url, embedded = await start_database(settings)
        try:
            applied = await migrate(url)
            print(f"testudo: {applied} migration(s) applied", file=sys.stderr)
        finally:
            if embedded is not None:
                await embedded.stop()

    trio.run(_unwrap_config_errors, run)
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    from api.boot import start_database
    from testudo.config import ensure_data_dir
    from testudo.exchanges.rotation import rotate

    settings = from_args(args)
    logs.configure(settings.log_level)
    if settings.master_key:
        raise ConfigError("TESTUDO_MASTER_KEY is set: rotate by changing it, not with rotate-key")
    ensure_data_dir(settings.data_dir)

    async def run() -> None:
        url, embedded = await start_database(settings)
        try:
            report = await trio.to_thread.run_sync(
                lambda: rotate(settings.data_dir, url, after_batch=_progress)
            )
            await trio.to_thread.run_sync(record_rotation, url, report.active_key)
        finally:
            if embedded is not None:
                await embedded.stop()
        verb = "rotated to" if report.started_new else "finished rotating to"
        print(
            f"testudo: {verb} key {report.active_key}: {report.rows_rewritten} account(s) "
            f"re-encrypted, {len(report.keys_pruned)} old key(s) pruned",
            file=sys.stderr,
        )

    trio.run(_unwrap_config_errors, run)
    return 0


def record_rotation(database_url: str, active_key_id: str) -> None:
    """The cluster's recorded active key is now the rotated one (nodes with the new ring
    start; nodes still on the old key are refused with one line)."""
    import psycopg
    from psycopg.rows import dict_row

    from testudo.cluster import identity

    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        identity.record_rotation(conn, active_key_id)


def _progress(rows: int) -> None:
    print(f"testudo: {rows} account(s) re-encrypted so far", file=sys.stderr)


async def _unwrap_config_errors(fn: object, *args: object) -> Any:
    """Run ``fn``; re-raise a ConfigError hidden in an exception group as itself."""
    try:
        return await fn(*args)  # type: ignore[operator]
    except BaseExceptionGroup as group:
        matched, _ = group.split(ConfigError)
        if matched is not None:
            raise _first(matched) from None
        raise


def _first(group: BaseExceptionGroup[ConfigError]) -> ConfigError:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    assert isinstance(error, ConfigError)
    return error


if __name__ == "__main__":
    raise SystemExit(main())
