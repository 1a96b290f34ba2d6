"""Klantreis: open customer journey management.

Design a journey map, measure it with real touchpoint data, analyse funnels, paths,
attribution, retention and experience, simulate personas, and show it all.

    >>> import klantreis
    >>> "open_workspace" in klantreis.__all__
    True

Names are imported lazily, so ``import klantreis`` stays light (no web or CLI
frameworks are loaded).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Journey": "klantreis.model",
    "KlantreisError": "klantreis.errors",
    "Result": "klantreis.analytics",
    "Workspace": "klantreis.store",
    "attribution": "klantreis.analytics",
    "build_report": "klantreis.render",
    "compare": "klantreis.analytics",
    "drivers": "klantreis.analytics",
    "dropoff": "klantreis.analytics",
    "experience": "klantreis.analytics",
    "fit_model": "klantreis.simulate",
    "funnel": "klantreis.analytics",
    "gap": "klantreis.analytics",
    "init_workspace": "klantreis.store",
    "journey_map": "klantreis.render",
    "journey_problems": "klantreis.model",
    "lifecycle": "klantreis.analytics",
    "load_journey": "klantreis.model",
    "loops": "klantreis.analytics",
    "open_workspace": "klantreis.store",
    "paths": "klantreis.analytics",
    "phase_funnel": "klantreis.analytics",
    "retention": "klantreis.analytics",
    "run_all": "klantreis.analytics",
    "save_journey": "klantreis.model",
    "scoped": "klantreis.analytics",
    "simulate": "klantreis.simulate",
    "timing": "klantreis.analytics",
    "transitions": "klantreis.analytics",
    "whatif": "klantreis.simulate.whatif",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'klantreis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
