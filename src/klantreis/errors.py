"""One exception tree for Klantreis.

Every error a user can cause is a :class:`KlantreisError` with a stable ``code``
and structured fields; only the CLI maps them to exit codes and only the web app
maps them to HTTP statuses::

    KlantreisError                      code            meaning
    ├── ConfigError                     config          klantreis.toml / settings wrong
    ├── WorkspaceError                  workspace       workspace folder problems
    │   ├── WorkspaceNotFound           workspace.missing
    │   └── WorkspaceLocked             workspace.locked   another writer holds it
    ├── JourneyError                    journey         a journey file is wrong
    │   └── JourneyInvalid              journey.invalid    carries .problems (file/line/field)
    ├── DataError                       data            input data cannot be read
    │   ├── ReadError                   data.read       file, line, field
    │   └── MappingError                data.mapping    mapping file / column roles
    ├── AnalysisError                   analysis        an analysis was asked wrongly
    │   ├── InvalidSpec                 analysis.spec   bad parameter (field, allowed)
    │   └── UnknownKey                  analysis.unknown  unknown touchpoint/phase/...
    └── RenderError                     render          a map/report/export failed
        └── BrowserMissing              render.browser  headless Chromium not installed

Examples:
    >>> err = InvalidSpec("window", "must look like 30d", value="thirty")
    >>> err.code, err.field
    ('analysis.spec', 'window')
    >>> isinstance(err, KlantreisError) and isinstance(err, ValueError)
    True
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as _dc_field
from pathlib import Path
from typing import Any

__all__ = [
    "AnalysisError",
    "BrowserMissing",
    "ConfigError",
    "DataError",
    "InvalidSpec",
    "JourneyError",
    "JourneyInvalid",
    "KlantreisError",
    "MappingError",
    "Problem",
    "ReadError",
    "RenderError",
    "UnknownKey",
    "WorkspaceError",
    "WorkspaceLocked",
    "WorkspaceNotFound",
    "did_you_mean",
]


def did_you_mean(value: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``value``, or None when nothing is close.

    >>> did_you_mean("awarness", ["awareness", "purchase"])
    'awareness'
    """
    options = [c for c in choices if isinstance(c, str)]
    lowered = {c.lower(): c for c in options}
    match = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


class KlantreisError(Exception):
    """Root of every error Klantreis raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (used by the CLI's json output and the web app)."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class ConfigError(KlantreisError, ValueError):
    code = "config"

    def __init__(
        self, message: str, *, file: Path | str | None = None, key: str | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.file = str(file) if file is not None else None
        self.key = key


class WorkspaceError(KlantreisError):
    code = "workspace"


class WorkspaceNotFound(WorkspaceError, FileNotFoundError):
    code = "workspace.missing"


class WorkspaceLocked(WorkspaceError):
    code = "workspace.locked"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a journey file, with its location."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    severity: str = "error"  # "error" or "warning"
    params: dict[str, Any] = _dc_field(default_factory=dict, compare=False)

    def location(self) -> str:
        parts = [self.file or "<journey>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        where = self.location()
        fld = f" [{self.field}]" if self.field else ""
        return f"{where}{fld}: {self.severity}: {self.message}"


class JourneyError(KlantreisError, ValueError):
    code = "journey"


class JourneyInvalid(JourneyError):
    """A journey file that does not validate; ``problems`` lists every error found."""

    code = "journey.invalid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = str(errors[0]) if errors else "journey is invalid"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["problems"] = [p.__dict__ | {"params": None} for p in self.problems]
        return d


class DataError(KlantreisError, ValueError):
    code = "data"


class ReadError(DataError):
    """Input data that cannot be read: names the file, and the line and field where known."""

    code = "data.read"

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        **kw: Any,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        where = ":".join(str(x) for x in (self.file, line) if x is not None)
        prefix = f"{where}: " if where else ""
        fld = f"field '{field}': " if field else ""
        super().__init__(f"{prefix}{fld}{message}", **kw)


class MappingError(ReadError):
    code = "data.mapping"


class AnalysisError(KlantreisError, ValueError):
    code = "analysis"


class InvalidSpec(AnalysisError):
    """A parameter of an analysis has a value it cannot take."""

    code = "analysis.spec"

    def __init__(
        self,
        field: str,
        message: str,
        *,
        value: Any = None,
        allowed: Sequence[Any] | None = None,
        **kw: Any,
    ) -> None:
        self.field = field
        self.value = value
        self.allowed = list(allowed) if allowed is not None else None
        text = f"{field}: {message}"
        if value is not None:
            text += f" (got {value!r})"
        if self.allowed:
            text += f"; allowed: {', '.join(map(str, self.allowed))}"
        super().__init__(text, **kw)


class UnknownKey(AnalysisError, KeyError):
    """A touchpoint, phase, persona... that neither the journey nor the data knows."""

    code = "analysis.unknown"

    def __init__(self, kind: str, key: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.key = key
        self.known = sorted(set(known))
        guess = did_you_mean(key, self.known)
        hint = f"did you mean '{guess}'?" if guess else None
        super().__init__(f"unknown {kind} '{key}'", hint=hint)

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return KlantreisError.__str__(self)


class RenderError(KlantreisError):
    code = "render"


class BrowserMissing(RenderError):
    code = "render.browser"
