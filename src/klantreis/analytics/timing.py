"""Time: how long customers take to convert, and how long they spend in each phase.

``timing(ws, kind="convert")``: per customer, the seconds from their first event to
their first event at a conversion touchpoint (the journey's, or ``conversion=``).
Customers who never converted count in ``customers`` but have no time. Per group:
customers, converted, conversion_rate, median_seconds, p90_seconds, mean_seconds
(percentiles interpolated like ``numpy.percentile``); ``extras['distribution']`` counts
the converted customers per time bucket (up to 1 hour, 1 day, 7 days, 30 days, 90
days, longer).

``timing(ws, kind="phase", rule=...)``: per phase of the journey (in journey order),
the time a customer spends in it, by one of two rules:

- ``span`` (default): from the customer's first to their last event at touchpoints of
  the phase (0 when there is one event);
- ``entry``: a customer *enters* a phase at their first event there; phases are
  ordered per customer by entry (ties by event id), and the time in a phase runs from
  its entry to the entry of the next phase the customer enters. The last phase a
  customer entered has no time yet: it counts in ``open``.

Columns: group, phase, customers (customers with an event in the phase), measured
(customers with a time), open, median_seconds, p90_seconds, mean_seconds. Events at
touchpoints outside the journey have no phase and are left out.

``by='persona'`` or ``by='segment'`` splits every figure by that column of the
customers table; customers without a value are in the group ``(none)``. Without
``by`` the group is ``(all)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klantreis.analytics._paths_common import (
    NO_GROUP,
    conversion_touchpoints,
    customer_groups,
    journey_of,
    placed_events,
)
from klantreis.analytics._time import seconds_between
from klantreis.errors import InvalidSpec
from klantreis.result import Result, execute

if TYPE_CHECKING:
    import ibis

__all__ = ["BUCKETS", "KINDS", "RULES", "TimingSpec", "timing"]

KINDS = ("convert", "phase")
RULES = ("span", "entry")
ALL = "(all)"
#: Upper bounds (seconds, inclusive) and labels of the time-to-convert distribution.
BUCKETS: tuple[tuple[float, str], ...] = (
    (3600, "<= 1h"),
    (86400, "<= 1d"),
    (7 * 86400, "<= 7d"),
    (30 * 86400, "<= 30d"),
    (90 * 86400, "<= 90d"),
    (float("inf"), "> 90d"),
)


@dataclass(frozen=True)
class TimingSpec:
    kind: str = "convert"
    rule: str = "span"
    by: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidSpec("kind", "unknown kind of time", value=self.kind, allowed=KINDS)
        if self.rule not in RULES:
            raise InvalidSpec(
                "rule", "unknown rule for time in phase", value=self.rule, allowed=RULES
            )
        if self.by is not None and self.by not in ("persona", "segment"):
            raise InvalidSpec(
                "by", "unknown grouping", value=self.by, allowed=["persona", "segment"]
            )


def _with_group(table: ibis.Table, groups: ibis.Table | None) -> ibis.Table:
    import ibis

    if groups is None:
        return table.mutate(group=ibis.literal(ALL))
    joined = table.left_join(groups, table.customer_id == groups.customer_id)
    return joined.mutate(group=joined.grp.fill_null(NO_GROUP)).drop("grp", "customer_id_right")


def convert_expr(
    events: ibis.Table, conversion: list[str], groups: ibis.Table | None
) -> ibis.Table:
    """Per customer: customer_id, group, seconds (null when not converted)."""
    ev = events
    per = ev.group_by("customer_id").agg(
        first=ev.timestamp.min(),
        conv=ev.timestamp.min(where=ev.touchpoint.isin(conversion)),
    )
    per = per.select("customer_id", seconds=seconds_between(per.conv, per.first))
    return _with_group(per, groups)


def _summary(per: ibis.Table, keys: list[str]) -> ibis.Table:
    s = per.seconds
    return per.group_by(keys).agg(
        measured=s.count(),
        q=s.quantile([0.5, 0.9]),
        mean_seconds=s.mean(),
    )


def phase_expr(
    events: ibis.Table,
    phase_of: dict[str, str],
    rule: str,
    groups: ibis.Table | None,
) -> ibis.Table:
    """Per customer and phase: customer_id, phase, group, seconds (null when open)."""
    import ibis

    ev = events.filter(events.touchpoint.isin(list(phase_of)))
    ev = ev.mutate(phase=ev.touchpoint.substitute(phase_of))
    if rule == "span":
        per = ev.group_by(["customer_id", "phase"]).agg(
            first=ev.timestamp.min(), last=ev.timestamp.max()
        )
        per = per.select("customer_id", "phase", seconds=seconds_between(per["last"], per["first"]))
    else:
        w = ibis.window(group_by=["customer_id", "phase"], order_by=["timestamp", "event_id"])
        entries = ev.mutate(_n=ibis.row_number().over(w))
        entries = entries.filter(entries._n == 0)
        wc = ibis.window(group_by="customer_id", order_by=["timestamp", "event_id"])
        per = entries.select(
            "customer_id",
            "phase",
            seconds=seconds_between(entries.timestamp.lead().over(wc), entries.timestamp),
        )
    return _with_group(per, groups)


def timing(
    ws: Any,
    *,
    kind: str = "convert",
    rule: str = "span",
    by: str | None = None,
    conversion: str | list[str] | None = None,
    journey: str | None = None,
) -> Result:
    """Time to convert (``kind='convert'``) or time in each phase (``kind='phase'``).

    See the module docstring for the definitions. Returns a Result named ``timing``.
    """
    import pandas as pd

    from klantreis.i18n import t

    spec = TimingSpec(kind=kind, rule=rule, by=by)
    jr = journey_of(ws, journey)
    groups = customer_groups(ws, spec.by)
    lang = ws.settings.language
    events = placed_events(ws)
    extras: dict[str, Any] = {}
    if spec.kind == "convert":
        conv = conversion_touchpoints(ws, jr, conversion)
        if not conv:
            raise InvalidSpec(
                "conversion",
                t("paths.timing.no_conversion", lang),
                hint=t("paths.timing.no_conversion_hint", lang),
            )
        per = convert_expr(events, conv, groups)
        summary = _summary(per, ["group"])
        summary = summary.join(per.group_by("group").agg(customers=per.count()), "group")
        df, sql, seconds = execute(summary.order_by("group"), ws.con)
        df = _finish(df)
        df["converted"] = df["measured"]
        df["conversion_rate"] = df["converted"] / df["customers"]
        table = df[
            [
                "group",
                "customers",
                "converted",
                "conversion_rate",
                "median_seconds",
                "p90_seconds",
                "mean_seconds",
            ]
        ]
        dist, _, more = execute(_distribution(per), ws.con)
        seconds += more
        extras["distribution"] = _distribution_frame(dist, list(table["group"]))
        definition = t("paths.timing.convert", lang, conversion=", ".join(conv))
        params: dict[str, Any] = {
            "kind": "convert",
            "by": spec.by,
            "conversion": conv,
            "journey": jr.key,
        }
    else:
        phase_of = jr.phase_of()
        per = phase_expr(events, phase_of, spec.rule, groups)
        summary = _summary(per, ["group", "phase"])
        counts = per.group_by(["group", "phase"]).agg(customers=per.count())
        summary = summary.join(counts, ["group", "phase"])
        df, sql, seconds = execute(summary, ws.con)
        df = _finish(df)
        df["open"] = df["customers"] - df["measured"]
        order = {p.key: i for i, p in enumerate(jr.ordered_phases())}
        df["_o"] = df["phase"].map(order)
        df = df.sort_values(["group", "_o"]).reset_index(drop=True)
        table = df[
            [
                "group",
                "phase",
                "customers",
                "measured",
                "open",
                "median_seconds",
                "p90_seconds",
                "mean_seconds",
            ]
        ]
        definition = t(f"paths.timing.{spec.rule}", lang)
        params = {"kind": "phase", "rule": spec.rule, "by": spec.by, "journey": jr.key}
    if spec.by is not None:
        definition += " " + t("paths.timing.by", lang, by=spec.by)
    return Result(
        name="timing",
        table=pd.DataFrame(table).reset_index(drop=True),
        definition=definition,
        params=params,
        sql=sql,
        seconds=seconds,
        extras=extras,
    )


def _finish(df: Any) -> Any:
    df = df.reset_index(drop=True)
    df["median_seconds"] = [q[0] if q is not None and len(q) else float("nan") for q in df["q"]]
    df["p90_seconds"] = [q[1] if q is not None and len(q) else float("nan") for q in df["q"]]
    for col in ("median_seconds", "p90_seconds", "mean_seconds"):
        df[col] = df[col].astype("float64")
    for col in ("customers", "measured"):
        df[col] = df[col].astype("int64")
    df["group"] = df["group"].astype(object)
    return df


def _distribution(per: ibis.Table) -> ibis.Table:
    import ibis

    s = per.seconds
    cases = [(s <= bound, ibis.literal(i)) for i, (bound, _) in enumerate(BUCKETS[:-1])]
    bucket = ibis.cases(*cases, else_=ibis.literal(len(BUCKETS) - 1))
    conv = per.filter(s.notnull()).mutate(bucket=bucket)
    return conv.group_by(["group", "bucket"]).agg(customers=conv.count())


def _distribution_frame(dist: Any, groups: list[str]) -> Any:
    import pandas as pd

    rows = []
    found = {
        (g, int(b)): int(n)
        for g, b, n in dist[["group", "bucket", "customers"]].itertuples(index=False)
    }
    for g in groups:
        for i, (_, label) in enumerate(BUCKETS):
            rows.append({"group": g, "bucket": label, "customers": found.get((g, i), 0)})
    return pd.DataFrame(rows, columns=["group", "bucket", "customers"])
