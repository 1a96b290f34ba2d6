"""Commands: map, report, export (map and report issue)."""

from __future__ import annotations

from klantreis.cli._app import app  # noqa: F401
