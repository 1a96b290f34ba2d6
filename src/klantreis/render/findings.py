"""Key findings in plain words, computed from analytics results' tables (never querying).

Each finder takes the journey, the results and the language, and returns a
:class:`Finding` (a title and sentences) or None when the results it needs are absent.

    >>> import pandas as pd
    >>> from klantreis.result import Result
    >>> from klantreis.model import Journey
    >>> table = pd.DataFrame({"step": [1, 2, 3], "name": ["a", "b", "c"],
    ...                       "customers": [100, 40, 30]})
    >>> f = dropoff_finding(Journey(key="j"), {"f": Result("funnel", table, "")}, "en")
    >>> f.items[0]
    'From a to b: 60 of 100 customers (60.0%) do not go on.'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from klantreis.i18n import format_date, format_number, format_percent, t

if TYPE_CHECKING:
    import pandas as pd

    from klantreis.model.journey import Journey

__all__ = [
    "Finding",
    "attribution_finding",
    "dropoff_finding",
    "find_all",
    "gap_finding",
    "goal_finding",
    "whatif_finding",
]

TOP = 3


@dataclass
class Finding:
    kind: str
    title: str
    items: list[str] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)


def _of(results: Mapping[str, Any], *names: str) -> list[Any]:
    return [r for r in results.values() if getattr(r, "name", None) in names and len(r.table)]


def _label(journey: Journey, key: Any, lang: str) -> str:
    parts = []
    for k in str(key).split("|"):
        k = k.strip()
        known = next((tp for tp in journey.touchpoints if tp.key == k), None) or next(
            (p for p in journey.phases if p.key == k), None
        )
        parts.append(known.label(lang) if known is not None else k)
    return " | ".join(parts)


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _col(table: pd.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in table.columns), None)


def dropoff_finding(journey: Journey, results: Mapping[str, Any], lang: str) -> Finding | None:
    """The biggest drop-off moments (most customers lost between two funnel steps)."""
    moments = []
    for result in _of(results, "funnel", "phase_funnel"):
        if (result.params or {}).get("by"):
            continue
        table = result.table
        if not {"name", "customers"} <= set(table.columns):
            continue
        rows = (table.sort_values("step") if "step" in table.columns else table).to_dict("records")
        for a, b in itertools.pairwise(rows):
            reached, went_on = _num(a["customers"]), _num(b["customers"])
            if not reached or went_on is None:
                continue
            lost = reached - went_on
            if lost <= 0:
                continue
            moments.append(
                {
                    "source": a["name"],
                    "target": b["name"],
                    "customers": reached,
                    "lost": lost,
                    "share": lost / reached,
                }
            )
    if not moments:
        return None
    moments.sort(key=lambda m: (-m["lost"], -m["share"]))
    top = moments[:TOP]
    items = [
        t(
            "render.finding.dropoff.item",
            lang,
            source=_label(journey, m["source"], lang),
            target=_label(journey, m["target"], lang),
            lost=format_number(m["lost"], lang, digits=0),
            customers=format_number(m["customers"], lang, digits=0),
            share=format_percent(m["share"], lang),
        )
        for m in top
    ]
    return Finding("dropoff", t("render.finding.dropoff.title", lang), items, top)


def gap_finding(journey: Journey, results: Mapping[str, Any], lang: str) -> Finding | None:
    """The largest experience gaps (a ``gap`` result: key, current/measured, desired, gap,
    customers; in the result's order when it has a rank or priority, else by gap x customers)."""
    for result in _of(results, "gap"):
        table = result.table
        key, gap = _col(table, "key", "touchpoint"), _col(table, "gap")
        if key is None or gap is None:
            continue
        current = _col(table, "measured", "current", "score")
        desired = _col(table, "desired")
        customers = _col(table, "customers", "affected")
        rows = table.to_dict("records")
        if _col(table, "rank", "priority") is None:
            rows.sort(key=lambda r, g=gap, c=customers: _weight(r, g, c), reverse=True)
        rows = [r for r in rows if (_num(r[gap]) or 0) > 0][:TOP]
        if not rows:
            return None
        items = []
        for r in rows:
            now = _num(r.get(current)) if current else None
            if now is None and "designed" in table.columns:
                now = _num(r.get("designed"))
            text = t(
                "render.finding.gap.item",
                lang,
                touchpoint=_label(journey, r[key], lang),
                current=_fmt(now, lang),
                desired=_fmt(r.get(desired) if desired else None, lang),
                gap=_fmt(r[gap], lang),
            )
            if customers and _num(r.get(customers)) is not None:
                text += t(
                    "render.finding.gap.customers",
                    lang,
                    customers=format_number(_num(r[customers]) or 0, lang, digits=0),
                )
            items.append(text)
        return Finding("gap", t("render.finding.gap.title", lang), items, rows)
    return None


def _weight(row: dict[str, Any], gap: str, customers: str | None) -> float:
    """gap x customers affected (gap alone without a customers column)."""
    g = _num(row[gap]) or 0.0
    return g * (_num(row[customers]) or 1.0) if customers else g


def _fmt(value: Any, lang: str) -> str:
    number = _num(value)
    return "–" if number is None else format_number(number, lang, digits=1)


_PREFERRED_MODELS = (
    "markov",
    "shapley",
    "linear",
    "position_based",
    "time_decay",
    "last_non_direct",
    "last_touch",
    "first_touch",
)


def attribution_finding(journey: Journey, results: Mapping[str, Any], lang: str) -> Finding | None:
    """The touchpoints that earn most conversions (long-form attribution: key, model,
    conversions, value), by the result's own model, else Markov, Shapley, linear..."""
    for result in _of(results, "attribution"):
        table = result.table
        if not {"key", "conversions"} <= set(table.columns):
            continue
        models = list(dict.fromkeys(table["model"])) if "model" in table.columns else [None]
        wanted = (result.params or {}).get("model")
        model = (
            wanted
            if wanted in models
            else next((m for m in _PREFERRED_MODELS if m in models), models[0])
        )
        part = table if model is None else table[table["model"] == model]
        total = float(part["conversions"].sum())
        if total <= 0:
            continue
        top = (
            part.sort_values(["conversions", "key"], ascending=[False, True])
            .head(TOP)
            .to_dict("records")
        )
        items = [
            t(
                "render.finding.attribution.item",
                lang,
                touchpoint=_label(journey, r["key"], lang),
                conversions=format_number(float(r["conversions"]), lang, digits=1),
                share=format_percent(float(r["conversions"]) / total, lang),
                model=model or "-",
            )
            for r in top
        ]
        return Finding("attribution", t("render.finding.attribution.title", lang), items, top)
    return None


def whatif_finding(journey: Journey, results: Mapping[str, Any], lang: str) -> Finding | None:
    """The best improvement candidates from a ranking ``whatif`` result (columns
    touchpoint, change, ``<metric>_gain``; params metric), best first."""
    for result in _of(results, "whatif"):
        table, params = result.table, result.params or {}
        metric = str(params.get("metric", "conversion"))
        gain = _col(table, f"{metric}_gain", "gain")
        where = _col(table, "touchpoint", "key", "scenario", "name")
        if gain is None or where is None:
            continue
        rows = [r for r in table.to_dict("records") if (_num(r[gain]) or 0) > 0]
        if "rank" not in table.columns:
            rows.sort(key=lambda r: -(_num(r[gain]) or 0))
        rows = rows[:TOP]
        if not rows:
            return None
        items = []
        for r in rows:
            value = _num(r[gain]) or 0.0
            if metric == "conversion":
                shown = t(
                    "render.finding.pp", lang, value=format_number(100 * value, lang, digits=1)
                )
            else:
                shown = format_number(value, lang, digits=1)
            change = r.get("change")
            items.append(
                t(
                    "render.finding.whatif.item",
                    lang,
                    touchpoint=_label(journey, r[where], lang),
                    change=f" ({change})" if change else "",
                    metric=metric,
                    gain=shown,
                )
            )
        return Finding("whatif", t("render.finding.whatif.title", lang), items, rows)
    return None


def _goal_value(metric: str, results: Mapping[str, Any]) -> float | None:
    """The current value of the goal's metric from the results, if any measures it."""
    metric = metric.lower()
    if metric in ("conversion", "conversie", "conversion_rate"):
        for result in _of(results, "funnel"):
            table = result.table
            if (result.params or {}).get("by") or (result.params or {}).get("phases"):
                continue
            if "conversion_from_start" in table.columns:
                rows = table.sort_values("step") if "step" in table.columns else table
                return _num(rows["conversion_from_start"].iloc[-1])
    for result in _of(results, "experience"):
        params = result.params or {}
        if str(params.get("metric", "")).lower() != metric or "score" not in result.table.columns:
            continue
        table = result.table
        if len(table) == 1:
            return _num(table["score"].iloc[0])
        if "responses" in table.columns and params.get("by") in (None, "touchpoint", "phase"):
            weights = table["responses"].astype(float)
            if weights.sum() > 0:
                return float((table["score"].astype(float) * weights).sum() / weights.sum())
    return None


def goal_finding(journey: Journey, results: Mapping[str, Any], lang: str) -> Finding | None:
    """How far the SMART goal's metric has moved from its baseline toward its target."""
    goal = journey.goal
    if goal is None:
        return None
    title = t("render.finding.goal.title", lang)
    share = goal.metric.lower() in ("conversion", "conversie", "conversion_rate", "csat")

    def show(v: float) -> str:
        return (
            format_percent(v, lang) if share and abs(v) <= 1 else format_number(v, lang, digits=1)
        )

    current = _goal_value(goal.metric, results)
    deadline = format_date(goal.deadline, lang)
    if current is None:
        text = t(
            "render.finding.goal.unmeasured",
            lang,
            metric=goal.metric,
            target=show(goal.target),
            deadline=deadline,
        )
        return Finding("goal", title, [text], [{"current": None}])
    baseline = goal.baseline
    progress = None
    if baseline is not None and goal.target != baseline:
        progress = (current - baseline) / (goal.target - baseline)
    text = t(
        "render.finding.goal.item",
        lang,
        metric=goal.metric,
        current=show(current),
        baseline=show(baseline) if baseline is not None else "–",
        target=show(goal.target),
        deadline=deadline,
        progress=format_percent(progress, lang, digits=0) if progress is not None else "–",
    )
    return Finding("goal", title, [text], [{"current": current, "progress": progress}])


def find_all(journey: Journey, results: Mapping[str, Any], lang: str) -> list[Finding]:
    """Every finding the results support, in the report's order."""
    finders = (dropoff_finding, gap_finding, attribution_finding, whatif_finding, goal_finding)
    return [f for f in (finder(journey, results, lang) for finder in finders) if f is not None]
