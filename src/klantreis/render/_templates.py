"""Jinja2 templates of the map page and the report (autoescape on for every template)."""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["render_template"]


@functools.cache
def _env() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("klantreis.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(name: str, /, **context: Any) -> str:
    """Render ``templates/<name>``; values are escaped unless wrapped in ``Markup``.

    Strings passed as ``svg``, ``fragment``, ``plotlyjs`` or ``html`` in the context are
    trusted output of this package (built with escaping) and inserted as they are.
    """
    from markupsafe import Markup

    trusted = {"svg", "fragment", "plotlyjs", "map_html"}
    context = {
        k: Markup(v) if k in trusted and isinstance(v, str) else v for k, v in context.items()
    }
    return _env().get_template(name).render(**context)
