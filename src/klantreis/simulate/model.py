"""The journey behaviour model: how customers walk a journey, as numpy arrays.

A :class:`JourneyModel` holds one :class:`GroupModel` per persona (or segment, or one
for everybody). Each group walks a Markov chain (:class:`WalkModel`) over *states*:
for order 1 a state is the current touchpoint, for order 2 it is the pair (previous
touchpoint, current touchpoint). From every state the walk gives

* ``moves[s, t]``: the probability of moving to touchpoint ``t`` next; what is left up
  to 1 is the probability of leaving the journey there,
* ``delay_median_s[s, t]`` and ``delay_sigma[s, t]``: the log-normal time until that
  next step (median in seconds and sigma of its logarithm),
* ``channel_mix[s, c]``: the channel the step into state ``s`` uses.

A model comes from the journey file (:func:`journey_model`, design-time estimates in
``walk:`` blocks) or from data (:func:`klantreis.simulate.fit.fit_model`).

Defaults where the journey says nothing (documented in docs/simulate.md):

* a touchpoint without ``walk`` (or with an empty ``walk.next``) moves to each of its
  successors (``successors`` plus the touchpoints naming it as predecessor) with
  probability ``DEFAULT_CONTINUE / number of successors`` and leaves otherwise; a
  touchpoint without successors always leaves;
* the delay is ``1d`` with spread 1.0; the channel is ``walk.channels``, else the
  touchpoint's ``channel``, else the persona's preferred channels, else none;
* a persona's ``propensity[t]`` multiplies the probability of moving *into* ``t`` from
  anywhere; when the moves out of a touchpoint then add up to more than 1 they are
  scaled down to 1 (nobody leaves there);
* a persona's ``channels`` are relative preference weights (their mean over the
  channels named is 1; other channels keep weight 1) that re-weight every touchpoint's
  channel mix;
* a persona's ``purchase_value`` replaces the value of every step that carries money
  (conversion touchpoints and touchpoints with a ``walk.value``);
* the first touchpoint comes from the persona's ``walk.entry``, else from the
  triggers (each trigger with a ``touchpoint`` weighs the same), else from the
  touchpoints nobody leads to, else the first touchpoint.

    >>> from klantreis.model import Journey, Touchpoint, TouchpointWalk
    >>> j = Journey(key="j", touchpoints=[
    ...     Touchpoint(key="ad", phase="awareness", successors=["shop"],
    ...                walk=TouchpointWalk(next={"shop": 0.4}, delay="2h")),
    ...     Touchpoint(key="shop", phase="purchase", conversion=True)])
    >>> m = journey_model(j)
    >>> m.touchpoints, m.groups[0].walk.moves.tolist()
    (('ad', 'shop'), [[0.0, 0.4], [0.0, 0.0]])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from klantreis.errors import InvalidSpec, UnknownKey
from klantreis.units import parse_duration

if TYPE_CHECKING:
    from klantreis.model.journey import Journey, Persona, Touchpoint

__all__ = [
    "DEFAULT_CONTINUE",
    "DEFAULT_DELAY",
    "DEFAULT_SPREAD",
    "GroupModel",
    "JourneyModel",
    "WalkModel",
    "journey_model",
]

#: Probability of going on to one of its successors at a touchpoint without a walk.
DEFAULT_CONTINUE = 0.7
DEFAULT_DELAY = "1d"
DEFAULT_SPREAD = 1.0
#: Share of events that get a feedback answer (see klantreis.simulate.feedback).
DEFAULT_FEEDBACK_RATE = 0.15


@dataclass(frozen=True, eq=False)
class WalkModel:
    """A Markov chain of order 1 or 2 over touchpoints, with delays and channels.

    ``S`` states, ``T`` touchpoints, ``C`` channels. ``state_touchpoint[s]`` is the
    touchpoint a customer is at in state ``s``; ``next_state[s, t]`` the state after
    moving to ``t`` (-1 where that move is impossible); ``entry[s]`` the probability
    of starting in ``s``; ``value[t]`` the mean money value of a conversion at ``t``
    (NaN: none).
    """

    order: int
    state_touchpoint: np.ndarray  # (S,) int64
    entry: np.ndarray  # (S,) float64, sums to 1
    moves: np.ndarray  # (S, T) float64, rows sum to <= 1
    next_state: np.ndarray  # (S, T) int64
    delay_median_s: np.ndarray  # (S, T) float64
    delay_sigma: np.ndarray  # (S, T) float64
    channel_mix: np.ndarray  # (S, C) float64, rows sum to 1 (or 0: no channel)
    value: np.ndarray  # (T,) float64
    state_previous: np.ndarray | None = None  # (S,) order 2: previous touchpoint (-1: start)

    @property
    def leave(self) -> np.ndarray:
        """Probability of leaving the journey in each state."""
        return np.clip(1.0 - self.moves.sum(axis=1), 0.0, 1.0)

    def replace(self, **changes: object) -> WalkModel:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, eq=False)
class GroupModel:
    """One persona (or segment): who they are, when they start, how they walk."""

    key: str | None
    segment: str | None
    share: float
    starts_per_day: float
    weekly: np.ndarray  # (7,) Monday first, mean 1
    seasonal: np.ndarray  # (12,) January first, mean 1
    walk: WalkModel

    def replace(self, **changes: object) -> GroupModel:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, eq=False)
class JourneyModel:
    """Everything the simulator needs: touchpoints, channels, groups, experience."""

    journey: str
    touchpoints: tuple[str, ...]
    channels: tuple[str, ...]
    conversion: np.ndarray  # (T,) bool
    experience: np.ndarray  # (T,) current experience mapped to 0..1 (NaN: unknown)
    scale: tuple[float, float]
    groups: tuple[GroupModel, ...]
    triggers: tuple[tuple[str, ...], ...] = ()  # per touchpoint: triggers that start there
    feedback_rate: float = DEFAULT_FEEDBACK_RATE
    source: str = "journey"  # "journey" or "fitted"
    notes: tuple[str, ...] = field(default=())

    def touchpoint_index(self, key: str) -> int:
        if key not in self.touchpoints:
            raise UnknownKey("touchpoint", key, self.touchpoints)
        return self.touchpoints.index(key)

    def group(self, key: str) -> GroupModel:
        """The group of persona ``key`` (or, for models fitted per segment, segment ``key``)."""
        for g in self.groups:
            if g.key == key:
                return g
        for g in self.groups:
            if g.key is None and g.segment == key:
                return g
        known = [g.key or g.segment for g in self.groups if g.key or g.segment]
        raise UnknownKey("persona", key, known)

    def only(self, persona: str | None) -> JourneyModel:
        """The model restricted to one persona (``None``: unchanged)."""
        if persona is None:
            return self
        return self.replace(groups=(self.group(persona),))

    def replace(self, **changes: object) -> JourneyModel:
        return dataclasses.replace(self, **changes)

    def transition_table(self, persona: str | None = None) -> list[tuple[str, str, float]]:
        """(from, to, probability) rows of an order-1 group; ``to`` '(leave)' for leaving."""
        group = self.groups[0] if persona is None else self.group(persona)
        w = group.walk
        rows: list[tuple[str, str, float]] = []
        for s, tp in enumerate(w.state_touchpoint):
            label = self.touchpoints[tp]
            if w.state_previous is not None:
                prev = int(w.state_previous[s])
                label = f"{self.touchpoints[prev] if prev >= 0 else '(start)'} > {label}"
            for t in np.flatnonzero(w.moves[s]):
                rows.append((label, self.touchpoints[t], float(w.moves[s, t])))
            rows.append((label, "(leave)", float(w.leave[s])))
        return rows


# -- from the journey file -------------------------------------------------------------


def _seconds(duration: str, where: str) -> float:
    return parse_duration(duration, field=where).total_seconds()


def _successors(
    journey_tps: Sequence[Touchpoint], edges: set[tuple[str, str]]
) -> dict[str, list[str]]:
    keys = [tp.key for tp in journey_tps]
    present = set(keys)
    out: dict[str, list[str]] = {}
    for tp in journey_tps:
        targets = {b for a, b in edges if a == tp.key and b in present and b != tp.key}
        out[tp.key] = [k for k in keys if k in targets]
    return out


def _pattern(values: Sequence[float] | None, n: int) -> np.ndarray:
    if values is None:
        return np.ones(n)
    arr = np.asarray(values, dtype=np.float64)
    if arr.sum() <= 0:
        return np.ones(n)
    return arr / arr.mean()


def _normalised(weights: dict[int, float], size: int) -> np.ndarray:
    arr = np.zeros(size)
    for i, w in weights.items():
        arr[i] += w
    total = arr.sum()
    return arr / total if total > 0 else arr


def _experience(journey: Journey, tps: Sequence[Touchpoint]) -> np.ndarray:
    lo, hi = float(journey.scale.min), float(journey.scale.max)
    out = np.full(len(tps), np.nan)
    for i, tp in enumerate(tps):
        cur = tp.experience.current if tp.experience is not None else None
        if cur is not None and hi > lo:
            out[i] = min(max((float(cur) - lo) / (hi - lo), 0.0), 1.0)
    return out


def journey_model(
    journey: Journey,
    *,
    persona: str | None = None,
    state: str = "as-is",
    feedback_rate: float = DEFAULT_FEEDBACK_RATE,
) -> JourneyModel:
    """The behaviour model written in the journey (``walk:`` blocks), one group per persona.

    ``state`` 'to-be' uses the to-be map (to-be touchpoints and walks). Journeys
    without personas get one group (persona and segment None).
    """
    if not 0 <= feedback_rate <= 1:
        raise InvalidSpec("feedback_rate", "must be between 0 and 1", value=feedback_rate)
    tps = journey.state_view(state)
    if not tps:
        raise InvalidSpec("journey", f"journey '{journey.key}' has no touchpoints to walk")
    keys = tuple(tp.key for tp in tps)
    index = {k: i for i, k in enumerate(keys)}
    channel_keys = [c.key for c in journey.channels]
    for tp in tps:  # channels named only on touchpoints still count
        extra = [tp.channel] if tp.channel else []
        extra += list(tp.walk.channels) if tp.walk else []
        channel_keys += [c for c in extra if c not in channel_keys]
    for p in journey.personas:
        if p.walk is not None:
            channel_keys += [c for c in p.walk.channels if c not in channel_keys]
    channels = tuple(channel_keys)
    cindex = {c: i for i, c in enumerate(channels)}
    T, C = len(keys), len(channels)
    succ = _successors(tps, journey.edges())

    # base walk (before persona adjustments)
    moves = np.zeros((T, T))
    median = np.zeros((T, T))
    sigma = np.zeros((T, T))
    mix = np.zeros((T, C))
    value = np.full(T, np.nan)
    for i, tp in enumerate(tps):
        walk = tp.walk
        where = f"touchpoints.{tp.key}.walk"
        nxt = dict(walk.next) if walk is not None else {}
        if not nxt and succ[tp.key]:
            nxt = {k: DEFAULT_CONTINUE / len(succ[tp.key]) for k in succ[tp.key]}
        for k, p in nxt.items():
            if k in index:  # a successor missing in this state (e.g. to-be only) is dropped
                moves[i, index[k]] += p
            elif k not in {t.key for t in journey.touchpoints}:
                raise UnknownKey("touchpoint", k, keys)
        median[i, :] = _seconds(walk.delay if walk else DEFAULT_DELAY, f"{where}.delay")
        sigma[i, :] = walk.spread if walk else DEFAULT_SPREAD
        if walk is not None and walk.channels:
            mix[i] = _normalised({cindex[c]: w for c, w in walk.channels.items()}, C)
        elif tp.channel:
            mix[i, cindex[tp.channel]] = 1.0
        if walk is not None and walk.value is not None:
            value[i] = walk.value
    conversion = np.array([tp.conversion for tp in tps], dtype=bool)

    triggers: list[list[str]] = [[] for _ in keys]
    for trig in journey.triggers:
        if trig.touchpoint in index:
            triggers[index[trig.touchpoint]].append(trig.key)
    incoming = {b for a, b in journey.edges() if a != b}
    default_entry: dict[int, float]
    if any(triggers):
        default_entry = {i: float(len(ts)) for i, ts in enumerate(triggers) if ts}
    else:
        roots = [i for i, k in enumerate(keys) if k not in incoming]
        default_entry = {i: 1.0 for i in roots} if roots else {0: 1.0}

    personas = list(journey.personas)
    if persona is not None:
        personas = [journey.persona(persona)]
    groups: list[GroupModel] = []
    targets = personas or [None]
    for p in targets:
        groups.append(
            _group(
                p,
                keys,
                index,
                channels,
                cindex,
                moves,
                median,
                sigma,
                mix,
                value,
                conversion,
                default_entry,
            )
        )
    return JourneyModel(
        journey=journey.key,
        touchpoints=keys,
        channels=channels,
        conversion=conversion,
        experience=_experience(journey, tps),
        scale=(float(journey.scale.min), float(journey.scale.max)),
        groups=tuple(groups),
        triggers=tuple(tuple(ts) for ts in triggers),
        feedback_rate=feedback_rate,
        source="journey",
    )


def _group(
    persona: Persona | None,
    keys: tuple[str, ...],
    index: dict[str, int],
    channels: tuple[str, ...],
    cindex: dict[str, int],
    moves: np.ndarray,
    median: np.ndarray,
    sigma: np.ndarray,
    mix: np.ndarray,
    value: np.ndarray,
    conversion: np.ndarray,
    default_entry: dict[int, float],
) -> GroupModel:
    T, C = len(keys), len(channels)
    pw = persona.walk if persona is not None else None
    moves = moves.copy()
    mix = mix.copy()
    value = value.copy()
    entry_w = dict(default_entry)
    share, per_day, weekly, seasonal = 1.0, 10.0, None, None
    if pw is not None:
        share, per_day, weekly, seasonal = pw.share, pw.starts_per_day, pw.weekly, pw.seasonal
        for k, mult in pw.propensity.items():
            if k in index:
                moves[:, index[k]] *= mult
        total = moves.sum(axis=1, keepdims=True)
        moves = np.where(total > 1.0, moves / np.where(total > 0, total, 1.0), moves)
        if pw.channels:
            named = {c: w for c, w in pw.channels.items() if c in cindex}
            mean = sum(named.values()) / len(named) if named else 1.0
            weights = np.ones(C)
            for c, w in named.items():
                weights[cindex[c]] = w / mean if mean > 0 else 1.0
            weighted = mix * weights
            sums = weighted.sum(axis=1, keepdims=True)
            mix = np.where(sums > 0, weighted / np.where(sums > 0, sums, 1.0), mix)
            empty = mix.sum(axis=1) == 0  # touchpoints without any channel: the persona's own
            if empty.any():
                mix[empty] = _normalised({cindex[c]: w for c, w in named.items()}, C)
        if pw.entry:
            entry_w = {index[k]: w for k, w in pw.entry.items() if k in index}
            if not entry_w:
                entry_w = dict(default_entry)
        if pw.purchase_value is not None:
            value[conversion | ~np.isnan(value)] = pw.purchase_value
    walk = WalkModel(
        order=1,
        state_touchpoint=np.arange(T, dtype=np.int64),
        entry=_normalised(entry_w, T),
        moves=moves,
        next_state=np.tile(np.arange(T, dtype=np.int64), (T, 1)),
        delay_median_s=median.copy(),
        delay_sigma=sigma.copy(),
        channel_mix=mix,
        value=value,
    )
    segment = None
    if persona is not None:
        seg = persona.match.get("segment")
        segment = seg if isinstance(seg, str) else persona.key
    return GroupModel(
        key=persona.key if persona is not None else None,
        segment=segment,
        share=float(share),
        starts_per_day=float(per_day),
        weekly=_pattern(weekly, 7),
        seasonal=_pattern(seasonal, 12),
        walk=walk,
    )
