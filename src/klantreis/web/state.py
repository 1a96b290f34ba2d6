"""What one app instance holds: the workspace (opened on first use), one lock, a cache.

Requests are served from a thread pool; DuckDB connections are not shared safely
between threads, so every use of the workspace happens under :attr:`AppState.lock`,
and the store connection is closed after each request (:meth:`AppState.release`):
the server does not keep the DuckDB file locked, so ``klantreis ingest`` can run
beside it.
Analytics results (``run_all``) and rendered reports are cached in memory per
workspace, *data version* (row counts of the canonical tables and the journey files'
modification times), journey and persona: a new ingest or an edited journey file
changes the version, so the page is recomputed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from klantreis.store import Workspace

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "AppState"]

#: Largest file the upload page accepts (bytes); ``create_app(max_upload_bytes=...)``
#: or ``klantreis serve --max-upload-mb`` changes it. Larger files: ``klantreis ingest``.
DEFAULT_MAX_UPLOAD_BYTES = 100_000_000
CACHE_ENTRIES = 32

T = TypeVar("T")


class AppState:
    """The workspace, lock and cache of one app (see the module docstring)."""

    def __init__(self, path: Path, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
        self.path = path
        self.max_upload_bytes = max_upload_bytes
        self.lock = threading.RLock()
        self._ws: Workspace | None = None
        self._journeys_seen: tuple[tuple[str, int], ...] = ()
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self.cache_hits = 0

    def workspace(self) -> Workspace:
        """The workspace (opened on first use; raises WorkspaceNotFound)."""
        if self._ws is None:
            from klantreis.store import open_workspace

            self._ws = open_workspace(self.path)
        stamp = self._journey_stamp(self._ws)
        if stamp != self._journeys_seen:  # a journey file was added, edited or removed
            self._ws.reload()
            self._journeys_seen = stamp
        return self._ws

    @staticmethod
    def _journey_stamp(ws: Workspace) -> tuple[tuple[str, int], ...]:
        return tuple((f.name, f.stat().st_mtime_ns) for f in ws.journey_files())

    @property
    def lang(self) -> str:
        return self.workspace().settings.language

    def data_version(self) -> tuple[Any, ...]:
        """Changes whenever the data or a journey file changes."""
        ws = self.workspace()
        counts = tuple(
            int(ws.table(name).count().execute())
            for name in ("events", "feedback", "customers", "identities", "ingests")
        )
        return counts + self._journey_stamp(ws)

    def cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` plus data version (a small LRU)."""
        full = (str(self.path), self.data_version(), *key)
        if full in self._cache:
            self._cache.move_to_end(full)
            self.cache_hits += 1
            return self._cache[full]  # type: ignore[no-any-return]
        value = compute()
        self._cache[full] = value
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return value

    def peek(self, key: tuple[Any, ...]) -> Any:
        """The cached value for ``key`` at the current data version, or None."""
        full = (str(self.path), self.data_version(), *key)
        return self._cache.get(full)

    def changed(self) -> None:
        """After a write: forget the loaded journeys (the data version does the rest)."""
        if self._ws is not None:
            self._ws.reload()

    def release(self) -> None:
        """Close the store connection after a request (it reopens on the next one), so a
        ``klantreis ingest`` in another process can write between requests."""
        if self._ws is not None:
            self._ws.close()

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        self._cache.clear()
