"""The web app for people who never open a terminal: ``klantreis serve``.

:func:`create_app` builds a FastAPI app for one workspace (see :mod:`klantreis.web.app`).
Importing :mod:`klantreis` does not import this package (FastAPI and Jinja2 load only
when the web app is used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klantreis.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from klantreis.web.app import create_app

        return create_app
    raise AttributeError(name)
