"""Commands: transitions, paths, time (paths issue)."""

from __future__ import annotations

from klantreis.cli._app import app  # noqa: F401
