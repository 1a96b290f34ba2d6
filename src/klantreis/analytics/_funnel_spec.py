"""The frozen funnel spec and its validators (see docs/funnel.md for the definitions).

>>> spec = build_spec(["home", "cart?", "checkout|store_checkout"], window="30d")
>>> [s.touchpoints for s in spec.steps]
[('home',), ('cart',), ('checkout', 'store_checkout')]
>>> spec.steps[1].optional, spec.window_seconds
(True, 2592000.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from klantreis.errors import InvalidSpec
from klantreis.units import parse_duration

__all__ = ["MODES", "UNITS", "Exclusion", "FunnelSpec", "Step", "build_spec"]

MODES = ("ordered", "strict", "any-order")
UNITS = ("customers", "attempts")
PERIODS = ("week", "month")
BY_FIXED = ("segment", "persona", "channel", "week", "month")
#: The any-order walk keeps the steps it reached as bits of an int64.
MAX_WALK_STEPS = 62


@dataclass(frozen=True)
class Step:
    """One funnel step: a touchpoint or an OR-group of touchpoints."""

    touchpoints: tuple[str, ...]
    optional: bool = False
    window_seconds: float | None = None  # max time from the previous matched step
    gap_seconds: float = 0.0  # minimum time from the previous matched step
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or "|".join(self.touchpoints)


@dataclass(frozen=True)
class Exclusion:
    """Touchpoints that must not occur between matched steps ``after`` and ``before``."""

    touchpoints: tuple[str, ...]
    after: int  # 1-based step number
    before: int  # 1-based step number


@dataclass(frozen=True)
class FunnelSpec:
    steps: tuple[Step, ...]
    window_seconds: float
    mode: str = "ordered"
    unit: str = "customers"
    exclusions: tuple[Exclusion, ...] = ()
    by: str | None = None
    skew_seconds: float = 0.0

    @property
    def n(self) -> int:
        return len(self.steps)

    def first_attempt_suffices(self) -> bool:
        """True when the earliest attempt always gets furthest (no window, plain ordered steps).

        Without a window the chain of the earliest step-1 event lies at or before the chain
        of any later attempt, step by step, so it gets at least as far; per-step windows,
        gaps, optional steps, exclusions and strict order break that argument. A skew
        keeps it: the next step's candidates are the step's events at or after
        ``t_prev - skew``, a set that only shrinks as ``t_prev`` grows, so the earliest
        candidate of an earlier chain is never later than that of a later chain.
        """
        return (
            self.mode == "ordered"
            and self.unit == "customers"
            and math.isinf(self.window_seconds)
            and not self.exclusions
            and all(
                not s.optional and s.window_seconds is None and not s.gap_seconds
                for s in self.steps
            )
        )

    @property
    def walks(self) -> bool:
        """An any-order funnel with options: the greedy walk (plain any-order counts levels)."""
        return self.mode == "any-order" and (
            bool(self.exclusions)
            or any(s.optional or s.window_seconds is not None or s.gap_seconds for s in self.steps)
        )

    def touchpoints(self) -> set[str]:
        """Every touchpoint named by a step or an exclusion."""
        names = {tp for s in self.steps for tp in s.touchpoints}
        return names | {tp for x in self.exclusions for tp in x.touchpoints}

    def candidates(self, k: int) -> list[int]:
        """0-based steps that may follow matched step ``k``: k+1 and on over optional steps."""
        out = []
        for c in range(k + 1, self.n):
            out.append(c)
            if not self.steps[c].optional:
                break
        return out

    def params(self) -> dict[str, Any]:
        return {
            "steps": [s.name + ("?" if s.optional else "") for s in self.steps],
            "window_seconds": self.window_seconds,
            "mode": self.mode,
            "unit": self.unit,
            "step_windows_seconds": [s.window_seconds for s in self.steps],
            "min_gaps_seconds": [s.gap_seconds for s in self.steps],
            "exclusions": [
                {"touchpoints": list(x.touchpoints), "after": x.after, "before": x.before}
                for x in self.exclusions
            ],
            "by": self.by,
            "skew_seconds": self.skew_seconds,
        }


def _split(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split("|") if p.strip())


def _step(raw: Any, index: int) -> Step:
    where = f"steps[{index}]"
    if isinstance(raw, Step):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        optional = text.endswith("?")
        tps = _split(text.rstrip("?"))
        if not tps:
            raise InvalidSpec(where, "is empty; name a touchpoint or 'a|b'", value=raw)
        return Step(tps, optional=optional)
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"touchpoints", "touchpoint", "optional", "window", "min_gap", "name"}
        if unknown:
            raise InvalidSpec(
                where,
                f"unknown field '{sorted(unknown)[0]}'",
                allowed=["touchpoints", "optional", "window", "min_gap", "name"],
            )
        value = raw.get("touchpoints", raw.get("touchpoint"))
        tps = _split(value) if isinstance(value, str) else tuple(value or ())
        if not tps:
            raise InvalidSpec(where, "needs 'touchpoints' (a name, 'a|b' or a list)")
        window = raw.get("window")
        return Step(
            tuple(tps),
            optional=bool(raw.get("optional", False)),
            window_seconds=None
            if window is None
            else parse_duration(window, field=f"{where}.window").total_seconds(),
            gap_seconds=parse_duration(
                raw.get("min_gap", 0), field=f"{where}.min_gap"
            ).total_seconds(),
            label=str(raw.get("name") or ""),
        )
    raise InvalidSpec(where, "must be a touchpoint name, 'a|b', or a mapping", value=raw)


def _exclusion(raw: Any, n: int, index: int) -> Exclusion:
    where = f"exclude[{index}]"
    if isinstance(raw, Exclusion):
        x = raw
    elif isinstance(raw, str):
        # "tp" (between the first and last step), or "tp:after:before" (1-based steps)
        parts = raw.split(":")
        try:
            after, before = (int(parts[1]), int(parts[2])) if len(parts) == 3 else (1, n)
        except ValueError:
            raise InvalidSpec(
                where, "must look like 'touchpoint' or 'touchpoint:1:3'", value=raw
            ) from None
        if len(parts) not in (1, 3):
            raise InvalidSpec(where, "must look like 'touchpoint' or 'touchpoint:1:3'", value=raw)
        x = Exclusion(_split(parts[0]), after, before)
    elif isinstance(raw, Mapping):
        value = raw.get("touchpoints", raw.get("touchpoint", ""))
        tps = _split(value) if isinstance(value, str) else tuple(value)
        x = Exclusion(tps, int(raw.get("after", 1)), int(raw.get("before", n)))
    elif isinstance(raw, Sequence) and len(raw) == 3:
        tps = _split(raw[0]) if isinstance(raw[0], str) else tuple(raw[0])
        x = Exclusion(tps, int(raw[1]), int(raw[2]))
    else:
        raise InvalidSpec(
            where, "must be 'touchpoint:after:before' or (touchpoint, after, before)", value=raw
        )
    if not x.touchpoints:
        raise InvalidSpec(where, "names no touchpoint", value=raw)
    if not 1 <= x.after < x.before <= n:
        raise InvalidSpec(
            where, f"needs 1 <= after < before <= {n} (step numbers)", value=(x.after, x.before)
        )
    return x


def build_spec(
    steps: Sequence[Any],
    *,
    window: Any = "30d",
    mode: str = "ordered",
    unit: str = "customers",
    exclude: Sequence[Any] = (),
    step_windows: Mapping[int, Any] | Sequence[Any] | None = None,
    min_gaps: Mapping[int, Any] | Sequence[Any] | None = None,
    optional: Sequence[int] = (),
    by: str | None = None,
    skew: Any = 0,
) -> FunnelSpec:
    """Validate the arguments of :func:`klantreis.funnel` into a frozen spec."""
    if isinstance(steps, str):
        steps = [s for s in steps.split(",") if s.strip()]
    if not steps:
        raise InvalidSpec("steps", "needs at least one step")
    parsed = [_step(s, i) for i, s in enumerate(steps)]
    n = len(parsed)

    def per_step(values: Any, field: str) -> dict[int, float]:
        if values is None:
            return {}
        items = values.items() if isinstance(values, Mapping) else enumerate(values, start=1)
        out: dict[int, float] = {}
        for k, v in items:
            if v is None:
                continue
            if not (isinstance(k, int) and 1 <= k <= n):
                raise InvalidSpec(field, f"step numbers run from 1 to {n}", value=k)
            out[k] = parse_duration(v, field=f"{field}[{k}]").total_seconds()
        return out

    windows = per_step(step_windows, "step_windows")
    gaps = per_step(min_gaps, "min_gaps")
    for k in optional:
        if not (isinstance(k, int) and 1 <= k <= n):
            raise InvalidSpec("optional", f"step numbers run from 1 to {n}", value=k)
    final = []
    for i, s in enumerate(parsed, start=1):
        final.append(
            Step(
                s.touchpoints,
                optional=s.optional or i in optional,
                window_seconds=windows.get(i, s.window_seconds),
                gap_seconds=gaps.get(i, s.gap_seconds),
                label=s.label,
            )
        )
    if mode not in MODES:
        raise InvalidSpec("mode", "unknown funnel mode", value=mode, allowed=MODES)
    if mode == "any-order":
        if all(s.optional for s in final):
            raise InvalidSpec("optional", "at least one step must be required")
    elif final[0].optional or final[-1].optional:
        raise InvalidSpec("optional", "the first and the last step cannot be optional")
    if unit not in UNITS:
        raise InvalidSpec("unit", "unknown counting unit", value=unit, allowed=UNITS)
    # window=None: no window (every later event counts, however late)
    window_s = (
        math.inf if window is None else parse_duration(window, field="window").total_seconds()
    )
    excl = tuple(_exclusion(x, n, i) for i, x in enumerate(exclude))
    step_tps = {tp for s in final for tp in s.touchpoints}
    for i, x in enumerate(excl):
        clash = sorted(set(x.touchpoints) & step_tps)
        if clash:
            raise InvalidSpec(f"exclude[{i}]", f"'{clash[0]}' is also a step of the funnel")
    skew_s = parse_duration(skew, field="skew").total_seconds()
    if mode == "any-order":
        _one_step_per_touchpoint(
            final, "in any-order mode every touchpoint may belong to one step only"
        )
    if skew_s:
        if mode != "ordered":
            why = (
                "strict means no other event between matched steps, so steps cannot swap"
                if mode == "strict"
                else "any-order steps have no order to relax"
            )
            raise InvalidSpec("skew", f"applies to ordered funnels only ({why})", value=skew)
        _one_step_per_touchpoint(
            final,
            "with a skew tolerance every touchpoint may belong to one step only (a step "
            "may match up to the skew before the previous one, so it could reuse the event "
            "of an earlier step)",
        )
    if by is not None and by not in BY_FIXED and not by.startswith(("property.", "attribute.")):
        raise InvalidSpec(
            "by",
            "unknown breakdown",
            value=by,
            allowed=[*BY_FIXED, "property.NAME", "attribute.NAME"],
        )
    spec = FunnelSpec(tuple(final), window_s, mode, unit, excl, by, skew_s)
    if spec.walks and n > MAX_WALK_STEPS:
        raise InvalidSpec(
            "steps",
            "an any-order funnel with optional steps, step windows, min gaps or exclusions "
            f"takes at most {MAX_WALK_STEPS} steps (the walk keeps them as bits of a 64-bit "
            "integer); leave the options out or split the funnel",
            value=n,
        )
    return spec


def _one_step_per_touchpoint(steps: list[Step], rule: str) -> None:
    """Refuse a touchpoint that belongs to two steps, naming it, its first step and ``rule``."""
    owner: dict[str, int] = {}
    for i, s in enumerate(steps, start=1):
        for tp in s.touchpoints:
            if owner.setdefault(tp, i) != i:
                raise InvalidSpec(f"steps[{i - 1}]", f"'{tp}' is also in step {owner[tp]}; {rule}")
