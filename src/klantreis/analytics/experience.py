"""Measured experience from the feedback table: NPS, CSAT, CES and emotion.

``experience(ws, metric="nps", by="touchpoint")`` -> key, responses, score, low, high
(+ the counts behind the score), one row per key, 95% intervals:

- **nps** (answers 0-10): promoters 9-10, passives 7-8, detractors 0-6;
  score = % promoters - % detractors (-100..100); interval: normal approximation with
  the variance of the difference of two shares of one sample,
  ``(p + d - (p - d)^2) / n``, clipped to -100..100.
- **csat** (answers 1-5): score = % satisfied (4 or 5), Wilson interval, in percent.
- **ces** (customer effort, answers 1-7): mean, Student t interval.
- **emotion** (answers on the journey's scale): mean, Student t interval.

Answers outside the metric's range are left out. ``by`` is one of touchpoint (the
answer's touchpoint; ``mapped`` says whether the journey defines it), phase (the
touchpoint's phase; '(unmapped)' when not in the journey), persona, segment (from the
customers table; '(none)' when missing), month (workspace time zone) or all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from klantreis.analytics._stats import mean_interval, nps_interval, wilson
from klantreis.analytics.scope import (
    UNMAPPED,
    events_of,
    feedback_of,
    journey_of,
    touchpoint_frame,
    touchpoint_table,
)
from klantreis.errors import InvalidSpec
from klantreis.result import Result, execute

__all__ = ["BYS", "METRICS", "ambassadors", "experience", "experience_expr"]

METRICS = ("nps", "csat", "ces", "emotion")
BYS = ("touchpoint", "phase", "persona", "segment", "month", "all")
NONE = "(none)"
#: Valid answers per metric (emotion: the journey's scale).
RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@dataclass(frozen=True)
class ExperienceSpec:
    metric: str = "nps"
    by: str = "touchpoint"

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InvalidSpec(
                "metric", "unknown experience metric", value=self.metric, allowed=METRICS
            )
        if self.by not in BYS:
            raise InvalidSpec("by", "cannot group experience by this", value=self.by, allowed=BYS)


def _keyed(ws: Any, feedback: Any, by: str, frame: Any) -> Any:
    """Feedback with a string ``key`` column for the grouping."""
    import ibis

    if by == "touchpoint":
        return feedback.mutate(key=feedback.touchpoint.fill_null(NONE))
    if by == "phase":
        tps = touchpoint_table(frame).select("touchpoint", "phase")
        joined = feedback.left_join(tps, "touchpoint")
        return joined.mutate(key=joined.phase.fill_null(UNMAPPED))
    if by in ("persona", "segment"):
        cust = ws.customers.select("customer_id", grp=ws.customers[by])
        cust = cust.group_by("customer_id").agg(grp=cust.grp.max())
        joined = feedback.left_join(cust, "customer_id")
        return joined.mutate(key=joined.grp.fill_null(NONE))
    if by == "month":  # the month in the workspace's time zone, on every backend
        from klantreis.analytics.scope import local_clock, period_number

        clock = local_clock(ws, feedback)
        if clock is None:  # no answers: nothing to group
            local = feedback.timestamp.date().truncate("M")
            return feedback.mutate(key=local.cast("string").substr(0, 7))
        number = period_number(feedback.timestamp, "month", clock)
        year = (number // 12).cast("string")
        month = (number % 12 + 1).cast("string").lpad(2, "0")
        return feedback.mutate(key=year + "-" + month)
    return feedback.mutate(key=ibis.literal("all"))


def experience_expr(ws: Any, spec: ExperienceSpec, frame: Any, scale: tuple[float, float]) -> Any:
    """Ibis expression: per key the counts and moments of the valid answers."""
    fb = feedback_of(ws)
    low, high = RANGES.get(spec.metric, scale)
    fb = fb.filter((fb.metric.lower() == spec.metric) & fb.score.between(low, high))
    fb = _keyed(ws, fb, spec.by, frame)
    s = fb.score
    aggs = {"responses": s.count()}
    if spec.metric == "nps":
        aggs |= {"promoters": (s >= 9).sum(), "detractors": (s <= 6).sum()}
    elif spec.metric == "csat":
        aggs |= {"satisfied": (s >= 4).sum()}
    else:
        aggs |= {"mean": s.mean(), "sd": s.std(how="sample")}
    return fb.group_by("key").agg(**aggs)


def experience(
    ws: Any, metric: str = "nps", by: str = "touchpoint", *, journey: str | None = None
) -> Result:
    """Experience scores with 95% intervals (see the module docstring)."""
    import pandas as pd

    spec = ExperienceSpec(metric=metric, by=by)
    j = journey_of(ws, journey)
    frame = touchpoint_frame(ws, j)
    scale = (float(j.scale.min), float(j.scale.max)) if j is not None else (1.0, 5.0)
    df, sql, seconds = execute(experience_expr(ws, spec, frame, scale), ws.con)
    rows = []
    for r in df.to_dict("records"):
        n = int(r["responses"])
        row: dict[str, Any] = {"key": str(r["key"]), "responses": n}
        if spec.metric == "nps":
            p, d = int(r["promoters"] or 0), int(r["detractors"] or 0)
            row["score"], row["low"], row["high"] = nps_interval(p, d, n)
            row |= {"promoters": p, "passives": n - p - d, "detractors": d}
        elif spec.metric == "csat":
            k = int(r["satisfied"] or 0)
            lo, hi = wilson(k, n)
            row |= {"score": 100.0 * k / n, "low": 100.0 * lo, "high": 100.0 * hi, "satisfied": k}
        else:
            mean = float(r["mean"])
            sd = None if pd.isna(r["sd"]) else float(r["sd"])
            row["score"] = mean
            row["low"], row["high"] = mean_interval(mean, sd, n)
        rows.append(row)
    columns = ["key", "responses", "score", "low", "high"]
    extra = {"nps": ["promoters", "passives", "detractors"], "csat": ["satisfied"]}.get(
        spec.metric, []
    )
    table = pd.DataFrame(rows, columns=columns + extra)
    if spec.by == "touchpoint":
        known = set(frame.touchpoint)
        table["mapped"] = table.key.map(lambda k: k in known).astype(bool)
    table = table.sort_values(["responses", "key"], ascending=[False, True], kind="stable")
    table = table.reset_index(drop=True).astype({c: "int64" for c in ["responses", *extra]})
    return Result(
        name="experience",
        table=table,
        definition=experience_definition(spec.metric, spec.by, ws.settings.language),
        params={"metric": spec.metric, "by": spec.by, "scale": list(scale)},
        sql=sql,
        seconds=seconds,
    )


def experience_definition(metric: str, by: str, lang: str | None = None) -> str:
    """The plain-words definition of an experience result, in ``lang``."""
    from klantreis.i18n import t

    per = (
        t("loyalty.definition.by_all", lang)
        if by == "all"
        else t("loyalty.definition.by", lang, by=t(f"loyalty.by.{by}", lang))
    )
    return f"{t(f'loyalty.definition.{metric}', lang)} {per}"


#: Fallback words that mark a review or referral *request* touchpoint (in its key), used
#: only when no touchpoint of the journey has ``prompts_referral: true``.
REQUEST_WORDS = ("request", "invite", "verzoek", "uitnodiging")


def request_touchpoints(journey: Any, referrals: list[str]) -> tuple[list[str], str]:
    """The journey's review/referral request touchpoints and how they were found.

    Touchpoints marked ``prompts_referral: true`` ('flag'); when none is marked, the
    touchpoints whose key contains one of :data:`REQUEST_WORDS` ('keywords', a fallback
    for journeys written before the flag existed). Referral touchpoints are never
    requests.

    >>> from klantreis.model import Journey
    >>> j = Journey.model_validate({"key": "j", "name": "J", "touchpoints": [
    ...     {"key": "review_request", "phase": "loyalty"},
    ...     {"key": "mail", "phase": "loyalty", "prompts_referral": True}]})
    >>> request_touchpoints(j, [])
    (['mail'], 'flag')
    """
    if journey is None:
        return [], "keywords"
    flagged = [tp.key for tp in journey.touchpoints if tp.prompts_referral]
    if flagged:
        return [k for k in flagged if k not in referrals], "flag"
    found = [tp.key for tp in journey.touchpoints if any(w in tp.key for w in REQUEST_WORDS)]
    return [k for k in found if k not in referrals], "keywords"


def ambassadors(
    ws: Any,
    *,
    referrals: list[str] | None = None,
    requests: list[str] | None = None,
    window: str = "30d",
    journey: str | None = None,
) -> Result:
    """Promoters who did a referral touchpoint, prompted or spontaneous.

    - *promoter*: the customer's latest NPS answer (by time, ties by feedback_id) is 9-10;
    - *ambassador*: a promoter with an event at a referral touchpoint
      (``referral: true`` in the journey, or ``referrals``);
    - *prompted*: one of those referral events came at most ``window`` after an event
      at a review/referral request touchpoint (``requests``; by default the journey's
      touchpoints marked ``prompts_referral: true``, or, when none is marked, those
      whose key contains request, invite, verzoek or uitnodiging: see
      :func:`request_touchpoints`); *spontaneous*: the other ambassadors.

    Table: kind (promoters, ambassadors, prompted, spontaneous), customers,
    share (of promoters) with a Wilson 95% interval.
    """
    import ibis
    import pandas as pd

    from klantreis.analytics.scope import keys_with
    from klantreis.i18n import t
    from klantreis.units import parse_duration

    span = parse_duration(window, field="window")
    jr = journey_of(ws, journey)
    frame = touchpoint_frame(ws, jr)
    refs_keys = list(referrals) if referrals else keys_with(frame, "referral")
    if not refs_keys:
        raise InvalidSpec(
            "referrals", "no referral touchpoint: mark one with 'referral: true' or pass referrals"
        )
    if requests is None:
        requests, found_by = request_touchpoints(jr, refs_keys)
    else:
        found_by = "given"
    fb = feedback_of(ws)
    fb = fb.filter((fb.metric.lower() == "nps") & fb.score.between(0, 10))
    w = ibis.window(
        group_by="customer_id", order_by=[ibis.desc("timestamp"), ibis.desc("feedback_id")]
    )
    latest = fb.mutate(rank=ibis.row_number().over(w)).filter(lambda t: t.rank == 0)
    promoters = latest.filter(latest.score >= 9).select("customer_id")
    ev = events_of(ws)
    refs = ev.filter(ev.touchpoint.isin(refs_keys)).select("customer_id", "timestamp", "event_id")
    amb = promoters.semi_join(refs, "customer_id")
    if requests:
        ev2 = events_of(ws)
        req = ev2.filter(ev2.touchpoint.isin(requests)).select(
            rc="customer_id", rts="timestamp", rid="event_id"
        )
        earlier = (req.rts < refs.timestamp) | (
            (req.rts == refs.timestamp) & (req.rid < refs.event_id)
        )
        lag = ibis.interval(seconds=int(span.total_seconds()))
        prompted_refs = refs.join(
            req, [refs.customer_id == req.rc, earlier, req.rts >= refs.timestamp - lag]
        ).select("customer_id")
        prompted = amb.semi_join(prompted_refs, "customer_id")
        n_prompted_e = prompted.aggregate(n=prompted.customer_id.nunique())
    else:
        n_prompted_e = None
    counts = promoters.aggregate(n=promoters.customer_id.nunique())
    n_amb_e = amb.aggregate(n=amb.customer_id.nunique())
    got, sql, seconds = execute(counts, ws.con)
    n_promoters = int(got.n.iloc[0] or 0)
    got2, _, s2 = execute(n_amb_e, ws.con)
    n_amb = int(got2.n.iloc[0] or 0)
    n_prompted, s3 = 0, 0.0
    if n_prompted_e is not None:
        got3, _, s3 = execute(n_prompted_e, ws.con)
        n_prompted = int(got3.n.iloc[0] or 0)
    rows = []
    for kind, n in (
        ("promoters", n_promoters),
        ("ambassadors", n_amb),
        ("prompted", n_prompted),
        ("spontaneous", n_amb - n_prompted),
    ):
        low, high = wilson(n, n_promoters)
        share = n / n_promoters if n_promoters else float("nan")
        rows.append({"kind": kind, "customers": n, "share": share, "low": low, "high": high})
    table = pd.DataFrame(rows).astype({"customers": "int64"})
    lang = ws.settings.language
    words = ", ".join(f"'{w}'" for w in REQUEST_WORDS)
    definition = " ".join(
        [
            t(
                "loyalty.definition.ambassadors",
                lang,
                referrals=", ".join(refs_keys),
                window=window,
                requests=", ".join(requests) or t("loyalty.definition.no_request", lang),
            ),
            t(f"loyalty.definition.requests.{found_by}", lang, words=words),
        ]
    )
    return Result(
        name="ambassadors",
        table=table,
        definition=definition,
        params={
            "referrals": refs_keys,
            "requests": list(requests),
            "requests_from": found_by,
            "window": window,
        },
        sql=sql,
        seconds=seconds + s2 + s3,
    )
