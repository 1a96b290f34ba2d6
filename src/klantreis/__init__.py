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
    "init_workspace": "klantreis.store",
    "load_journey": "klantreis.model",
    "open_workspace": "klantreis.store",
    "save_journey": "klantreis.model",
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
