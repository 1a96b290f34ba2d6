"""The walk itself: customers start, step through the model and leave; all in numpy.

One Python loop runs per *step of the walk* (all customers still walking move at
once); nothing loops per customer or per event. Every random number is keyed by
(seed, stream, step, customer) (see :mod:`._random`), so the result depends only on
the model, the seed and the calendar: same seed, same walk, on any machine.

The output, :class:`Walked`, is plain arrays in customer-major order (customer, then
step); :mod:`.output` turns it into the canonical tables and :mod:`.whatif` computes
outcomes from it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from klantreis.errors import InvalidSpec
from klantreis.simulate import _random as R
from klantreis.simulate.model import JourneyModel

__all__ = ["DIURNAL", "Walked", "walk"]

#: Relative weight of each hour of the (local) day for journey starts.
DIURNAL = np.array(
    [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.4, 1.4, 1.3, 1.3,
     1.5, 1.4, 1.3, 1.3, 1.4, 1.6, 1.8, 2.0, 2.0, 1.7, 1.1, 0.5]
)  # fmt: skip
#: Value of a conversion varies log-normally around its mean with this sigma.
VALUE_SIGMA = 0.25


@dataclass(frozen=True, eq=False)
class Walked:
    """The raw result of a walk: customers and their events, as arrays.

    Events are ordered by customer, then step; ``time_s`` is UTC epoch seconds;
    ``channel`` is -1 where the touchpoint has no channel; ``value`` NaN where none.
    """

    model: JourneyModel
    seed: int
    start_s: int
    end_s: int
    group: np.ndarray  # (N,) int64: index into model.groups
    first_s: np.ndarray  # (N,) int64: journey start time
    cust: np.ndarray  # (E,) int64
    step: np.ndarray  # (E,) int64
    time_s: np.ndarray  # (E,) int64
    touchpoint: np.ndarray  # (E,) int64
    channel: np.ndarray  # (E,) int64
    value: np.ndarray  # (E,) float64

    @property
    def customers(self) -> int:
        return len(self.group)

    @property
    def events(self) -> int:
        return len(self.cust)


def _allocate(shares: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over groups by ``shares`` exactly (largest remainder, ties by order)."""
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(np.int64)
    rest = total - int(counts.sum())
    if rest > 0:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:rest]] += 1
    return counts


def _calendar(start: date, days: int, timezone: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per day: UTC epoch seconds of local midnight, weekday (Mon=0) and month (0-11)."""
    zone = ZoneInfo(timezone)
    midnights = np.empty(days + 1, dtype=np.int64)
    weekday = np.empty(days, dtype=np.int64)
    month = np.empty(days, dtype=np.int64)
    for d in range(days + 1):  # a loop per calendar day, not per customer
        day = start + timedelta(days=d)
        midnights[d] = int(datetime.combine(day, time(0), tzinfo=zone).timestamp())
        if d < days:
            weekday[d] = day.weekday()
            month[d] = day.month - 1
    return midnights, weekday, month


def _flat(cum: np.ndarray) -> np.ndarray:
    """Rows of cumulative probabilities shifted by their row number and laid end to end."""
    return (cum + np.arange(cum.shape[0], dtype=np.float64)[:, None]).ravel()


def _pick(
    cum: np.ndarray, rows: np.ndarray, u: np.ndarray, flat: np.ndarray | None = None
) -> np.ndarray:
    """For each i, the column ``j`` of ``cum[rows[i]]`` with cum[j-1] <= u < cum[j].

    ``cum`` holds cumulative probabilities per row (values in [0, 1]); a result equal to
    the number of columns means "none" (u beyond the row's total). One binary search
    over all rows at once (``flat``: ``_flat(cum)``, computed once per walk).
    """
    if flat is None:
        flat = _flat(cum)
    pos = np.searchsorted(flat, rows + u, side="right")
    return pos - rows * cum.shape[1]


def walk(
    model: JourneyModel,
    *,
    customers: int | None = None,
    seed: int = 0,
    start: date | str = date(2026, 1, 1),
    days: int = 365,
    timezone: str = "Europe/Amsterdam",
    max_steps: int = 200,
) -> Walked:
    """Walk ``customers`` customers (None: each group's ``starts_per_day`` x ``days``)."""
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            raise InvalidSpec("start", "is not a date like 2026-01-01", value=start) from None
    if days < 1:
        raise InvalidSpec("days", "must be at least 1", value=days)
    if customers is not None and customers < 0:
        raise InvalidSpec("customers", "must not be negative", value=customers)
    if not 1 <= max_steps <= 4096:
        raise InvalidSpec("max_steps", "must be between 1 and 4096", value=max_steps)
    groups = model.groups
    G, T = len(groups), len(model.touchpoints)
    if customers is None:
        counts = np.array([round(g.starts_per_day * days) for g in groups], dtype=np.int64)
    else:
        counts = _allocate(np.array([g.share for g in groups], dtype=np.float64), customers)
    N = int(counts.sum())
    group = np.repeat(np.arange(G, dtype=np.int64), counts)
    ids = np.arange(N, dtype=np.int64)

    # -- when each journey starts: day by weekly x seasonal pattern, hour by DIURNAL --
    midnights, weekday, month = _calendar(start, days, timezone)
    hour_cum = np.cumsum(DIURNAL) / DIURNAL.sum()
    first = np.empty(N, dtype=np.int64)
    u_day = R.uniform(seed, R.STREAM_DAY, 0, ids)
    u_hour = R.uniform(seed, R.STREAM_HOUR, 0, ids)
    u_sec = R.uniform(seed, R.STREAM_SECOND, 0, ids)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for g, gm in enumerate(groups):
        lo, hi = bounds[g], bounds[g + 1]
        weights = gm.weekly[weekday] * gm.seasonal[month]
        cum = np.cumsum(weights) / weights.sum()
        day = np.minimum(np.searchsorted(cum, u_day[lo:hi], side="right"), days - 1)
        hour = np.minimum(np.searchsorted(hour_cum, u_hour[lo:hi], side="right"), 23)
        first[lo:hi] = midnights[day] + hour * 3600 + (u_sec[lo:hi] * 3600).astype(np.int64)
    end_s = int(midnights[-1])

    # -- stack the groups' state spaces into one --
    sizes = [len(g.walk.state_touchpoint) for g in groups]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    state_tp = np.concatenate([g.walk.state_touchpoint for g in groups]).astype(np.int64)
    move_cum = np.cumsum(np.concatenate([g.walk.moves for g in groups]), axis=1)
    nxt = np.concatenate(
        [
            np.where(g.walk.next_state >= 0, g.walk.next_state + offsets[i], -1)
            for i, g in enumerate(groups)
        ]
    )
    median = np.concatenate([g.walk.delay_median_s for g in groups])
    sigma = np.concatenate([g.walk.delay_sigma for g in groups])
    mix_cum = np.cumsum(np.concatenate([g.walk.channel_mix for g in groups]), axis=1)
    has_channel = mix_cum[:, -1] > 0 if mix_cum.shape[1] else np.zeros(len(state_tp), dtype=bool)
    if mix_cum.shape[1]:
        mix_cum = mix_cum / np.where(has_channel, mix_cum[:, -1], 1.0)[:, None]
        mix_cum[:, -1] = np.where(has_channel, 1.0, 0.0)
    move_flat, mix_flat = _flat(move_cum), _flat(mix_cum)

    # -- step 0: the entry touchpoint --
    u = R.uniform(seed, R.STREAM_ENTRY, 0, ids)
    state = np.empty(N, dtype=np.int64)
    for g, gm in enumerate(groups):
        lo, hi = bounds[g], bounds[g + 1]
        cum = np.cumsum(gm.walk.entry)
        local = np.minimum(np.searchsorted(cum / cum[-1], u[lo:hi], side="right"), sizes[g] - 1)
        state[lo:hi] = offsets[g] + local

    def channel_of(states: np.ndarray, step: int, who: np.ndarray) -> np.ndarray:
        if not mix_cum.shape[1]:
            return np.full(len(states), -1, dtype=np.int64)
        uc = R.uniform(seed, R.STREAM_CHANNEL, step, who)
        ch = _pick(mix_cum, states, uc, mix_flat)
        return np.where(has_channel[states] & (ch < mix_cum.shape[1]), ch, -1)

    # flat (state, next touchpoint) lookups: one fancy index instead of two
    median_flat, sigma_flat, nxt_flat = median.ravel(), sigma.ravel(), nxt.ravel()
    keep = first < end_s
    active, cur, now = ids[keep], state[keep], first[keep]
    length = keep.astype(np.int64)  # events per customer so far
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = [
        (active, now, state_tp[cur], channel_of(cur, 0, active))
    ]
    for step in range(1, max_steps):
        if not len(active):
            break
        u = R.uniform(seed, R.STREAM_NEXT, step, active)
        choice = _pick(move_cum, cur, u, move_flat)
        go = choice < T
        if not go.all():
            active, cur, now, choice = active[go], cur[go], now[go], choice[go]
        pair = cur * T + choice
        delay = R.normal(seed, R.STREAM_DELAY, step, active)
        delay *= sigma_flat[pair]
        np.exp(delay, out=delay)
        delay *= median_flat[pair]
        np.rint(delay, out=delay)
        np.maximum(delay, 1.0, out=delay)
        now = now + delay.astype(np.int64)
        cur = nxt_flat[pair]
        ok = (now < end_s) & (cur >= 0)
        if not ok.all():
            active, cur, now = active[ok], cur[ok], now[ok]
        length[active] += 1
        parts.append((active, now, state_tp[cur], channel_of(cur, step, active)))

    # customer-major order: each step's events go straight to their place
    E = int(length.sum())
    begin = np.cumsum(length) - length
    cust = np.repeat(ids, length)
    steps = np.arange(E, dtype=np.int64) - np.repeat(begin, length)
    time_s = np.empty(E, dtype=np.int64)
    tp = np.empty(E, dtype=np.int64)
    channel = np.empty(E, dtype=np.int64)
    for k, (who, when, where, how) in enumerate(parts):
        pos = begin[who] + k
        time_s[pos] = when
        tp[pos] = where
        channel[pos] = how
    del parts

    # -- money: steps with a value carry it, varied log-normally, in cents --
    values = np.stack([g.walk.value for g in groups]) if groups else np.full((0, T), np.nan)
    mean = values[group[cust], tp]
    value = np.full(len(cust), np.nan)
    paid = ~np.isnan(mean)
    if paid.any():
        zv = R.normal(seed, R.STREAM_VALUE, 0, pos_key(cust[paid], steps[paid]))
        value[paid] = np.round(mean[paid] * np.exp(VALUE_SIGMA * zv - VALUE_SIGMA**2 / 2), 2)
    return Walked(
        model=model,
        seed=seed,
        start_s=int(midnights[0]),
        end_s=end_s,
        group=group,
        first_s=first,
        cust=cust,
        step=steps,
        time_s=time_s,
        touchpoint=tp,
        channel=channel,
        value=value,
    )


def pos_key(cust: np.ndarray, step: np.ndarray) -> np.ndarray:
    """One integer key per (customer, step), for draws made after the walk."""
    return cust.astype(np.int64) * 4096 + step
