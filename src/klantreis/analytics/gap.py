"""The gap: measured current experience per touchpoint next to the designed and desired.

``gap(ws, metric="emotion")`` -> one row per touchpoint in the journey or in the data:
touchpoint, mapped, responses, measured, designed, desired, gap, customers, priority,
basis. Ranked by priority, highest first.

- **measured**: the touchpoint's feedback mapped onto the journey's scale
  [min, max]: *emotion* answers are already on that scale (their mean);
  *csat* (1-5) is rescaled linearly, ``min + (mean - 1) / 4 * (max - min)``;
  *nps* (-100..100) is rescaled linearly, ``min + (nps + 100) / 200 * (max - min)``.
- **designed**: ``experience.current`` in the journey file; **desired**:
  ``experience.desired`` (``state="to-be"`` uses the to-be design).
- **gap** = desired - measured; where nothing is measured, desired - designed
  (``basis`` says which).
- **customers** = distinct customers with an event at the touchpoint;
  **priority** = gap x customers.
"""

from __future__ import annotations

from typing import Any

from klantreis.analytics.scope import events_of, feedback_of, journey_of, touchpoint_frame
from klantreis.errors import InvalidSpec
from klantreis.i18n import t
from klantreis.result import Result, execute

__all__ = ["GAP_METRICS", "gap"]

GAP_METRICS = ("emotion", "csat", "nps")


def gap(
    ws: Any, metric: str = "emotion", *, state: str = "as-is", journey: str | None = None
) -> Result:
    """Experience gap per touchpoint ranked by gap x customers (see the module docstring)."""
    import numpy as np
    import pandas as pd

    if metric not in GAP_METRICS:
        raise InvalidSpec(
            "metric",
            "cannot map this metric onto the journey scale",
            value=metric,
            allowed=GAP_METRICS,
        )
    j = journey_of(ws, journey)
    lo, hi = (float(j.scale.min), float(j.scale.max)) if j is not None else (1.0, 5.0)
    frame = touchpoint_frame(ws, j)
    if j is not None and state != "as-is":
        view = {tp.key: tp for tp in j.state_view(state)}
        frame = frame[frame.touchpoint.isin(view)].copy()
        frame["designed"] = [view[k].experience.current for k in frame.touchpoint]
        frame["desired"] = [view[k].experience.desired for k in frame.touchpoint]
        frame[["designed", "desired"]] = frame[["designed", "desired"]].astype("float64")
    fb = feedback_of(ws)
    fb = fb.filter(fb.touchpoint.notnull() & (fb.metric.lower() == metric))
    if metric == "nps":
        fb = fb.filter(fb.score.between(0, 10))
        agg = fb.group_by("touchpoint").agg(
            responses=fb.score.count(),
            value=100.0 * ((fb.score >= 9).sum() - (fb.score <= 6).sum()) / fb.score.count(),
        )
    else:
        fb = fb.filter(fb.score.between(1, 5) if metric == "csat" else fb.score.between(lo, hi))
        agg = fb.group_by("touchpoint").agg(responses=fb.score.count(), value=fb.score.mean())
    ev = events_of(ws)
    reach = (
        ev.filter(ev.touchpoint.notnull())
        .group_by("touchpoint")
        .agg(customers=ev.customer_id.nunique())
    )
    measured, sql, s1 = execute(agg, ws.con)
    customers, _, s2 = execute(reach, ws.con)
    if metric == "csat":
        measured["measured"] = lo + (measured.value - 1.0) / 4.0 * (hi - lo)
    elif metric == "nps":
        measured["measured"] = lo + (measured.value + 100.0) / 200.0 * (hi - lo)
    else:
        measured["measured"] = measured.value
    keys = list(frame.touchpoint)
    keys += sorted((set(measured.touchpoint) | set(customers.touchpoint)) - set(keys))
    table = pd.DataFrame({"touchpoint": keys})
    table["mapped"] = table.touchpoint.isin(set(frame.touchpoint))
    table = table.merge(
        measured[["touchpoint", "responses", "measured"]], on="touchpoint", how="left"
    )
    table = table.merge(frame[["touchpoint", "designed", "desired"]], on="touchpoint", how="left")
    table = table.merge(customers, on="touchpoint", how="left")
    table["responses"] = table.responses.fillna(0).astype("int64")
    table["customers"] = table.customers.fillna(0).astype("int64")
    current = table.measured.where(table.measured.notna(), table.designed)
    table["gap"] = table.desired - current
    table["basis"] = np.where(
        table.measured.notna(), "measured", np.where(table.designed.notna(), "designed", "")
    )
    table["priority"] = table.gap * table.customers
    table = table.sort_values(
        ["priority", "gap", "touchpoint"], ascending=[False, False, True], na_position="last"
    )
    cols = [
        "touchpoint",
        "mapped",
        "responses",
        "measured",
        "designed",
        "desired",
        "gap",
        "customers",
        "priority",
        "basis",
    ]
    table = table[cols].reset_index(drop=True)
    return Result(
        name="gap",
        table=table,
        definition=t(
            "loyalty.definition.gap",
            ws.settings.language,
            metric=t(f"loyalty.gap.metric.{metric}", ws.settings.language),
            lo=f"{lo:g}",
            hi=f"{hi:g}",
            mapping=t(f"loyalty.gap.mapping.{metric}", ws.settings.language),
        ),
        params={"metric": metric, "state": state, "scale": [lo, hi]},
        sql=sql,
        seconds=s1 + s2,
    )
