"""Commands: experience, gap, ambassadors, compare, drivers (paths issue)."""

from __future__ import annotations

from klantreis.cli._app import app  # noqa: F401
