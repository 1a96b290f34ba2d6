"""Run every analysis a journey supports, for the report, the map and the demo.

:func:`run_all` picks sensible parameters from the journey (its phases, its designed
path to the conversion touchpoint, its conversion touchpoints) and runs the analytics
on the workspace (or on one persona or segment of it). An analysis that cannot run on
this data (no feedback yet, no conversions...) is not silently dropped: its reason is
kept in :attr:`Overview.skipped`, and the report shows it.

    >>> main_path({("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")}, ["a"], {"c"})
    ['a', 'c']
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from klantreis.errors import KlantreisError
from klantreis.result import Result

__all__ = ["Overview", "emotion_overlays", "main_path", "map_results", "run_all"]

log = logging.getLogger(__name__)


class Overview(dict[str, Result]):
    """Results by name, plus the analyses skipped and why (name -> reason)."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: dict[str, str] = {}
        self.seconds: dict[str, float] = {}

    def run(self, name: str, analysis: Callable[[], Result]) -> Result | None:
        started = time.perf_counter()
        try:
            result = analysis()
        except KlantreisError as exc:
            self.skipped[name] = str(exc)
            log.info("overview: %s skipped: %s", name, exc)
            return None
        finally:
            self.seconds[name] = time.perf_counter() - started
        self[name] = result
        return result


def main_path(
    edges: Iterable[tuple[str, str]], starts: Iterable[str], goals: set[str]
) -> list[str]:
    """The shortest designed path (fewest touchpoints) from a start to a goal touchpoint.

    Breadth-first over the journey's links; ties go to the earlier link in sorted order,
    so the choice is stable. Returns [] when no goal can be reached.
    """
    graph: dict[str, list[str]] = {}
    for a, b in sorted(set(edges)):
        graph.setdefault(a, []).append(b)
    queue = deque([[s] for s in starts])
    seen = set(starts)
    while queue:
        path = queue.popleft()
        if path[-1] in goals:
            return path
        for nxt in graph.get(path[-1], []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append([*path, nxt])
    return []


def _funnel_steps(journey: Any) -> list[str]:
    conversions = set(journey.conversion_touchpoints())
    if not conversions:
        return []
    edges = journey.edges()
    targets = {b for _, b in edges}
    order = {p.key: i for i, p in enumerate(journey.ordered_phases())}
    starts = sorted(
        (tp.key for tp in journey.touchpoints if tp.key not in targets and tp.states != "to-be"),
        key=lambda k: (order.get(journey.touchpoint(k).phase, 99), k),
    )
    return main_path(edges, starts, conversions)


def run_all(
    ws: Any,
    *,
    persona: str | None = None,
    segment: str | None = None,
    journey: str | None = None,
    window: str = "30d",
    whatif: bool = False,
    seed: int = 0,
) -> Overview:
    """Run the analyses the journey and data support; see the module docstring.

    ``persona``/``segment`` restrict every analysis to that group of customers.
    ``whatif=True`` also ranks candidate improvements by simulation (slower).
    """
    from klantreis.analytics import (
        ambassadors,
        attribution,
        churn,
        drivers,
        experience,
        gap,
        lifecycle,
        loops,
        paths,
        phase_funnel,
        repeat_purchase,
        retention,
        timing,
        transitions,
    )
    from klantreis.analytics.funnel import funnel_and_dropoff

    target = ws
    if persona is not None or segment is not None:
        from klantreis.analytics.scope import scoped

        target = scoped(ws, persona=persona, segment=segment, journey=journey)
    j = ws.journey(journey)
    out = Overview()
    if target.events.count().execute() == 0:
        out.skipped["events"] = "the workspace holds no events yet (klantreis ingest FILE)"
        return out

    out.run("phase_funnel", lambda: phase_funnel(target, window=window, journey=journey))
    steps = _funnel_steps(j)
    if len(steps) >= 2:

        def funnel_then_dropoff() -> Result:
            # one match for both: the drop-off moments after the funnel's biggest drop
            result, moments = funnel_and_dropoff(target, steps=steps, window=window)
            if moments is not None:
                out["dropoff"] = moments
            return result

        out.run("funnel", funnel_then_dropoff)
    else:
        out.skipped["funnel"] = "the journey has no designed path to a conversion touchpoint"
    out.run("transitions", lambda: transitions(target, collapse=True, journey=journey))
    out.run("paths", lambda: paths(target, kind="variants", top=10, journey=journey))
    out.run("timing", lambda: timing(target, kind="convert", journey=journey))
    out.run("retention", lambda: retention(target, period="month"))
    out.run("lifecycle", lambda: lifecycle(target, period="month"))
    out.run("loops", lambda: loops(target, journey=journey))
    out.run("repeat_purchase", lambda: repeat_purchase(target, journey=journey))
    out.run("churn", lambda: churn(target, journey=journey))
    if target.feedback.count().execute() > 0:
        for metric in ("nps", "csat", "emotion"):
            out.run(
                metric,
                lambda m=metric: experience(target, metric=m, by="touchpoint", journey=journey),
            )
        out.run("gap", lambda: gap(target, journey=journey))
        if any(tp.referral for tp in j.touchpoints):
            out.run("ambassadors", lambda: ambassadors(target, journey=journey))
    else:
        out.skipped["experience"] = "no feedback (NPS, CSAT, CES, emotion) in the workspace yet"
    out.run("attribution", lambda: attribution(target, journey=journey, seed=seed))
    out.run("drivers", lambda: drivers(target, journey=journey))
    if whatif:
        from klantreis.simulate.whatif import rank

        out.run("whatif", lambda: rank(j, seed=seed))
    return out


def map_results(
    ws: Any,
    *,
    persona: str | None = None,
    segment: str | None = None,
    journey: str | None = None,
    window: str = "30d",
) -> Overview:
    """Only the analyses the journey map's metrics lane and measured line need, with the
    same parameters as :func:`run_all`: the phase funnel, the funnel along the designed
    path, and NPS, CSAT and emotion per touchpoint (when there is feedback).

    For a map per persona without running every analysis again for each persona.
    """
    from klantreis.analytics import experience, funnel, phase_funnel

    target = ws
    if persona is not None or segment is not None:
        from klantreis.analytics.scope import scoped

        target = scoped(ws, persona=persona, segment=segment, journey=journey)
    out = Overview()
    out.run("phase_funnel", lambda: phase_funnel(target, window=window, journey=journey))
    steps = _funnel_steps(ws.journey(journey))
    if len(steps) >= 2:
        out.run("funnel", lambda: funnel(target, steps=steps, window=window))
    if target.feedback.count().execute() > 0:
        for metric in ("nps", "csat", "emotion"):
            out.run(
                metric,
                lambda m=metric: experience(target, metric=m, by="touchpoint", journey=journey),
            )
    return out


def emotion_overlays(
    ws: Any, by: str = "persona", *, journey: str | None = None
) -> dict[str, dict[str, float]]:
    """Measured emotion per touchpoint for each persona (or segment): group -> touchpoint
    key -> mean emotion answer on the journey's scale, for the map's overlay lines.

    Groups are the distinct values of the customers table's ``by`` column; each is
    measured with :func:`~klantreis.analytics.experience` on its :func:`scoped` part.
    Groups without emotion answers are left out.
    """
    from klantreis.analytics import experience, scoped
    from klantreis.errors import InvalidSpec

    if by not in ("persona", "segment"):
        raise InvalidSpec(
            "by", "overlay per persona or segment", value=by, allowed=["persona", "segment"]
        )
    column = ws.customers[by]
    values = ws.customers.filter(column.notnull()).select(by).distinct().execute()[by]
    out: dict[str, dict[str, float]] = {}
    for group in sorted(str(v) for v in values):
        part = scoped(ws, journey=journey, **{by: group})
        table = experience(part, metric="emotion", by="touchpoint", journey=journey).table
        scores = {
            str(k): float(v) for k, v in zip(table["key"], table["score"], strict=True) if v == v
        }
        if scores:
            out[group] = scores
    return out
