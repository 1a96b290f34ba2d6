"""Feedback answers drawn around each touchpoint's current experience.

A touchpoint's ``experience.current`` sits on the journey's scale (say 1 to 5); it is
first mapped to a position ``x`` between 0 and 1 (``(current - min) / (max - min)``),
and each metric puts that position on its own scale, adds normal noise and rounds:

==========  ==========  =============================  =====
metric      scale       mean                           noise
==========  ==========  =============================  =====
csat        1 to 5      1 + 4x                         0.8
ces         1 to 7      1 + 6x (7 = very easy)         1.0
emotion     journey's   min + (max - min) x            (max - min) / 5
nps         0 to 10     2 + 8 x̄ (x̄: mean of walk)   1.5
==========  ==========  =============================  =====

Every event at a touchpoint with a current experience is answered with probability
``feedback_rate`` (csat 60%, ces 25%, emotion 15% of the answers), 15 minutes after the
event. Customers who converted answer the NPS question with the same probability,
15 minutes after their last event, from the mean position of the touchpoints they
visited (touchpoints without a score left out; none at all: 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from klantreis.simulate import _random as R
from klantreis.simulate.engine import Walked, pos_key

__all__ = ["METRICS", "Answers", "answers"]

METRICS = ("csat", "ces", "emotion", "nps")
_METRIC_CUM = np.array([0.60, 0.85, 1.0])
ANSWER_DELAY_S = 900


@dataclass(frozen=True, eq=False)
class Answers:
    """Feedback rows as arrays, ordered by customer, time, metric."""

    cust: np.ndarray
    time_s: np.ndarray
    touchpoint: np.ndarray  # NPS answers carry the last touchpoint of the walk
    metric: np.ndarray  # index into METRICS
    score: np.ndarray


def answers(w: Walked) -> Answers:
    m = w.model
    seed = w.seed
    lo, hi = m.scale
    x_tp = m.experience
    key = pos_key(w.cust, w.step)
    x = x_tp[w.touchpoint]
    scored = ~np.isnan(x)
    answered = scored & (R.uniform(seed, R.STREAM_ANSWER, 0, key) < m.feedback_rate)
    k = key[answered]
    xa = x[answered]
    metric = np.searchsorted(_METRIC_CUM, R.uniform(seed, R.STREAM_METRIC, 0, k), side="right")
    z = R.normal(seed, R.STREAM_SCORE, 0, k)
    score = np.select(
        [metric == 0, metric == 1],
        [
            np.clip(np.rint(1 + 4 * xa + 0.8 * z), 1, 5),
            np.clip(np.rint(1 + 6 * xa + 1.0 * z), 1, 7),
        ],
        np.clip(np.rint(lo + (hi - lo) * xa + (hi - lo) / 5 * z), lo, hi),
    )
    cust = w.cust[answered]
    time_s = w.time_s[answered] + ANSWER_DELAY_S
    tp = w.touchpoint[answered]

    # relationship NPS: converted customers, after their last event
    n = w.customers
    conv = m.conversion[w.touchpoint]
    converted = np.bincount(w.cust[conv], minlength=n) > 0
    counts = np.bincount(w.cust, minlength=n)
    sums = np.bincount(w.cust[scored], weights=x[scored], minlength=n)
    nscored = np.bincount(w.cust[scored], minlength=n)
    xbar = np.where(nscored > 0, sums / np.maximum(nscored, 1), 0.5)
    ids = np.arange(n, dtype=np.int64)
    asks = converted & (R.uniform(seed, R.STREAM_NPS, 0, ids) < m.feedback_rate)
    who = ids[asks]
    last = (np.cumsum(counts) - 1)[asks]
    zn = R.normal(seed, R.STREAM_NPS_SCORE, 0, who)
    nps = np.clip(np.rint(2 + 8 * xbar[asks] + 1.5 * zn), 0, 10)

    cust = np.concatenate([cust, who])
    time_s = np.concatenate([time_s, w.time_s[last] + ANSWER_DELAY_S])
    tp = np.concatenate([tp, w.touchpoint[last]])
    metric = np.concatenate([metric, np.full(len(who), 3, dtype=np.int64)])
    score = np.concatenate([score, nps]).astype(np.float64)
    order = np.lexsort((metric, time_s, cust))
    return Answers(cust[order], time_s[order], tp[order], metric[order], score[order])
