"""Transitions: the real journey graph, as directly-follows pairs of touchpoints.

A customer's events are ordered by ``(timestamp, event_id)``; every event and the one
right after it form a *transition* ``source -> target``. Per pair: the number of
transitions, the unique customers who made it, its share of all transitions out of
``source``, and the median and 90th percentile of the time between the two events
(seconds, interpolated like ``numpy.percentile``). Options:

- ``collapse``: a run of the same touchpoint counts once (``a a b`` is ``a -> b``; the
  gap is measured from the last ``a`` of the run to ``b``);
- ``sessions``: a gap longer than ``session_gap_minutes`` (default: the workspace's
  ``session_gap_minutes`` setting) breaks the path, so no transition spans it;
- ``phase``: only the events at touchpoints of that phase of the journey, in order
  (the transitions of the customers' walk inside the phase).

Touchpoints that the journey does not define are kept; ``mapped`` says whether both
ends are defined in the journey.

Cost: the unique customers are the expensive part. Counted as distinct
``(customer, source, target)`` rows they need one hash table entry per such row (about
7M for 10M events), far more than the transitions and gap quantiles (one group per
pair). A table that marks the first time each customer makes each move (a boolean
column ``first_pair``, see :func:`pairs_expr`) lets them be counted in the same single
aggregate instead, when no option removes transitions that could be a customer's first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klantreis.analytics._paths_common import (
    check_flag,
    check_phase,
    check_positive,
    customer_window,
    journey_of,
    mapped_flags,
)
from klantreis.analytics._time import seconds_between
from klantreis.analytics._timeline import timeline
from klantreis.result import Result, execute

if TYPE_CHECKING:
    import ibis

__all__ = ["COLUMNS", "TransitionSpec", "transitions", "transitions_expr"]

COLUMNS = (
    "source",
    "target",
    "transitions",
    "customers",
    "share",
    "median_seconds",
    "p90_seconds",
    "mapped",
)


@dataclass(frozen=True)
class TransitionSpec:
    """What to count: see the module docstring."""

    collapse: bool = False
    sessions: bool = False
    session_gap_minutes: int = 30
    phase: str | None = None

    def __post_init__(self) -> None:
        check_flag("collapse", self.collapse)
        check_flag("sessions", self.sessions)
        check_positive("session_gap_minutes", self.session_gap_minutes)
        if self.phase is not None and not isinstance(self.phase, str):
            from klantreis.errors import InvalidSpec

            raise InvalidSpec("phase", "must be a phase key", value=self.phase)


def pairs_expr(
    events: ibis.Table,
    spec: TransitionSpec,
    phase_touchpoints: list[str] | None = None,
) -> ibis.Table:
    """One row per transition: customer_id, source, target, gap_seconds (and first_pair).

    ``events`` is a timeline (:mod:`._timeline`: the next event beside each, no window
    needed) or events with customer_id, timestamp, event_id and touchpoint (no nulls in
    the last three). A phase keeps only its events, so their next events are found again.

    When ``events`` is a timeline with a boolean ``first_pair`` column (true at the
    customer's first move from ``touchpoint`` to ``next_touchpoint``) and neither a
    phase nor sessions drop transitions that may be such a first move, the rows keep it:
    :func:`transitions_expr` then counts the customers without a distinct. ``collapse``
    keeps it valid: it drops only moves from a touchpoint to itself, all of them.
    """
    ev = events
    if phase_touchpoints is not None:
        ev = ev.filter(ev.touchpoint.isin(phase_touchpoints))
    if phase_touchpoints is None and "next_us" in ev.columns:
        first = {}
        if "first_pair" in ev.columns and not spec.sessions:
            first["first_pair"] = ev.first_pair
        seq = ev.select(
            ev.customer_id,
            source=ev.touchpoint,
            target=ev.next_touchpoint,
            gap_seconds=(ev.next_us - ev.us) / 1_000_000,
            **first,
        )
    else:
        w = customer_window()
        seq = ev.select(
            ev.customer_id,
            source=ev.touchpoint,
            target=ev.touchpoint.lead().over(w),
            gap_seconds=seconds_between(ev.timestamp.lead().over(w), ev.timestamp),
        )
    pairs = seq.filter(seq.target.notnull())
    if spec.collapse:
        pairs = pairs.filter(pairs.source != pairs.target)
    if spec.sessions:
        pairs = pairs.filter(pairs.gap_seconds <= spec.session_gap_minutes * 60)
    return pairs


def transitions_expr(
    events: ibis.Table,
    spec: TransitionSpec,
    phase_touchpoints: list[str] | None = None,
) -> ibis.Table:
    """The transitions table (without ``mapped``) as an Ibis expression."""
    import ibis

    pairs = pairs_expr(events, spec, phase_touchpoints)
    by = ["source", "target"]
    if "first_pair" in pairs.columns:
        agg = pairs.group_by(by).agg(
            transitions=pairs.count(),
            customers=pairs.count(where=pairs.first_pair),
            gaps=pairs.gap_seconds.quantile([0.5, 0.9]),
        )
    else:
        agg = pairs.group_by(by).agg(
            transitions=pairs.count(), gaps=pairs.gap_seconds.quantile([0.5, 0.9])
        )
        # unique customers: distinct (customer, pair) rows counted per pair; this hash
        # table of a row per (customer, pair) is most of the cost
        made = pairs.select("customer_id", *by).distinct()
        who = made.group_by(by).agg(customers=made.count())
        agg = agg.join(who, by)
    out = agg.select(
        "source",
        "target",
        "transitions",
        "customers",
        share=agg.transitions / agg.transitions.sum().over(ibis.window(group_by="source")),
        median_seconds=agg.gaps[0],
        p90_seconds=agg.gaps[1],
    )
    return out.order_by([ibis.desc("transitions"), "source", "target"])


def transitions(
    ws: Any,
    *,
    collapse: bool = False,
    sessions: bool = False,
    session_gap_minutes: int | None = None,
    phase: str | None = None,
    journey: str | None = None,
) -> Result:
    """Directly-follows transitions between touchpoints (see the module docstring).

    Returns a Result named ``transitions`` whose table has the columns source, target,
    transitions, customers, share, median_seconds, p90_seconds and mapped.
    """
    from klantreis.i18n import t

    gap = ws.settings.session_gap_minutes if session_gap_minutes is None else session_gap_minutes
    spec = TransitionSpec(
        collapse=collapse, sessions=sessions, session_gap_minutes=gap, phase=phase
    )
    jr = journey_of(ws, journey)
    phase_tps = check_phase(jr, spec.phase)
    expr = transitions_expr(timeline(ws), spec, phase_tps)
    df, sql, seconds = execute(expr, ws.con)
    df = _typed(df)
    ends = zip(mapped_flags(jr, df["source"]), mapped_flags(jr, df["target"]), strict=True)
    df["mapped"] = [a and b for a, b in ends]
    lang = ws.settings.language
    parts = [t("paths.transitions.definition", lang)]
    if spec.collapse:
        parts.append(t("paths.transitions.collapse", lang))
    if spec.sessions:
        parts.append(t("paths.transitions.sessions", lang, minutes=spec.session_gap_minutes))
    if spec.phase is not None:
        parts.append(t("paths.transitions.phase", lang, phase=spec.phase))
    return Result(
        name="transitions",
        table=df[list(COLUMNS)],
        definition=" ".join(parts),
        params={
            "collapse": spec.collapse,
            "sessions": spec.sessions,
            "session_gap_minutes": spec.session_gap_minutes if spec.sessions else None,
            "phase": spec.phase,
            "journey": jr.key,
        },
        sql=sql,
        seconds=seconds,
    )


def _typed(df: Any) -> Any:
    df = df.reset_index(drop=True)
    for col in ("transitions", "customers"):
        df[col] = df[col].astype("int64")
    for col in ("share", "median_seconds", "p90_seconds"):
        df[col] = df[col].astype("float64")
    for col in ("source", "target"):
        df[col] = df[col].astype(object)
    return df
