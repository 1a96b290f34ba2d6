"""Analytics: pure functions from the workspace's Ibis tables to small results.

Every analytic takes a workspace (or a :func:`~klantreis.analytics.scope.scoped` part of
one) and returns a :class:`Result`. Names load lazily, so importing one analytic does
not import the others.
"""

from __future__ import annotations

import importlib
from typing import Any

from klantreis.analytics._result import Result, execute

_EXPORTS: dict[str, str] = {
    "ambassadors": "klantreis.analytics.experience",
    "attribution": "klantreis.analytics.attribution",
    "churn": "klantreis.analytics.lifecycle",
    "compare": "klantreis.analytics.compare",
    "drivers": "klantreis.analytics.drivers",
    "dropoff": "klantreis.analytics.funnel",
    "experience": "klantreis.analytics.experience",
    "funnel": "klantreis.analytics.funnel",
    "gap": "klantreis.analytics.gap",
    "lifecycle": "klantreis.analytics.lifecycle",
    "loops": "klantreis.analytics.loops",
    "paths": "klantreis.analytics.paths",
    "phase_funnel": "klantreis.analytics.funnel",
    "repeat_purchase": "klantreis.analytics.loops",
    "retention": "klantreis.analytics.retention",
    "run_all": "klantreis.analytics.overview",
    "sankey": "klantreis.analytics._paths_sankey",
    "scoped": "klantreis.analytics.scope",
    "timing": "klantreis.analytics.timing",
    "transitions": "klantreis.analytics.transitions",
}

__all__ = sorted([*_EXPORTS, "Result", "execute"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'klantreis.analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
