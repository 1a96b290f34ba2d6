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
    if outcome == "conversion":
        keys = list(touchpoints) if touchpoints else keys_with(frame, "conversion")
        if not keys:
            raise InvalidSpec(
                "touchpoints",
                "no conversion touchpoint: mark one with 'conversion: true' or pass touchpoints",
            )
        conv = (
            ev.filter(ev.touchpoint.isin(keys))
            .group_by("customer_id")
            .agg(first=ev.timestamp.min())
        )
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
        totals, sql, seconds = execute(
            pop.aggregate(n=pop.customer_id.count(), k=pop.y.sum()), ws.con
        )
        n_all, k_all = int(totals.n.iloc[0] or 0), int(totals.k.iloc[0] or 0)
        rows = []
        # touchpoint and channel features in one pass over the events
        for kind in (f for f in features if f in ("touchpoint", "channel")):
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
        parts = []
        if rows:
            u = ibis.union(*rows, distinct=False) if len(rows) > 1 else rows[0]
            u = u.mutate(value=u.value.cast("string")).distinct()
            agg = u.group_by("kind", "value").agg(
                customers=u.customer_id.count(), outcome=u.y.sum()
            )
            df, _, sec = execute(agg, ws.con)
            seconds += sec
            order = {kind: i for i, kind in enumerate(features)}
            df = df.assign(_o=df.kind.map(order)).sort_values(["_o", "value"]).drop(columns="_o")
            parts.append(df[["kind", "value", "customers", "outcome"]])
    finally:
        release_table(pop)
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
