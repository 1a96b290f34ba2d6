"""Plotly charts, built from analytics results and never querying.

One module per analytic: ``charts/<name>.py`` defines ``<name>_figure(result, **options)``
for results whose ``name`` is ``<name>``; :meth:`Result.figure` finds it there.
Shared colours and layout are in :mod:`._style`.
"""

from __future__ import annotations

import importlib
from typing import Any


def figure_for(result: Any, **options: Any) -> Any:
    """The figure of ``result`` (an analytics Result), by its name."""
    try:
        module = importlib.import_module(f"{__name__}.{result.name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{result.name}":
            raise
        raise NotImplementedError(f"no figure for '{result.name}' results yet") from None
    return getattr(module, f"{result.name}_figure")(result, **options)
