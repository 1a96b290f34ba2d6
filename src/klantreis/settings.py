"""Workspace settings: one typed, documented list.

A setting's value comes from, in order: a command-line flag, the environment
(``KLANTREIS_<NAME>``), the workspace's ``klantreis.toml``, the default. Secrets are
wrapped in :class:`Secret` so they never print. ``docs/settings.md`` documents every
setting; a test keeps the two in step.

    >>> s = Settings.resolve({}, env={"KLANTREIS_LANGUAGE": "nl"})
    >>> s.language, s.timezone
    ('nl', 'Europe/Amsterdam')
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from klantreis.errors import ConfigError, did_you_mean

__all__ = ["SETTINGS", "Secret", "Setting", "Settings", "write_settings"]

CONFIG_FILE = "klantreis.toml"


class Secret:
    """A text value that prints as ``***`` (``str``, ``repr``, f-strings, ``as_dict``).

    It is not a ``str`` subclass, so nothing turns it into its text by accident
    (``json.dumps`` of a ``str`` subclass would write the value); ask for the value
    explicitly with :meth:`reveal` and never log the result.

    >>> s = Secret("postgres://user:pw@host/db")
    >>> print(s, repr(s), f"{s}")
    *** Secret('***') ***
    >>> s.reveal()
    'postgres://user:pw@host/db'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def reveal(self) -> str:
        return self._value


def _language(value: Any) -> str:
    from klantreis.i18n import check_language

    return check_language(str(value))


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone '{value}'",
            key="timezone",
            hint="use an IANA name such as Europe/Amsterdam",
        ) from None
    return str(value)


def _text(value: Any) -> str:
    return str(value)


def _positive_int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"'{value}' is not a whole number") from None
    if number <= 0:
        raise ConfigError(f"{number} must be positive")
    return number


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[Any], Any]
    doc: str
    secret: bool = False

    @property
    def env(self) -> str:
        return f"KLANTREIS_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting("language", "en", _language, "Language of texts, reports and messages: 'nl' or 'en'."),
    Setting(
        "timezone",
        "Europe/Amsterdam",
        _timezone,
        "IANA time zone. Timestamps without a zone are read in it; days, weeks and months "
        "are counted in it.",
    ),
    Setting(
        "backend",
        "duckdb://klantreis.duckdb",
        _text,
        "Ibis connection URL of the store. A relative DuckDB path is inside the workspace.",
        secret=True,
    ),
    Setting("journey", "", _text, "Key of the default journey when the workspace holds several."),
    Setting(
        "session_gap_minutes",
        30,
        _positive_int,
        "A gap longer than this (minutes) between two events of a customer starts a new session.",
    ),
)


@dataclass(frozen=True)
class Settings:
    language: str = "en"
    timezone: str = "Europe/Amsterdam"
    backend: str = "duckdb://klantreis.duckdb"
    journey: str = ""
    session_gap_minutes: int = 30

    @classmethod
    def resolve(
        cls,
        file_values: Mapping[str, Any],
        *,
        flags: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        file: Path | None = None,
    ) -> Settings:
        """Combine flags > environment > file > defaults, checking every value."""
        env = os.environ if env is None else env
        flags = flags or {}
        known = {s.name for s in SETTINGS}
        for key in file_values:
            if key not in known:
                guess = did_you_mean(key, known)
                raise ConfigError(
                    f"unknown setting '{key}' in {file or CONFIG_FILE}",
                    file=file,
                    key=key,
                    hint=f"did you mean '{guess}'?"
                    if guess
                    else f"known: {', '.join(sorted(known))}",
                )
        values: dict[str, Any] = {}
        for s in SETTINGS:
            if flags.get(s.name) is not None:
                raw = flags[s.name]
            elif s.env in env:
                raw = env[s.env]
            elif s.name in file_values:
                raw = file_values[s.name]
            else:
                raw = s.default
            try:
                value = s.parse(raw)
            except ConfigError as exc:
                raise ConfigError(
                    f"setting '{s.name}': {exc.message}", file=file, key=s.name, hint=exc.hint
                ) from None
            values[s.name] = Secret(value) if s.secret and isinstance(value, str) else value
        return cls(**values)

    @classmethod
    def load(cls, folder: Path, flags: Mapping[str, Any] | None = None) -> Settings:
        path = folder / CONFIG_FILE
        data: dict[str, Any] = {}
        if path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: not valid TOML: {exc}", file=path) from None
        return cls.resolve(data, flags=flags, file=path)

    def as_dict(self, reveal: bool = False) -> dict[str, Any]:
        """The settings as plain values; secrets are ``'***'`` unless ``reveal``."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Secret):
                value = value.reveal() if reveal else str(value)
            out[f.name] = value
        return out


def write_settings(folder: Path, values: Mapping[str, Any]) -> Path:
    """Write ``klantreis.toml`` with the given values (others stay at their defaults)."""
    lines = ["# Klantreis workspace settings; see docs/settings.md for every key.\n"]
    for s in SETTINGS:
        if s.name in values:
            value = values[s.name]
            lines.append(f"# {s.doc}\n")
            if isinstance(value, str):
                escaped = value.replace("\\", "\\\\").replace('"', '\\"')
                lines.append(f'{s.name} = "{escaped}"\n')
            else:
                lines.append(f"{s.name} = {value}\n")
    path = folder / CONFIG_FILE
    path.write_text("".join(lines), encoding="utf-8")
    return path
