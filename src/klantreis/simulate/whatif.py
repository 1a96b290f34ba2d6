"""What-if: change the behaviour model, walk both versions, compare the outcomes.

Each change is a small frozen dataclass that turns a :class:`JourneyModel` into a new
one (every persona changes the same way):

* :class:`ReduceLeaving` ``(touchpoint, by)``: ``by`` (0.2 = 20%) of those who leave at
  the touchpoint go on instead, split like the touchpoint's existing moves;
* :class:`SpeedUp` ``(touchpoint, by)``: the time to the next step shrinks by ``by``;
* :class:`AddTouchpoint` ``(key, after, reach, next)``: a new touchpoint (say a
  reminder e-mail) reaches ``reach`` of those who would leave at ``after``; from it
  customers move on by ``next`` (default: back to ``after``'s successors, together
  ``DEFAULT_CONTINUE``); order-1 models only;
* :class:`ShiftChannels` ``(channel, share, touchpoint)``: ``share`` of the steps (at
  one touchpoint or everywhere) move to ``channel``;
* :class:`ImproveExperience` ``(touchpoint, by)``: the current experience rises by
  ``by`` points of the journey's scale (feedback and NPS follow).

:func:`whatif` walks the baseline and the scenario ``runs`` times with seeds ``seed``,
``seed + 1``...; both walks of a run use the same seed, and every random number is
keyed by customer and step, so a customer's draws are the same in both (common random
numbers). Per outcome it reports the mean over runs and the mean difference with a
95% confidence interval (t distribution over the runs' differences). With no change
the difference is exactly 0.

Outcomes: ``conversion`` (share of customers who reach a conversion touchpoint),
``time_to_convert_days`` (median time from the first step to the first conversion),
``revenue_per_customer`` (sum of values over customers) and ``nps`` (% promoters minus %
detractors of the simulated NPS answers).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from klantreis.errors import InvalidSpec
from klantreis.simulate.engine import Walked, walk
from klantreis.simulate.feedback import answers
from klantreis.simulate.model import DEFAULT_CONTINUE, JourneyModel, _normalised
from klantreis.simulate.run import as_model
from klantreis.units import parse_duration

if TYPE_CHECKING:
    from klantreis.model.journey import Journey
    from klantreis.result import Result

__all__ = [
    "OUTCOMES",
    "AddTouchpoint",
    "Change",
    "ImproveExperience",
    "ReduceLeaving",
    "ShiftChannels",
    "SpeedUp",
    "add_touchpoint",
    "outcomes",
    "rank",
    "whatif",
]

OUTCOMES = ("conversion", "time_to_convert_days", "revenue_per_customer", "nps")


def _share(name: str, value: float, *, upper: float = 1.0) -> float:
    if not 0 <= value <= upper:
        raise InvalidSpec(name, f"must be between 0 and {upper:g}", value=value)
    return float(value)


class Change:
    """A change to the behaviour model (subclasses implement ``apply`` and ``label``)."""

    def apply(self, model: JourneyModel) -> JourneyModel:  # pragma: no cover - abstract
        raise NotImplementedError

    def label(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _states_at(model: JourneyModel, tp: str) -> list[np.ndarray]:
    t = model.touchpoint_index(tp)
    return [g.walk.state_touchpoint == t for g in model.groups]


def _edit_walks(model: JourneyModel, tp: str, edit: Any) -> JourneyModel:
    """A model whose every group's walk has ``edit(walk, at)`` applied, where ``at`` marks
    the walk states at touchpoint ``tp``; ``edit`` returns the changed walk fields."""
    groups = tuple(
        g.replace(walk=g.walk.replace(**edit(g.walk, at)))
        for g, at in zip(model.groups, _states_at(model, tp), strict=True)
    )
    return model.replace(groups=groups)


@dataclass(frozen=True)
class ReduceLeaving(Change):
    touchpoint: str
    by: float = 0.2

    def __post_init__(self) -> None:
        _share("by", self.by)

    def label(self) -> str:
        return f"{self.touchpoint}: {self.by:.0%} less leaving"

    def apply(self, model: JourneyModel) -> JourneyModel:
        def edit(walk: Any, at: np.ndarray) -> dict[str, Any]:
            moves = walk.moves.copy()
            rows = moves[at]
            total = rows.sum(axis=1, keepdims=True)
            leave = np.clip(1.0 - total, 0.0, 1.0)
            scaled = np.divide(rows, total, out=np.zeros_like(rows), where=total > 0)
            moves[at] = rows + leave * self.by * scaled
            return {"moves": moves}

        return _edit_walks(model, self.touchpoint, edit)


@dataclass(frozen=True)
class SpeedUp(Change):
    touchpoint: str
    by: float = 0.5

    def __post_init__(self) -> None:
        _share("by", self.by, upper=0.99)

    def label(self) -> str:
        return f"{self.touchpoint}: next step {self.by:.0%} sooner"

    def apply(self, model: JourneyModel) -> JourneyModel:
        def edit(walk: Any, at: np.ndarray) -> dict[str, Any]:
            median = walk.delay_median_s.copy()
            median[at] *= 1.0 - self.by
            return {"delay_median_s": median}

        return _edit_walks(model, self.touchpoint, edit)


@dataclass(frozen=True)
class ImproveExperience(Change):
    touchpoint: str
    by: float = 1.0

    def label(self) -> str:
        return f"{self.touchpoint}: experience +{self.by:g}"

    def apply(self, model: JourneyModel) -> JourneyModel:
        t = model.touchpoint_index(self.touchpoint)
        lo, hi = model.scale
        exp = model.experience.copy()
        current = exp[t] if not np.isnan(exp[t]) else 0.5
        exp[t] = min(max(current + self.by / (hi - lo), 0.0), 1.0)
        return model.replace(experience=exp)


@dataclass(frozen=True)
class ShiftChannels(Change):
    channel: str
    share: float = 0.1
    touchpoint: str | None = None

    def __post_init__(self) -> None:
        _share("share", self.share)

    def label(self) -> str:
        where = self.touchpoint or "all touchpoints"
        return f"{where}: {self.share:.0%} of steps to {self.channel}"

    def apply(self, model: JourneyModel) -> JourneyModel:
        channels = model.channels
        if self.channel not in channels:
            channels = (*channels, self.channel)
        c = channels.index(self.channel)
        groups = []
        for g in model.groups:
            mix = g.walk.channel_mix
            if mix.shape[1] < len(channels):
                mix = np.hstack([mix, np.zeros((mix.shape[0], len(channels) - mix.shape[1]))])
            mix = mix.copy()
            at = (
                np.ones(len(mix), dtype=bool)
                if self.touchpoint is None
                else g.walk.state_touchpoint == model.touchpoint_index(self.touchpoint)
            )
            rows = mix[at] * (1.0 - self.share)
            rows[:, c] += self.share
            mix[at] = rows
            groups.append(g.replace(walk=g.walk.replace(channel_mix=mix)))
        return model.replace(channels=channels, groups=tuple(groups))


@dataclass(frozen=True)
class AddTouchpoint(Change):
    key: str
    after: str
    reach: float = 0.3
    next: dict[str, float] = field(default_factory=dict)
    delay: str = "1d"
    spread: float = 0.7
    channel: str | None = "email"
    experience: float | None = None  # on the journey's scale

    def __post_init__(self) -> None:
        _share("reach", self.reach)
        parse_duration(self.delay, field="delay")
        for k, p in self.next.items():
            _share(f"next.{k}", p)
        if sum(self.next.values()) > 1 + 1e-9:
            raise InvalidSpec("next", "probabilities add up to more than 1", value=self.next)

    def label(self) -> str:
        return f"{self.after}: add {self.key} for {self.reach:.0%} of leavers"

    def apply(self, model: JourneyModel) -> JourneyModel:
        if self.key in model.touchpoints:
            raise InvalidSpec("key", "the journey already has this touchpoint", value=self.key)
        if any(g.walk.order != 1 for g in model.groups):
            raise InvalidSpec("model", "adding a touchpoint works on order-1 models only")
        a = model.touchpoint_index(self.after)
        T = len(model.touchpoints)
        channels = model.channels
        if self.channel is not None and self.channel not in channels:
            channels = (*channels, self.channel)
        C = len(channels)
        delay = parse_duration(self.delay, field="delay").total_seconds()
        groups = []
        for g in model.groups:
            w = g.walk
            moves = np.zeros((T + 1, T + 1))
            moves[:T, :T] = w.moves
            leave_a = max(1.0 - w.moves[a].sum(), 0.0)
            moves[a, T] = leave_a * self.reach
            if self.next:
                for k, p in self.next.items():
                    moves[T, model.touchpoint_index(k)] = p
            else:
                row = w.moves[a]
                if row.sum() > 0:
                    moves[T, :T] = row / row.sum() * DEFAULT_CONTINUE
            median = np.full((T + 1, T + 1), delay)
            median[:T, :T] = w.delay_median_s
            sigma = np.full((T + 1, T + 1), self.spread)
            sigma[:T, :T] = w.delay_sigma
            median[a, T], sigma[a, T] = delay, self.spread
            mix = np.zeros((T + 1, C))
            mix[:T, : w.channel_mix.shape[1]] = w.channel_mix
            if self.channel is not None:
                mix[T] = _normalised({channels.index(self.channel): 1.0}, C)
            groups.append(
                g.replace(
                    walk=w.replace(
                        state_touchpoint=np.arange(T + 1, dtype=np.int64),
                        entry=np.append(w.entry, 0.0),
                        moves=moves,
                        next_state=np.tile(np.arange(T + 1, dtype=np.int64), (T + 1, 1)),
                        delay_median_s=median,
                        delay_sigma=sigma,
                        channel_mix=mix,
                        value=np.append(w.value, np.nan),
                    )
                )
            )
        lo, hi = model.scale
        x = np.nan if self.experience is None else (self.experience - lo) / (hi - lo)
        return model.replace(
            touchpoints=(*model.touchpoints, self.key),
            channels=channels,
            conversion=np.append(model.conversion, False),
            experience=np.append(model.experience, x),
            triggers=(*(model.triggers or ((),) * T), ()),
            groups=tuple(groups),
        )


def add_touchpoint(
    journey: Journey | None, key: str, *, after: str, reach: float = 0.3
) -> AddTouchpoint:
    """An :class:`AddTouchpoint`; a touchpoint the journey already designs (say a to-be
    reminder e-mail) brings its own walk, channel and experience."""
    if journey is not None:
        for tp in journey.touchpoints:
            if tp.key == key:
                w = tp.walk
                channel = (next(iter(w.channels)) if w and w.channels else None) or tp.channel
                return AddTouchpoint(
                    key,
                    after,
                    reach,
                    next=dict(w.next) if w else {},
                    delay=w.delay if w else "1d",
                    spread=w.spread if w else 0.7,
                    channel=channel,
                    experience=tp.experience.current if tp.experience else None,
                )
    return AddTouchpoint(key, after, reach)


# -- outcomes -------------------------------------------------------------------------


def outcomes(w: Walked) -> dict[str, float]:
    """The outcomes of one walk (see the module doc)."""
    n = w.customers
    conv = w.model.conversion[w.touchpoint]
    cust = w.cust[conv]
    first_conv = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_conv, cust, w.time_s[conv])
    converted = first_conv < np.iinfo(np.int64).max
    first_step = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_step, w.cust, w.time_s)
    days = (first_conv[converted] - first_step[converted]) / 86400.0
    a = answers(w)
    nps_scores = a.score[a.metric == 3]
    nps = (
        100.0 * (np.mean(nps_scores >= 9) - np.mean(nps_scores <= 6)) if len(nps_scores) else np.nan
    )
    return {
        "conversion": float(converted.mean()) if n else np.nan,
        "time_to_convert_days": float(np.median(days)) if len(days) else np.nan,
        "revenue_per_customer": float(np.nansum(w.value) / n) if n else np.nan,
        "nps": float(nps),
    }


def _ci(diffs: np.ndarray) -> tuple[float, float, float]:
    from scipy.special import stdtrit  # scipy.stats is slow to import

    diffs = diffs[~np.isnan(diffs)]
    if len(diffs) == 0:
        return np.nan, np.nan, np.nan
    mean = float(diffs.mean())
    if len(diffs) < 2:
        return mean, np.nan, np.nan
    sd = float(diffs.std(ddof=1))
    half = float(stdtrit(len(diffs) - 1, 0.975)) * sd / np.sqrt(len(diffs))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class _Run:
    customers: int = 20_000
    runs: int = 5
    seed: int = 0
    start: date | str = date(2026, 1, 1)
    days: int = 365
    timezone: str = "Europe/Amsterdam"

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise InvalidSpec("runs", "must be at least 1", value=self.runs)
        if self.customers < 1:
            raise InvalidSpec("customers", "must be at least 1", value=self.customers)

    def outcomes(self, model: JourneyModel, run: int) -> dict[str, float]:
        w = walk(
            model,
            customers=self.customers,
            seed=self.seed + run,
            start=self.start,
            days=self.days,
            timezone=self.timezone,
        )
        return outcomes(w)

    def params(self) -> dict[str, Any]:
        return {
            k: (str(v) if isinstance(v, date) else v) for k, v in dataclasses.asdict(self).items()
        }


def _compare_rows(
    base: list[dict[str, float]], scen: list[dict[str, float]]
) -> list[dict[str, Any]]:
    rows = []
    for metric in OUTCOMES:
        b = np.array([r[metric] for r in base])
        s = np.array([r[metric] for r in scen])
        diff, lo, hi = _ci(s - b)
        significant = bool(not np.isnan(lo) and (lo > 0 or hi < 0))
        rows.append(
            {
                "metric": metric,
                "baseline": float(np.nanmean(b)) if not np.isnan(b).all() else np.nan,
                "scenario": float(np.nanmean(s)) if not np.isnan(s).all() else np.nan,
                "difference": diff,
                "ci_low": lo,
                "ci_high": hi,
                "significant": significant,
            }
        )
    return rows


def whatif(
    journey: Journey | JourneyModel,
    changes: Change | list[Change] | tuple[Change, ...] = (),
    *,
    scenario: JourneyModel | None = None,
    customers: int = 20_000,
    runs: int = 5,
    seed: int = 0,
    persona: str | None = None,
    start: date | str = date(2026, 1, 1),
    days: int = 365,
    timezone: str = "Europe/Amsterdam",
    lang: str = "en",
) -> Result:
    """Compare the journey with and without ``changes`` (see the module doc).

    ``scenario`` replaces the changed model outright (say the to-be map's model);
    ``changes`` then apply on top of it.
    """
    import pandas as pd

    from klantreis.i18n import t
    from klantreis.result import Result

    changes = [changes] if isinstance(changes, Change) else list(changes)
    model = as_model(journey).only(persona)
    changed = model if scenario is None else scenario.only(persona)
    for change in changes:
        changed = change.apply(changed)
    spec = _Run(customers, runs, seed, start, days, timezone)
    base = [spec.outcomes(model, r) for r in range(runs)]
    scen = [spec.outcomes(changed, r) for r in range(runs)]
    per_run = pd.DataFrame(
        [{"run": r, "version": "baseline", **o} for r, o in enumerate(base)]
        + [{"run": r, "version": "scenario", **o} for r, o in enumerate(scen)]
    )
    labels = (["to-be map"] if scenario is not None else []) + [c.label() for c in changes]
    return Result(
        name="whatif",
        table=pd.DataFrame(_compare_rows(base, scen)),
        definition=t(
            "whatif.definition.compare",
            lang,
            changes="; ".join(labels) or t("whatif.no_change", lang),
            runs=runs,
            customers=customers,
            days=days,
        ),
        params={"kind": "compare", "changes": labels, "persona": persona, **spec.params()},
        extras={"runs": per_run},
    )


def rank(
    journey: Journey | JourneyModel,
    *,
    effort: float = 0.2,
    metric: str = "conversion",
    customers: int = 20_000,
    runs: int = 5,
    seed: int = 0,
    persona: str | None = None,
    start: date | str = date(2026, 1, 1),
    days: int = 365,
    timezone: str = "Europe/Amsterdam",
    lang: str = "en",
) -> Result:
    """Rank touchpoints by the gain of the same effort at each: ``effort`` less leaving.

    Candidates are the touchpoints where customers both leave and go on. The table is
    sorted by the mean gain in ``metric`` (ties by touchpoint order).
    """
    import pandas as pd

    from klantreis.i18n import t
    from klantreis.result import Result

    if metric not in OUTCOMES:
        raise InvalidSpec("metric", "unknown outcome", value=metric, allowed=OUTCOMES)
    _share("effort", effort)
    model = as_model(journey).only(persona)
    spec = _Run(customers, runs, seed, start, days, timezone)
    base = [spec.outcomes(model, r) for r in range(runs)]
    rows = []
    for ti, key in enumerate(model.touchpoints):
        leaves = any(
            (
                (g.walk.leave > 0)
                & (g.walk.moves.sum(axis=1) > 0)
                & (g.walk.state_touchpoint == ti)
            ).any()
            for g in model.groups
        )
        if not leaves:
            continue
        change = ReduceLeaving(key, effort)
        scen = [spec.outcomes(change.apply(model), r) for r in range(runs)]
        row: dict[str, Any] = {"touchpoint": key}
        for name in OUTCOMES:
            diff, lo, hi = _ci(
                np.array([s[name] - b[name] for s, b in zip(scen, base, strict=True)])
            )
            row[f"{name}_gain"] = diff
            if name == metric:
                row["ci_low"], row["ci_high"] = lo, hi
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table["order"] = range(len(table))
        table = table.sort_values(
            [f"{metric}_gain", "order"], ascending=[False, True], kind="stable"
        )
        table = table.drop(columns="order").reset_index(drop=True)
        table.insert(0, "rank", range(1, len(table) + 1))
        cols = ["rank", "touchpoint", f"{metric}_gain", "ci_low", "ci_high"]
        second = (
            "revenue_per_customer_gain" if metric != "revenue_per_customer" else "conversion_gain"
        )
        all_gains = table.copy()
        table = table[[*cols, second]]
    else:
        all_gains = table
    return Result(
        name="whatif",
        table=table,
        definition=t(
            "whatif.definition.rank",
            lang,
            effort=f"{effort:.0%}",
            metric=t(f"whatif.metric.{metric}", lang),
            runs=runs,
            customers=customers,
        ),
        params={
            "kind": "rank",
            "effort": effort,
            "metric": metric,
            "persona": persona,
            **spec.params(),
        },
        extras={"baseline": pd.DataFrame(base), "gains": all_gains},
    )
