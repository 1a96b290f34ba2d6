"""One writer at a time: a lock file in the workspace that names who holds it.

DuckDB lets one process open a database file read-write. Writers (ingest, forget,
prune) first take an exclusive ``flock`` on ``DIR/klantreis.lock`` without waiting
and write their pid, host, command and start time into it; a second writer fails
at once with :class:`~klantreis.errors.WorkspaceLocked` naming the holder. The
kernel releases the lock when the holder dies (kill -9 included), so a stale file
never blocks anyone. Readers do not take this lock: an ingest reads and checks its
file in a scratch DuckDB of its own (:mod:`klantreis.store.scratch`) and opens the
store only to commit, so readers open the store as usual and wait a moment only while
a writer commits (see ``workspace._connect``). Messages follow the workspace's language.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from klantreis.errors import WorkspaceLocked

__all__ = ["LOCK_FILE", "holder", "writer_lock"]

LOCK_FILE = "klantreis.lock"


def holder(folder: Path) -> dict[str, Any] | None:
    """What the lock file says about the current writer (None when nobody writes)."""
    path = folder / LOCK_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def describe(info: dict[str, Any] | None, lang: str | None = None) -> str:
    """'pid 123 on host, since 2026-11-22T18:00:00Z: klantreis ingest x.csv'.

    >>> describe(None, "nl")
    'een ander proces'
    """
    from klantreis.i18n import t

    if not info:
        return t("store.holder.unknown", lang)
    return t(
        "store.holder",
        lang,
        pid=info.get("pid"),
        host=info.get("host"),
        since=info.get("since"),
        command=info.get("command"),
    )


def _language(folder: Path) -> str | None:
    """The workspace's language for messages (English when its settings cannot be read)."""
    try:
        from klantreis.settings import Settings

        return Settings.load(folder, {}).language
    except Exception:
        return None


@contextlib.contextmanager
def writer_lock(
    folder: Path, command: str | None = None, lang: str | None = None
) -> Iterator[dict[str, Any]]:
    """Hold the workspace's writer lock; raise WorkspaceLocked at once if taken.

    The message is in ``lang``, else in the workspace's language."""
    from klantreis.i18n import t

    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = holder(folder)
            lang = lang or _language(folder)
            raise WorkspaceLocked(
                t("store.locked", lang, folder=str(folder), holder=describe(info, lang)),
                hint=t("store.locked.hint", lang),
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "time": time.time(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        try:
            yield info
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
