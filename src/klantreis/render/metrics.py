"""Measured numbers for the map's metrics lane and measured emotion line.

The map never queries the store: the caller passes a :class:`MapMetrics`, a small plain
structure with, per touchpoint key (and optionally per phase key), the numbers the
analytics computed. :func:`map_metrics_from_results` fills one from analytics results
(funnel, phase funnel, experience), so a caller with results needs nothing else.

    >>> m = MapMetrics(touchpoints={"site": TouchpointMetrics(customers=120, conversion=1.0)})
    >>> m.for_touchpoint("site").customers, m.for_touchpoint("other").customers
    (120, None)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klantreis.model.journey import Journey

__all__ = ["MapMetrics", "TouchpointMetrics", "map_metrics_from_results"]


@dataclass(frozen=True)
class TouchpointMetrics:
    """Measured numbers at one touchpoint (or phase). Every field is optional.

    customers: customers who reached it; conversion: share of the funnel's starters
    who reached it (0..1); dropoff: share of those who reached it and did not reach the
    next step (0..1); median_seconds: median time from the previous step; nps (-100..100),
    csat (share 0..1), ces (mean); emotion, emotion_low, emotion_high: measured mean
    emotion on the journey's scale with its 95% interval; responses: feedback answers.
    """

    customers: int | None = None
    conversion: float | None = None
    dropoff: float | None = None
    median_seconds: float | None = None
    nps: float | None = None
    csat: float | None = None
    ces: float | None = None
    emotion: float | None = None
    emotion_low: float | None = None
    emotion_high: float | None = None
    responses: int | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)


@dataclass(frozen=True)
class MapMetrics:
    """What the map shows from data.

    touchpoints / phases: key -> :class:`TouchpointMetrics`; label: where the numbers
    come from (shown on the map, e.g. "events 1 Jan - 31 Mar 2026, 12,345 customers");
    overlays: extra measured emotion lines, name (persona or segment) -> touchpoint
    key -> mean emotion on the journey's scale.
    """

    touchpoints: Mapping[str, TouchpointMetrics] = field(default_factory=dict)
    phases: Mapping[str, TouchpointMetrics] = field(default_factory=dict)
    label: str | None = None
    overlays: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def for_touchpoint(self, key: str) -> TouchpointMetrics:
        return self.touchpoints.get(key) or TouchpointMetrics()

    def for_phase(self, key: str) -> TouchpointMetrics:
        return self.phases.get(key) or TouchpointMetrics()

    def has_emotion(self) -> bool:
        return any(m.emotion is not None for m in self.touchpoints.values())


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _int(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else round(number)


def map_metrics_from_results(
    results: Mapping[str, Any] | Iterable[Any],
    journey: Journey | None = None,
    *,
    label: str | None = None,
) -> MapMetrics:
    """Collect map metrics from analytics results (others are ignored).

    Uses ``funnel`` results without a breakdown (columns step, name, customers,
    conversion_from_start, median_seconds_from_previous; a phase funnel's rows, named
    by phase key or label, go to the phases; an OR-group ``a|b`` to each of its
    touchpoints) and per-touchpoint ``experience`` results (columns key, responses,
    score, low, high; ``params['metric']`` nps, csat (a percentage), ces or emotion).
    """
    items = list(results.values()) if isinstance(results, Mapping) else list(results)
    tp_keys = {tp.key for tp in journey.touchpoints} if journey is not None else set()
    phase_keys = {p.key for p in journey.phases} if journey is not None else set()
    phase_names: dict[str, str] = {}
    if journey is not None:
        for phase in journey.phases:
            for lang in ("nl", "en"):
                phase_names[phase.label(lang)] = phase.key
    per_tp: dict[str, TouchpointMetrics] = {}
    per_phase: dict[str, TouchpointMetrics] = {}

    def put(key: str, target_phase: bool, **values: Any) -> None:
        store = per_phase if target_phase else per_tp
        store[key] = replace(store.get(key) or TouchpointMetrics(), **values)

    for result in items:
        name = getattr(result, "name", None)
        table = getattr(result, "table", None)
        if table is None or not len(table):
            continue
        params = getattr(result, "params", {}) or {}
        if name == "funnel" and params.get("by"):
            continue
        if name in ("funnel", "phase_funnel") and {"name", "customers"} <= set(table.columns):
            phase_funnel = name == "phase_funnel" or bool(params.get("phases"))
            rows = table.sort_values("step") if "step" in table.columns else table
            records = rows.to_dict("records")
            for i, row in enumerate(records):
                customers = _int(row.get("customers"))
                following = _int(records[i + 1].get("customers")) if i + 1 < len(records) else None
                dropoff = None
                if customers and following is not None:
                    dropoff = 1 - following / customers
                values = {
                    "customers": customers,
                    "conversion": _num(row.get("conversion_from_start")),
                    "dropoff": dropoff,
                    "median_seconds": _num(row.get("median_seconds_from_previous")),
                }
                if phase_funnel:
                    put(phase_names.get(str(row["name"]), str(row["name"])), True, **values)
                    continue
                for key in str(row["name"]).split("|"):
                    key = key.strip()
                    put(key, key in phase_keys and key not in tp_keys, **values)
        elif name == "experience" and {"key", "score"} <= set(table.columns):
            metric = str(params.get("metric", "")).lower()
            if params.get("by", "touchpoint") != "touchpoint" or metric not in (
                "nps",
                "csat",
                "ces",
                "emotion",
            ):
                continue
            for row in table.to_dict("records"):
                key = str(row["key"])
                score = _num(row.get("score"))
                if metric == "emotion":
                    put(
                        key,
                        False,
                        emotion=score,
                        emotion_low=_num(row.get("low")),
                        emotion_high=_num(row.get("high")),
                        responses=_int(row.get("responses")),
                    )
                elif metric == "csat":
                    put(key, False, csat=None if score is None else score / 100)
                else:
                    put(key, False, **{metric: score})
    return MapMetrics(touchpoints=per_tp, phases=per_phase, label=label)
