"""Timing helpers shared by the benchmark scripts: medians of several runs, peak memory."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["build_timeline", "fmt", "peak_gb", "timed", "timed_runs"]


def timed_runs(fn: Callable[[], Any], runs: int) -> tuple[float, list[float], Any]:
    """Run ``fn`` ``runs`` times; return the median seconds, every run's seconds and the
    last output."""
    times, out = [], None
    for _ in range(runs):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, out


def timed(fn: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    """The median seconds of ``runs`` runs of ``fn`` and its last output."""
    median, _, out = timed_runs(fn, runs)
    return median, out


def peak_gb() -> float:
    """Peak resident memory of this process so far, in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def fmt(times: list[float]) -> str:
    """Run times as ``[1.23, 1.19, 1.31]``."""
    return "[" + ", ".join(f"{t:.2f}" for t in times) + "]"


def build_timeline(ws: Any) -> float:
    """Seconds to build the workspace's timeline from scratch (dropped first).

    The timeline (klantreis.analytics._timeline) is built once per change of the data
    and kept in the store; the analytics that read it are timed after this.
    """
    from klantreis.analytics._timeline import timeline
    from klantreis.store.derived import invalidate

    invalidate(ws.writer())
    ws.close()
    started = time.perf_counter()
    timeline(ws).count().execute()
    seconds = time.perf_counter() - started
    print(f"  timeline built once (kept until the data changes): {seconds:.2f} s", flush=True)
    return seconds
