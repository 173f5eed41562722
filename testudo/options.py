"""The machinery of the settings table: one :class:`Option` row per setting.

A row names the settings field it fills, its command-line flag, its ``TESTUDO_*`` environment
variable, the parser that validates a value, the default as the docs show it and a one-line
meaning. From rows, :func:`add_arguments` declares the flags, :func:`resolve` reads flag, then
environment, then default, and :func:`markdown_table` writes the table of docs/operations.md.
The rows themselves live next to the settings they describe (:mod:`testudo.config`,
:mod:`testudo.realtime.settings`); this module knows none of them, so both can import it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

ENV_PREFIX = "TESTUDO_"


class ConfigError(Exception):
    """A configuration problem the operator must fix; printed as one line, exit code 2."""


#: Turns the text of a flag or variable into a value; raises ``ValueError`` saying what is wrong.
Parser = Callable[[str], object]


@attrs.frozen
class Option:
    """One setting: where it comes from, how it is checked, how it is documented."""

    #: The attribute it fills on its settings class.
    field: str
    #: ``--flag``; None when it has no flag (``doc`` says why).
    flag: str | None
    #: The variable's name without ``TESTUDO_``; None when it has no variable (``doc`` says why).
    env: str | None
    #: Validates and converts the text of a value.
    parse: Parser
    #: The default as a value's text ("": none to write); a test parses it and compares it
    #: with the settings class's default, so the docs cannot drift from the code.
    default: str
    #: One line: what it does.
    doc: str
    #: What docs/operations.md shows as the default instead of ``default`` (a derived default).
    default_doc: str = ""
    #: A flag without a value (``--x`` / ``--no-x``); its variable takes true/false.
    switch: bool = False
    #: The settings object it belongs to ("": the top-level settings; "realtime": its part).
    section: str = ""

    @property
    def dest(self) -> str:
        """The key of its value in parsed arguments (unique across sections)."""
        return f"{self.section}.{self.field}" if self.section else self.field

    @property
    def env_var(self) -> str | None:
        return None if self.env is None else ENV_PREFIX + self.env


def in_section(section: str, options: Iterable[Option]) -> tuple[Option, ...]:
    """``options`` moved into ``section`` (how a part's rows join the whole table)."""
    return tuple(attrs.evolve(option, section=section) for option in options)


def add_arguments(parser: argparse.ArgumentParser, options: Iterable[Option]) -> None:
    """Declare the flag of each option that has one; values are checked by :func:`resolve`."""
    for option in options:
        if option.flag is None:
            continue
        env = f" (env {option.env_var})" if option.env_var else ""
        default = option.default_doc or option.default
        help_text = f"{option.doc} [default: {default}]{env}".replace("%", "%%")
        if option.switch:
            parser.add_argument(
                option.flag,
                dest=option.dest,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        else:
            metavar = option.flag.removeprefix("--").upper().replace("-", "_")
            parser.add_argument(
                option.flag, dest=option.dest, default=None, metavar=metavar, help=help_text
            )


def resolve(
    options: Iterable[Option], args: argparse.Namespace, environ: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The values given by flag or environment, per section and field (defaults left out).

    Typed ``Any``: each value is what its row's parser returns, the type of its field.

    Precedence: flag, then environment; an empty value counts as unset. A value its parser
    refuses raises :class:`ConfigError` naming where it came from.
    """
    values: dict[str, dict[str, Any]] = {}
    for option in options:
        found = _raw(option, args, environ)
        if found is None:
            continue
        raw, where = found
        try:
            value = option.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        values.setdefault(option.section, {})[option.field] = value
    return values


def _raw(
    option: Option, args: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[str, str] | None:
    """The text of the option's value and where it came from, or None when not given."""
    given = getattr(args, option.dest, None) if option.flag else None
    if given is not None and given != "":
        text = ("true" if given else "false") if isinstance(given, bool) else str(given)
        return text, str(option.flag)
    name = option.env_var
    if name is None or not environ.get(name):
        return None
    where = f"{name} ({option.flag})" if option.flag else name
    return environ[name], where


def markdown_table(options: Sequence[Option]) -> str:
    """The settings table of docs/operations.md, one row per option, in table order."""
    lines = ["| Flag | Environment | Default | Meaning |", "|---|---|---|---|"]
    for option in options:
        if option.flag is None:
            flag = "none"
        elif option.switch:
            flag = f"`{option.flag}` / `--no-{option.flag[2:]}`"
        else:
            flag = f"`{option.flag}`"
        env = f"`{option.env_var}`" if option.env_var else "none"
        default = option.default_doc or f"`{option.default}`"
        lines.append(f"| {flag} | {env} | {default} | {option.doc} |")
    return "\n".join(lines) + "\n"
