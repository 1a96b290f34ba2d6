"""Attribution: which touchpoints or channels earn the conversions.

Paths are built in the engine (see :mod:`._paths`) and aggregated to distinct paths
with their conversions, nulls and value; every model works on that aggregate only.
Models: ``first_touch``, ``last_touch``, ``last_non_direct``, ``linear``,
``time_decay``, ``position_based``, ``markov`` (order 1-4 or ``"auto"``, exact) and
``shapley``. For every model the attributed conversions add up to the total
conversions and the value to the total value (conversions with no touch in the
lookback window cannot be attributed; they are counted apart, in ``params``).

    >>> from klantreis.analytics.attribution._paths import aggregate_from_paths
    >>> agg = aggregate_from_paths([["ad", "site"], ["site"]], [1, 0], [0, 1], [30.0, 0.0])
    >>> r = attribute_paths(agg, AttributionSpec(conversion=("buy",), models=("linear",)))
    >>> r.extras["wide"].to_dict("records")
    [{'key': 'ad', 'linear': 0.5}, {'key': 'site', 'linear': 0.5}]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from klantreis.errors import InvalidSpec, UnknownKey
from klantreis.result import Result
from klantreis.units import parse_duration

__all__ = ["MODELS", "AttributionSpec", "attribute_paths", "attribution"]

MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
)
BY = ("touchpoint", "channel")
WORTHS = ("conversions", "rate")
DIRECT_KEY = "direct"


@dataclass(frozen=True)
class AttributionSpec:
    """What to attribute, how (validated on creation)."""

    conversion: tuple[str, ...]
    models: tuple[str, ...] = MODELS
    order: int | str = 1
    lookback_seconds: float | None = 30 * 86400.0
    by: str = "touchpoint"
    repeat: bool = False
    half_life_seconds: float = 7 * 86400.0
    position: tuple[float, float] = (0.4, 0.4)
    shapley_worth: str = "conversions"
    shapley_exact_max: int = 15
    shapley_samples: int = 2000
    seed: int = 0
    direct: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.conversion:
            raise InvalidSpec(
                "conversion",
                "no conversion touchpoint: name one, or mark one 'conversion: true' in the journey",
            )
        unknown = [m for m in self.models if m not in MODELS]
        if unknown:
            raise InvalidSpec("models", "unknown model", value=unknown[0], allowed=MODELS)
        if not self.models:
            raise InvalidSpec("models", "name at least one model", allowed=MODELS)
        if self.by not in BY:
            raise InvalidSpec("by", "attribute by touchpoint or channel", value=self.by, allowed=BY)
        if self.order != "auto" and (
            isinstance(self.order, bool)
            or not isinstance(self.order, int)
            or not 1 <= self.order <= 4
        ):
            raise InvalidSpec(
                "order", "Markov order must be 1, 2, 3, 4 or 'auto'", value=self.order
            )
        if not self.half_life_seconds > 0:
            raise InvalidSpec("half_life", "must be more than 0", value=self.half_life_seconds)
        first, last = self.position
        if first < 0 or last < 0 or first + last > 1:
            raise InvalidSpec(
                "position",
                "first and last shares must be at least 0 and add up to at most 1",
                value=self.position,
            )
        if self.shapley_worth not in WORTHS:
            raise InvalidSpec(
                "shapley_worth", "unknown worth", value=self.shapley_worth, allowed=WORTHS
            )
        if not 1 <= self.shapley_exact_max <= 22:
            raise InvalidSpec(
                "shapley_exact_max", "must be between 1 and 22", value=self.shapley_exact_max
            )
        if self.shapley_samples < 2:
            raise InvalidSpec("shapley_samples", "must be at least 2", value=self.shapley_samples)


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(value)


def attribution(
    ws: Any,
    conversion: str | Sequence[str] | None = None,
    models: str | Sequence[str] | None = None,
    order: int | str = 1,
    lookback: str | float | None = "30d",
    by: str = "touchpoint",
    *,
    repeat: bool = False,
    half_life: str | float = "7d",
    position: tuple[float, float] = (0.4, 0.4),
    shapley_worth: str = "conversions",
    shapley_exact_max: int = 15,
    shapley_samples: int = 2000,
    seed: int = 0,
    journey: str | None = None,
) -> Result:
    """Attribute conversions (and their value) to touchpoints or channels.

    ``conversion``: touchpoint key(s) that count as conversion (default: the journey's
    conversion touchpoints). ``lookback``: only touches this long before the
    conversion count (None: no limit). ``repeat``: every conversion closes a path
    (default: only a customer's first). Returns ``Result(name="attribution")`` whose
    table has columns key, model, conversions, value; ``extras['wide']`` has one
    column per model; for markov also ``removal_effects`` and ``transition_matrix``.
    """
    jr = ws.journey(journey)
    conv = _as_tuple(conversion) or tuple(jr.conversion_touchpoints())
    if isinstance(lookback, str) and lookback.strip().lower() in ("0", "none", ""):
        lookback = None  # no limit
    lookback_s = (
        None if lookback is None else parse_duration(lookback, field="lookback").total_seconds()
    )
    if lookback_s == 0:
        lookback_s = None
    direct = _direct_keys(jr, by)
    spec = AttributionSpec(
        conversion=conv,
        models=_as_tuple(models) or MODELS,
        order=order,
        lookback_seconds=lookback_s,
        by=by,
        repeat=repeat,
        half_life_seconds=parse_duration(half_life, field="half_life").total_seconds(),
        position=tuple(position),  # type: ignore[arg-type]
        shapley_worth=shapley_worth,
        shapley_exact_max=shapley_exact_max,
        shapley_samples=shapley_samples,
        seed=seed,
        direct=direct,
    )
    from klantreis.analytics._timeline import timeline

    events = timeline(ws)  # placed events in path order, built once per change of the data
    con = ws.con
    _check_conversion(events, con, spec.conversion, [tp.key for tp in jr.touchpoints])
    keys = _distinct_keys(events, con, spec.by)
    if spec.by == "touchpoint":  # conversion events are never touches of a path
        keys = [k for k in keys if k not in spec.conversion]
    from klantreis.analytics.attribution._paths import build_paths

    agg = build_paths(
        events,
        con,
        column=spec.by,
        keys=keys,
        conversion=list(spec.conversion),
        lookback_s=spec.lookback_seconds,
        repeat=spec.repeat,
        half_life_s=spec.half_life_seconds if "time_decay" in spec.models else None,
    )
    return attribute_paths(agg, spec)


def _direct_keys(jr: Any, by: str) -> tuple[str, ...]:
    channels = {c.key for c in jr.channels if c.direct} | {DIRECT_KEY}
    if by == "channel":
        return tuple(sorted(channels))
    tps = {tp.key for tp in jr.touchpoints if tp.channel in channels} | {DIRECT_KEY}
    return tuple(sorted(tps))


def _check_conversion(events: Any, con: Any, conversion: Sequence[str], known: list[str]) -> None:
    missing = [c for c in conversion if c not in known]
    if not missing:
        return
    found = con.to_pyarrow(
        events.filter(events.touchpoint.isin(missing)).select("touchpoint").distinct()
    )["touchpoint"].to_pylist()
    for key in missing:
        if key not in found:
            seen = con.to_pyarrow(events.select("touchpoint").distinct().limit(10_000))
            names = {k for k in seen["touchpoint"].to_pylist() if k is not None}
            raise UnknownKey("touchpoint", key, set(known) | names)


def _distinct_keys(events: Any, con: Any, column: str) -> list[str]:
    keys = con.to_pyarrow(events.select(key=events[column]).distinct())["key"].to_pylist()
    return sorted(str(k) for k in keys if k is not None)


def attribute_paths(agg: Any, spec: AttributionSpec) -> Result:
    """Run the spec's models on a path aggregate and build the Result."""
    import time

    import pandas as pd

    from klantreis.analytics.attribution import _markov, _rules, _shapley

    started = time.perf_counter()
    credits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    extras: dict[str, Any] = {}
    direct = np.array([k in set(spec.direct) for k in agg.keys], dtype=bool)
    order_used: int | None = None
    for model in spec.models:
        if model == "first_touch":
            credits[model] = _rules.first_touch(agg)
        elif model == "last_touch":
            credits[model] = _rules.last_touch(agg)
        elif model == "last_non_direct":
            credits[model] = _rules.last_non_direct(agg, direct)
        elif model == "linear":
            credits[model] = _rules.linear(agg)
        elif model == "position_based":
            credits[model] = _rules.position_based(agg, *spec.position)
        elif model == "time_decay":
            if agg.decay is None:
                raise InvalidSpec("time_decay", "the path aggregate was built without decay credit")
            credits[model] = agg.decay
        elif model == "markov":
            order_used = spec.order if isinstance(spec.order, int) else None
            if order_used is None:
                order_used, scores = _markov.choose_order(agg, seed=spec.seed)
                extras["order_selection"] = scores
            conv, value, info = _markov.markov(agg, order_used)
            credits[model] = (conv, value)
            effects, effects_value, without = info["removal"]  # type: ignore[misc]
            extras["removal_effects"] = pd.DataFrame(
                {
                    "key": agg.keys,
                    "removal_effect": effects,
                    "removal_effect_value": effects_value,
                    "conversion_probability_without": without,
                }
            )
            extras["transition_matrix"] = _markov.transition_frame(info["chain"], agg.keys)
            extras["markov"] = {
                "order": order_used,
                "conversion_probability": info["p_conversion"],
                "expected_value": info["expected_value"],
            }
        elif model == "shapley":
            conv, value, info = _shapley.shapley(
                agg,
                worth=spec.shapley_worth,
                exact_max=spec.shapley_exact_max,
                samples=spec.shapley_samples,
                seed=spec.seed,
            )
            credits[model] = (conv, value)
            se = info["se"]
            extras["shapley"] = pd.DataFrame(
                {"key": agg.keys, "se_conversions": se[:, 0], "se_value": se[:, 1]}  # type: ignore[index]
            )
            extras["shapley_method"] = info["method"]
    frames = [
        pd.DataFrame({"key": agg.keys, "model": m, "conversions": c, "value": v})
        for m, (c, v) in credits.items()
    ]
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["key", "model", "conversions", "value"])
    )
    wide = table.pivot(index="key", columns="model", values="conversions")
    extras["wide"] = wide.reindex(columns=list(credits)).reset_index().rename_axis(None, axis=1)
    wide_value = table.pivot(index="key", columns="model", values="value")
    extras["wide_value"] = (
        wide_value.reindex(columns=list(credits)).reset_index().rename_axis(None, axis=1)
    )
    extras["paths"] = agg.n_paths
    params = {
        "conversion": list(spec.conversion),
        "models": list(spec.models),
        "order": order_used if order_used is not None else spec.order,
        "lookback_seconds": spec.lookback_seconds,
        "by": spec.by,
        "repeat": spec.repeat,
        "half_life_seconds": spec.half_life_seconds,
        "position": list(spec.position),
        "shapley_worth": spec.shapley_worth,
        "seed": spec.seed,
        "total_conversions": agg.total_conversions(),
        "total_value": agg.total_value(),
        "unattributed_conversions": agg.unattributed[0],
        "unattributed_value": agg.unattributed[1],
        "paths": agg.n_paths,
    }
    lookback = (
        "no lookback limit"
        if spec.lookback_seconds is None
        else (f"touches up to {spec.lookback_seconds / 86400:g} days before the conversion")
    )
    definition = (
        f"Conversions at {', '.join(spec.conversion)} attributed to each {spec.by} "
        f"({lookback}; {'every conversion' if spec.repeat else 'first conversion per customer'} "
        "closes a path; customers who never convert give non-converting paths). "
        "Each model's conversions add up to the total conversions and its value to the "
        "total value; conversions without any touch in the window are not attributed "
        f"({agg.unattributed[0]:g})."
    )
    return Result(
        name="attribution",
        table=table,
        definition=definition,
        params=params,
        sql=agg.sql,
        seconds=agg.seconds + time.perf_counter() - started,
        extras=extras,
    )
