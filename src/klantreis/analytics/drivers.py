"""Drivers: which touchpoints, channels and customer properties go with an outcome.

``drivers(ws, outcome="conversion")`` compares, for every feature value, the customers
who have it with those who do not in a 2x2 table (a: with feature and outcome,
b: with feature without outcome, c: without feature with outcome, d: neither):

- odds ratio ``(a d) / (b c)`` with Woolf's (logit) 95% interval, adding 0.5 to every
  cell when a cell is 0; p-value of the Wald z on the log odds ratio, Holm-corrected
  over all features shown (``significant`` at 5%);
- only feature values held by at least ``min_support`` customers (and not by all);
- ranked by odds ratio, highest first.

Outcomes: *conversion* - population: customers with any event; outcome: an event at a
conversion touchpoint; features are taken from events before the first conversion
(conversion touchpoints themselves are not features). *promoter* - population:
customers with an NPS answer; outcome: their latest answer is 9-10; features from all
their events. Features: touchpoint (all touchpoints in the data; ``mapped`` says
whether the journey defines it), channel, segment, persona (customers table) and
``attribute.NAME`` (a key of the customers' JSON attributes, as text).
"""

from __future__ import annotations

import math
from typing import Any

from klantreis.analytics._stats import Z95, holm, odds_ratio
from klantreis.analytics.scope import (
    events_of,
    feedback_of,
    journey_of,
    keys_with,
    touchpoint_frame,
)
from klantreis.errors import InvalidSpec
from klantreis.i18n import t
from klantreis.result import Result, cache_table, execute, release_table

__all__ = ["FEATURES", "OUTCOMES", "drivers"]

OUTCOMES = ("conversion", "promoter")
FEATURES = ("touchpoint", "channel", "segment", "persona")


def drivers(
    ws: Any,
    outcome: str = "conversion",
    *,
    features: tuple[str, ...] | list[str] = FEATURES,
    min_support: int = 10,
    touchpoints: list[str] | None = None,
    journey: str | None = None,
) -> Result:
    """Odds ratios of features for an outcome (see the module docstring)."""
    import ibis
    import pandas as pd

    if outcome not in OUTCOMES:
        raise InvalidSpec("outcome", "unknown outcome", value=outcome, allowed=OUTCOMES)
    for f in features:
        if f not in FEATURES and not (f.startswith("attribute.") and len(f) > len("attribute.")):
            allowed = [*FEATURES, "attribute.NAME"]
            raise InvalidSpec("features", "unknown feature kind", value=f, allowed=allowed)
    if min_support < 1:
        raise InvalidSpec("min_support", "must be 1 or more", value=min_support)
    frame = touchpoint_frame(ws, journey_of(ws, journey))
    ev = events_of(ws)
    keys: list[str] = []
    codes: list[tuple[str, Any]] | None = None
    if outcome == "conversion":
        keys = list(touchpoints) if touchpoints else keys_with(frame, "conversion")
        if not keys:
            raise InvalidSpec(
                "touchpoints",
                "no conversion touchpoint: mark one with 'conversion: true' or pass touchpoints",
            )
        codes = _feature_codes(ws, ev, keys, features)
        if codes is not None:
            pop = _conversion_masks(ws, ev, keys, codes)
        else:
            evf, pop = _conversion_events(ev, keys)
    else:
        fb = feedback_of(ws)
        fb = fb.filter((fb.metric.lower() == "nps") & fb.score.between(0, 10))
        w = ibis.window(
            group_by="customer_id", order_by=[ibis.desc("timestamp"), ibis.desc("feedback_id")]
        )
        latest = fb.mutate(rank=ibis.row_number().over(w)).filter(lambda t: t.rank == 0)
        pop = latest.select("customer_id", y=latest.score >= 9)
        evf = ev.join(pop, "customer_id")
    pop = cache_table(pop)
    try:
        parts = []
        if codes is None:
            totals, sql, seconds = execute(
                pop.aggregate(n=pop.customer_id.count(), k=pop.y.sum()), ws.con
            )
            n_all, k_all = int(totals.n.iloc[0] or 0), int(totals.k.iloc[0] or 0)
        else:
            counts, sql, seconds = execute(_mask_counts(pop, codes), ws.con)
            n_all, k_all, found = _mask_rows(counts, codes)
            parts.append(found)
        rows = []
        # touchpoint and channel features in one pass over the events
        for kind in (f for f in features if f in ("touchpoint", "channel") and codes is None):
            r = evf.select("customer_id", "y", kind=ibis.literal(kind), value=evf[kind])
            rows.append(r.filter(r.value.notnull()))
        for kind in (f for f in features if f not in ("touchpoint", "channel")):
            cust = ws.customers
            if kind.startswith("attribute."):
                raw = cust.attributes.cast("json")[kind.removeprefix("attribute.")]
                column = raw.cast("string").re_replace('^"|"$', "")
            else:
                column = cust[kind]
            cust = cust.select("customer_id", value=column)
            cust = cust.filter(cust.value.notnull() & (cust.value != "null"))
            rows.append(
                pop.join(cust, "customer_id").select(
                    "customer_id", "y", kind=ibis.literal(kind), value="value"
                )
            )
        if rows:
            u = ibis.union(*rows, distinct=False) if len(rows) > 1 else rows[0]
            u = u.mutate(value=u.value.cast("string")).distinct()
            agg = u.group_by("kind", "value").agg(
                customers=u.customer_id.count(), outcome=u.y.sum()
            )
            df, _, sec = execute(agg, ws.con)
            seconds += sec
            parts.append(df[["kind", "value", "customers", "outcome"]])
    finally:
        release_table(pop)
    if parts:
        order = {kind: i for i, kind in enumerate(features)}
        df = pd.concat(parts, ignore_index=True)
        df = df.assign(_o=df.kind.map(order)).sort_values(["_o", "value"]).drop(columns="_o")
        parts = [df]
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["kind", "value", "customers", "outcome"])
    )
    out = out[(out.customers >= min_support) & (out.customers < n_all)].copy()
    records = []
    known = set(frame.touchpoint)
    for r in out.itertuples(index=False):
        a, with_f = int(r.outcome), int(r.customers)
        b, c = with_f - a, k_all - a
        d = (n_all - k_all) - b
        ratio, low, high = odds_ratio(a, b, c, d)
        se = (math.log(high) - math.log(low)) / (2 * Z95)
        p = math.erfc(abs(math.log(ratio)) / se / math.sqrt(2)) if se > 0 else 1.0
        records.append(
            {
                "kind": r.kind,
                "value": str(r.value),
                "mapped": (str(r.value) in known) if r.kind == "touchpoint" else True,
                "customers": with_f,
                "outcome": a,
                "rate": a / with_f,
                "rate_without": c / (n_all - with_f),
                "odds_ratio": ratio,
                "low": low,
                "high": high,
                "p": p,
            }
        )
    cols = [
        "kind",
        "value",
        "mapped",
        "customers",
        "outcome",
        "rate",
        "rate_without",
        "odds_ratio",
        "low",
        "high",
        "p",
    ]
    table = pd.DataFrame(records, columns=cols)
    table["p_holm"] = holm(list(table.p))
    table["significant"] = (table.p_holm < 0.05).astype(bool)
    table = table.sort_values(
        ["odds_ratio", "kind", "value"], ascending=[False, True, True]
    ).reset_index(drop=True)
    table = table.astype({"customers": "int64", "outcome": "int64", "mapped": bool})
    return Result(
        name="drivers",
        table=table,
        definition=t(
            "loyalty.definition.drivers",
            ws.settings.language,
            outcome=t(f"loyalty.drivers.outcome.{outcome}", ws.settings.language),
            customers=n_all,
            with_outcome=k_all,
            min_support=min_support,
        ),
        params={
            "outcome": outcome,
            "features": list(features),
            "min_support": min_support,
            "touchpoints": keys,
        },
        sql=sql,
        seconds=seconds,
        extras={"population": {"customers": n_all, "outcome": k_all}},
    )


# -- conversion features --------------------------------------------------------------
#
# A customer's touchpoint and channel features are the values seen before the first
# conversion. Joining every event to its customer's first conversion and taking the
# distinct (customer, feature) rows costs seconds on 10M events; instead each feature
# value gets a bit, and one aggregate per customer ORs the bits of the events that
# count: all events of a customer without a conversion; for the converters, a join of
# the events with the few converters only, strictly before the first conversion. The
# events are the timeline's (it skips the sort) with the few it leaves out (no
# timestamp or no touchpoint) added. Counting the customers per bit is then one small
# aggregate over the customers. Backends without bit_or, and data with more feature
# values than a mask holds, take the general way (:func:`_conversion_events`).

_BITS = 62  # feature values per mask (bits of a non-negative int64)
# t touchpoints and c channels (t + c <= _BITS) make at most (t + 1) * (c + 1) <= 32 * 32
# distinct (touchpoint, channel) pairs, nulls included: more pairs, more values
_PAIRS = (_BITS // 2 + 1) ** 2 + 1


def _eligible(table: Any, keys: list[str]) -> Any:
    """Events whose touchpoint and channel can be features (not a conversion)."""
    return ~table.touchpoint.isin(keys) | table.touchpoint.isnull()


def _feature_codes(
    ws: Any, ev: Any, keys: list[str], features: Any
) -> list[tuple[str, Any]] | None:
    """The touchpoint and channel values that can be features, one bit each, or None
    when they do not fit in a mask (or the backend has no bit_or): the general way."""
    import ibis.expr.operations as ops

    kinds = [k for k in ("touchpoint", "channel") if k in features]
    if not ws.con.has_operation(ops.BitOr) or any(not ev[k].type().is_string() for k in kinds):
        return None
    codes: list[tuple[str, Any]] = []
    if kinds:
        found, _, _ = execute(
            ev.filter(_eligible(ev, keys)).select(*kinds).distinct().limit(_PAIRS), ws.con
        )
        for kind in kinds:
            codes += [(kind, v) for v in sorted(set(found[kind].dropna()))]
        if len(codes) > _BITS or len(found) >= _PAIRS:
            return None
    return codes


def _mask(table: Any, codes: list[tuple[str, Any]], where: Any = None) -> Any:
    """The OR of the feature bits of ``table``'s events (a conversion touchpoint has no
    bit), as an aggregate."""
    import ibis

    parts = []
    for kind in ("touchpoint", "channel"):
        bits = {value: 1 << i for i, (k, value) in enumerate(codes) if k == kind}
        if bits:
            # a map lookup: a CASE over the values costs three times as much on DuckDB
            lookup = ibis.literal(bits, type="map<string, int64>")
            parts.append(lookup.get(table[kind], ibis.literal(0, "int64")))
    if not parts:
        return ibis.literal(0, "int64")
    bits = parts[0] if len(parts) == 1 else parts[0] | parts[1]
    return bits.bit_or(where=where)


def _conversion_masks(ws: Any, ev: Any, keys: list[str], codes: list[tuple[str, Any]]) -> Any:
    """Per customer with an event: customer_id, y (converted), mask (feature bits)."""
    import ibis

    from klantreis.analytics._time import epoch_micros
    from klantreis.analytics._timeline import timeline

    schema = {"customer_id": "string", "touchpoint": "string", "channel": "string", "us": "int64"}

    def events() -> Any:
        # the timeline's events and the few it leaves out (no timestamp or no touchpoint),
        # a relation of its own each time: a shared one is a CTE that DuckDB materializes
        tl = timeline(ws)
        un = ev.view()
        un = un.filter(un.timestamp.isnull() | un.touchpoint.isnull())
        un = un.select("customer_id", "touchpoint", "channel", us=epoch_micros(un.timestamp))
        both = ibis.union(tl.select(*schema).cast(schema), un.cast(schema), distinct=False)
        return both.filter(both.customer_id.notnull())

    conv = events()
    conv = conv.filter(conv.touchpoint.isin(keys))
    first = conv.group_by("customer_id").agg(first=conv.us.min())
    # converters: their events before the first conversion (none is a conversion)
    e = events()
    early = e.join(first, [e.customer_id == first.customer_id, e.us < first.first])
    early = early.group_by("customer_id").agg(early=_mask(early, codes))
    e = events()
    is_conv = e.touchpoint.isin(keys)
    everyone = e.group_by("customer_id").agg(
        first=e.us.min(where=is_conv), mask=_mask(e, codes, _eligible(e, keys))
    )
    pop = everyone.left_join(early, "customer_id")
    return pop.select(
        "customer_id",
        y=pop.first.notnull(),
        mask=pop.first.isnull().ifelse(pop.mask.fill_null(0), pop.early.fill_null(0)),
    ).cast({"mask": "int64"})


def _conversion_events(ev: Any, keys: list[str]) -> tuple[Any, Any]:
    """The general way: every event beside its customer's first conversion time
    (events that count as features, with y) and the population (customer_id, y)."""
    conv = ev.filter(ev.touchpoint.isin(keys)).group_by("customer_id").agg(first=ev.timestamp.min())
    evf = ev.left_join(conv, ev.customer_id == conv.customer_id)
    evf = evf.select(
        customer_id=ev.customer_id,
        timestamp=ev.timestamp,
        touchpoint=ev.touchpoint,
        channel=ev.channel,
        first=conv.first,
    )
    evf = evf.mutate(y=evf.first.notnull())
    # the population once (every customer with an event), kept for the other features
    pop = evf.group_by("customer_id").agg(y=evf.y.any())
    evf = evf.filter(evf.first.isnull() | (evf.timestamp < evf.first))
    evf = evf.filter(~evf.touchpoint.isin(keys) | evf.touchpoint.isnull())
    return evf, pop


def _mask_counts(pop: Any, codes: list[tuple[str, Any]]) -> Any:
    """Per y (converted or not): n (customers) and, per feature bit i, c<i> (customers
    with the feature)."""
    import ibis

    counts: dict[str, Any] = {"n": pop.count()}
    for i in range(len(codes)):
        counts[f"c{i}"] = ((pop.mask >> ibis.literal(i, "int64")) & 1).sum()
    return pop.group_by("y").agg(**counts)


def _mask_rows(counts: Any, codes: list[tuple[str, Any]]) -> tuple[int, int, Any]:
    """n, k and the feature rows (kind, value, customers, outcome) of :func:`_mask_counts`."""
    import pandas as pd

    counts = counts.fillna(0)
    converted = counts[counts.y.astype(bool)]
    n, k = int(counts.n.sum()), int(converted.n.sum())
    records = [
        {
            "kind": kind,
            "value": str(value),
            "customers": int(counts[f"c{i}"].sum()),
            "outcome": int(converted[f"c{i}"].sum()),
        }
        for i, (kind, value) in enumerate(codes)
    ]
    frame = pd.DataFrame(records, columns=["kind", "value", "customers", "outcome"])
    return n, k, frame[frame.customers > 0]
