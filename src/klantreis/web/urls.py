"""The one URL builder of the web app: every link a page or a test needs comes from here.

Every page has an HTML address and a JSON twin (the same path with ``.json``, or
``?format=json``); the home page's twin is ``/index.json``.

    >>> urls = Urls()
    >>> urls.journey_map("fitness", state="to-be", persona="starter")
    '/journeys/fitness/map?state=to-be&persona=starter'
    >>> urls.funnel("fitness", steps=["website", "tour"], fmt="json")
    '/journeys/fitness/funnel.json?steps=website&steps=tour'
    >>> urls.home(fmt="json"), urls.static("klantreis.css")
    ('/index.json', '/static/klantreis.css')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["Urls", "json_twin"]


def json_twin(path: str) -> str:
    """The JSON twin of a route path: ``/`` -> ``/index.json``, ``/x`` -> ``/x.json``."""
    return "/index.json" if path == "/" else path + ".json"


class Urls:
    """Builds the app's URLs; ``prefix`` is where the app is mounted (default: the root)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix.rstrip("/")

    def _build(self, path: str, fmt: str | None, query: Sequence[tuple[str, Any]] = ()) -> str:
        if fmt == "json":
            path = json_twin(path)
        pairs = [(k, v) for k, v in query if v is not None and v != ""]
        tail = f"?{urlencode(pairs)}" if pairs else ""
        return f"{self.prefix}{path}{tail}"

    @staticmethod
    def _key(key: str) -> str:
        return quote(str(key), safe="")

    def home(self, *, fmt: str | None = None) -> str:
        return self._build("/", fmt)

    def journey_map(
        self,
        journey: str,
        *,
        state: str | None = None,
        persona: str | None = None,
        fmt: str | None = None,
    ) -> str:
        return self._build(
            f"/journeys/{self._key(journey)}/map", fmt, [("state", state), ("persona", persona)]
        )

    def report(self, journey: str, *, persona: str | None = None, fmt: str | None = None) -> str:
        return self._build(f"/journeys/{self._key(journey)}/report", fmt, [("persona", persona)])

    def funnel(
        self,
        journey: str,
        *,
        steps: Sequence[str] = (),
        window: str | None = None,
        mode: str | None = None,
        fmt: str | None = None,
    ) -> str:
        query = [("steps", s) for s in steps] + [("window", window), ("mode", mode)]
        return self._build(f"/journeys/{self._key(journey)}/funnel", fmt, query)

    def validate(self, *, fmt: str | None = None) -> str:
        return self._build("/validate", fmt)

    def upload(self, *, fmt: str | None = None) -> str:
        return self._build("/upload", fmt)

    def static(self, name: str) -> str:
        return f"{self.prefix}/static/{quote(name)}"
