"""Rules that look across a journey: references, duplicate keys, the scale, connections.

Each rule yields a :class:`~klantreis.errors.Problem` whose ``field`` is a path into
the file (``touchpoints[website].phase``) and whose ``loc`` can be turned into a
line number by :mod:`klantreis.model.io`.

    >>> from klantreis.model.journey import Journey, Touchpoint
    >>> j = Journey(key="j", touchpoints=[Touchpoint(key="a", phase="awarness", conversion=True)])
    >>> [p.message for p in check_journey(j)]
    ["unknown phase 'awarness' (did you mean 'awareness'?)"]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from klantreis.errors import Problem, did_you_mean
from klantreis.i18n import t
from klantreis.model.journey import Experience, Journey, TouchpointWalk

__all__ = ["check_journey", "field_path", "make_problem"]

Loc = tuple[str | int, ...]


def field_path(loc: Loc, data: Any = None) -> str:
    """Render a location as a readable field path; list items with a key show the key.

    >>> field_path(("touchpoints", 2, "phase"))
    'touchpoints[2].phase'
    """
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            label: Any = part
            if isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                key = node.get("key") if isinstance(node, dict) else None
                label = key if isinstance(key, str) else part
            else:
                node = None
            out += f"[{label}]"
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def make_problem(
    code: str,
    loc: Loc,
    lang: str,
    *,
    severity: str = "error",
    message: str | None = None,
    **params: Any,
) -> Problem:
    """A Problem whose message is the ``journey.<message or code>`` text in ``lang``."""
    suggestion = params.pop("suggestion", None)
    text = t(f"journey.{message or code}", lang, **params)
    if suggestion:
        text += " " + t("journey.did_you_mean", lang, value=suggestion)
    return Problem(
        code=code,
        message=text,
        field=None,
        severity=severity,
        params={"loc": loc, **params},
    )


def check_journey(journey: Journey, lang: str = "en") -> list[Problem]:
    """All cross-field problems of ``journey`` (errors and warnings), in file order."""
    return list(_check(journey, lang))


def _duplicates(items: Iterable[Any], name: str, lang: str) -> Iterator[Problem]:
    seen: Counter[str] = Counter()
    for i, item in enumerate(items):
        seen[item.key] += 1
        if seen[item.key] == 2:
            yield make_problem("duplicate", (name, i, "key"), lang, kind=name, value=item.key)


def _ref(value: str | None, known: set[str], kind: str, loc: Loc, lang: str) -> Iterator[Problem]:
    if value is not None and value not in known:
        yield make_problem(
            "unknown",
            loc,
            lang,
            message=f"unknown_{kind}",
            kind=kind,
            value=value,
            suggestion=did_you_mean(value, known),
        )


def _refs(
    values: Iterable[str], known: set[str], kind: str, loc: Loc, lang: str
) -> Iterator[Problem]:
    for i, value in enumerate(values):
        yield from _ref(value, known, kind, (*loc, i), lang)


def _ref_keys(
    values: dict[str, Any], known: set[str], kind: str, loc: Loc, lang: str
) -> Iterator[Problem]:
    for value in values:
        yield from _ref(value, known, kind, (*loc, value), lang)


def _scores(exp: Experience | None, journey: Journey, loc: Loc, lang: str) -> Iterator[Problem]:
    if exp is None:
        return
    lo, hi = journey.scale.min, journey.scale.max
    for name in ("current", "desired"):
        score = getattr(exp, name)
        if score is not None and not lo <= score <= hi:
            yield make_problem("score_range", (*loc, name), lang, value=score, min=lo, max=hi)


def _walk(
    walk: TouchpointWalk | None, tps: set[str], channels: set[str], loc: Loc, lang: str
) -> Iterator[Problem]:
    if walk is not None:
        yield from _ref_keys(walk.next, tps, "touchpoint", (*loc, "next"), lang)
        yield from _ref_keys(walk.channels, channels, "channel", (*loc, "channels"), lang)


def _check(j: Journey, lang: str) -> Iterator[Problem]:
    for name in ("phases", "channels", "touchpoints", "personas", "triggers", "improvements"):
        yield from _duplicates(getattr(j, name), name, lang)

    phases = {p.key for p in j.phases}
    channels = {c.key for c in j.channels}
    tps = {tp.key for tp in j.touchpoints}
    personas = {p.key for p in j.personas}

    if j.scale.min >= j.scale.max:
        yield make_problem("scale", ("scale", "max"), lang, min=j.scale.min, max=j.scale.max)
    for label in j.scale.labels:
        try:
            inside = j.scale.min <= float(label) <= j.scale.max
        except ValueError:
            inside = False
        if not inside:
            yield make_problem(
                "scale_label",
                ("scale", "labels", label),
                lang,
                value=label,
                min=j.scale.min,
                max=j.scale.max,
            )

    referenced: set[str] = set()
    for i, tp in enumerate(j.touchpoints):
        loc: Loc = ("touchpoints", i)
        yield from _ref(tp.phase, phases, "phase", (*loc, "phase"), lang)
        yield from _ref(tp.channel, channels, "channel", (*loc, "channel"), lang)
        yield from _refs(tp.predecessors, tps, "touchpoint", (*loc, "predecessors"), lang)
        yield from _refs(tp.successors, tps, "touchpoint", (*loc, "successors"), lang)
        referenced.update(tp.predecessors)
        referenced.update(tp.successors)
        yield from _scores(tp.experience, j, (*loc, "experience"), lang)
        if tp.to_be is not None:
            yield from _ref(tp.to_be.channel, channels, "channel", (*loc, "to_be", "channel"), lang)
            yield from _scores(tp.to_be.experience, j, (*loc, "to_be", "experience"), lang)
            yield from _walk(tp.to_be.walk, tps, channels, (*loc, "to_be", "walk"), lang)
        yield from _walk(tp.walk, tps, channels, (*loc, "walk"), lang)
        for k, match in enumerate(tp.events):
            try:
                match.pattern_kind()
            except ValueError:
                yield make_problem("event_match", (*loc, "events", k), lang)

    for i, p in enumerate(j.personas):
        loc = ("personas", i)
        yield from _refs(p.channels, channels, "channel", (*loc, "channels"), lang)
        if p.walk is not None:
            yield from _ref_keys(
                p.walk.channels, channels, "channel", (*loc, "walk", "channels"), lang
            )
            yield from _ref_keys(
                p.walk.propensity, tps, "touchpoint", (*loc, "walk", "propensity"), lang
            )
            yield from _ref_keys(p.walk.entry, tps, "touchpoint", (*loc, "walk", "entry"), lang)

    for i, trig in enumerate(j.triggers):
        yield from _ref(trig.phase, phases, "phase", ("triggers", i, "phase"), lang)
        yield from _ref(trig.touchpoint, tps, "touchpoint", ("triggers", i, "touchpoint"), lang)

    for i, imp in enumerate(j.improvements):
        yield from _ref(imp.touchpoint, tps, "touchpoint", ("improvements", i, "touchpoint"), lang)

    if j.scope.kind == "persona" and j.scope.value is not None:
        yield from _ref(j.scope.value, personas, "persona", ("scope", "value"), lang)

    if j.touchpoints and not any(tp.conversion for tp in j.touchpoints):
        yield make_problem("no_conversion", ("touchpoints",), lang)

    if len(j.touchpoints) > 1:
        for i, tp in enumerate(j.touchpoints):
            if not tp.predecessors and not tp.successors and tp.key not in referenced:
                yield make_problem(
                    "unconnected", ("touchpoints", i, "key"), lang, severity="warning", value=tp.key
                )
