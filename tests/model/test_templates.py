"""The templates: valid, complete, bilingual, and walkable by the simulator."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import pytest
from pydantic import BaseModel

from klantreis.model import Journey, journey_problems, parse_journey

FULL = ["fitness", "retail"]


def template_text(name: str) -> str:
    return resources.files("klantreis.model").joinpath("templates", f"{name}.yaml").read_text()


@functools.cache
def parsed(name: str) -> Journey:
    """The template as a journey (parsed once; tests only read it)."""
    return parse_journey(template_text(name), file=f"{name}.yaml")


@pytest.fixture(params=FULL)
def journey(request: pytest.FixtureRequest) -> Journey:
    return parsed(request.param)


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("name", ["blank", *FULL])
def test_template_has_no_problems(name: str, lang: str) -> None:
    journey, problems = journey_problems(template_text(name), file=name, lang=lang)
    assert journey is not None
    assert problems == []


def _texts(obj: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every value of a Text field (str or {nl, en}) in the model, with its path."""
    found: list[tuple[str, Any]] = []
    if isinstance(obj, BaseModel):
        for name, field in type(obj).model_fields.items():
            value = getattr(obj, name)
            annotation = str(field.annotation)
            is_text = "Literal['nl', 'en'], str]" in annotation and name != "labels"
            if is_text and value is not None:
                items = value if isinstance(value, list) else [value]
                found.extend((f"{path}.{name}", v) for v in items)
            else:
                found.extend(_texts(value, f"{path}.{name}"))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            found.extend(_texts(item, f"{path}[{getattr(item, 'key', i)}]"))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            found.extend(_texts(item, f"{path}.{key}"))
    return found


def test_every_text_is_dutch_and_english(journey: Journey) -> None:
    texts = _texts(journey)
    assert len(texts) > 120
    not_bilingual = [
        path
        for path, value in texts
        if not (isinstance(value, dict) and set(value) == {"nl", "en"} and all(value.values()))
    ]
    assert not_bilingual == []
    for label, value in journey.scale.labels.items():
        assert isinstance(value, dict) and set(value) == {"nl", "en"}, label


def test_names_show_dutch_in_dutch(journey: Journey) -> None:
    names = {tp.key: (tp.label("nl"), tp.label("en")) for tp in journey.touchpoints}
    assert sum(nl != en for nl, en in names.values()) >= 10
    assert all(key.isascii() and key == key.lower() and " " not in key for key in names)


def test_fitness_touchpoints() -> None:
    j = parsed("fitness")
    assert [tp.key for tp in j.touchpoints] == [
        "need_triggered",
        "friends",
        "website",
        "trial_lesson",
        "reminder_email",
        "tour",
        "contract_signed",
        "intake",
        "first_weeks",
        "member_app",
        "group_lessons",
        "renewal",
        "referral",
        "cancellation",
    ]
    assert j.conversion_touchpoints() == ["contract_signed"]
    assert [tp.key for tp in j.touchpoints if tp.referral] == ["referral"]
    assert [tp.key for tp in j.touchpoints if tp.prompts_referral] == ["renewal"]
    assert [tp.key for tp in j.touchpoints if tp.ends_relationship] == ["cancellation"]
    assert [tp.key for tp in j.touchpoints if tp.states == "to-be"] == ["reminder_email"]
    assert j.touchpoint("contract_signed").label("nl") == "Contract getekend"
    assert j.touchpoint("website").events[0].where == {"page": "/lidmaatschap"}
    assert j.touchpoint("member_app").events[0].glob == "app_*"


def test_retail_touchpoints() -> None:
    j = parsed("retail")
    assert {tp.key for tp in j.touchpoints} >= {
        "search_engine",
        "comparison_sites",
        "social_media",
        "youtube_demo",
        "whatsapp_chat",
        "store_visit",
        "webshop_checkout",
        "store_checkout",
        "delivery",
        "returns",
        "review_request",
        "ambassador",
    }
    assert j.conversion_touchpoints() == ["webshop_checkout", "store_checkout"]
    assert [tp.key for tp in j.touchpoints if tp.referral] == ["ambassador"]
    assert [tp.key for tp in j.touchpoints if tp.prompts_referral] == ["review_request"]
    ends = [tp.key for tp in j.touchpoints if tp.ends_relationship]
    assert ends == ["account_closed"]  # a return is not the end of the relationship
    assert [tp.key for tp in j.touchpoints if tp.states == "to-be"] == ["order_tracking"]


def test_map_is_complete(journey: Journey) -> None:
    as_is = journey.state_view("as-is")
    assert 12 <= len(as_is) <= 14
    assert {tp.phase for tp in as_is} == {p.key for p in journey.phases}
    assert [p.part for p in journey.ordered_phases()] == ["buyer"] * 3 + ["user"] * 2
    assert {tp.loop for tp in journey.touchpoints} == {"purchase", "service", "loyalty"}
    assert any(c.direct for c in journey.channels)
    assert {c.kind for c in journey.channels} == {"online", "offline"}
    assert {c.type for c in journey.channels} == {"owned", "paid", "earned"}
    assert sum(tp.to_be is not None for tp in journey.touchpoints) >= 4
    for tp in as_is:
        assert tp.owner and tp.channel and tp.mode and tp.loop and tp.action, tp.key
        assert tp.thoughts, tp.key
        assert tp.experience.current is not None and tp.experience.desired is not None, tp.key
        assert tp.experience.emotion, tp.key
        assert tp.events, tp.key
        assert tp.walk is not None, tp.key
    levels = {
        s.evidence.level
        for tp in journey.touchpoints
        for s in [*tp.thoughts, *tp.pain_points, *tp.opportunities]
    }
    assert levels == {"observed", "reported", "assumed", "proposed"}
    for tp in journey.touchpoints:
        for s in [*tp.thoughts, *tp.pain_points, tp.experience]:
            if s.evidence.level in ("observed", "reported"):
                assert s.evidence.source, tp.key
    assert {pp.severity for tp in journey.touchpoints for pp in tp.pain_points} == {
        "low",
        "medium",
        "high",
    }
    assert any(m.glob for tp in journey.touchpoints for m in tp.events)
    assert any(m.where for tp in journey.touchpoints for m in tp.events)


def test_goal_personas_triggers_improvements(journey: Journey) -> None:
    goal = journey.goal
    assert goal is not None and goal.baseline is not None and goal.owner and goal.relevance
    assert goal.target > goal.baseline
    assert journey.owner and journey.scenario and journey.scope.kind == "all"
    assert len(journey.personas) == 3
    assert abs(sum(p.walk.share for p in journey.personas) - 1) < 1e-9
    for p in journey.personas:
        assert p.story and p.goals and p.needs and p.motives and p.frustrations and p.channels
        assert p.match
        w = p.walk
        assert w is not None and w.weekly and w.seasonal and w.channels and w.propensity
        assert w.purchase_value and w.starts_per_day > 0
        assert abs(sum(w.entry.values()) - 1) < 1e-9
    assert {t.kind for t in journey.triggers} == {"internal", "external"}
    assert all(t.touchpoint for t in journey.triggers)
    for imp in journey.improvements:
        assert imp.owner and imp.due and imp.expected_effect
    assert len({imp.status for imp in journey.improvements}) >= 2


@pytest.mark.parametrize(("name", "peak"), [("fitness", 0), ("retail", 11)])
def test_seasonal_peak(name: str, peak: int) -> None:
    j = parsed(name)
    for p in j.personas:
        seasonal = p.walk.seasonal
        assert seasonal.index(max(seasonal)) == peak, p.key


def test_walks_follow_the_designed_links(journey: Journey) -> None:
    to_be_only = {tp.key for tp in journey.touchpoints if tp.states == "to-be"}
    for tp in journey.touchpoints:
        assert set(tp.walk.next) <= set(tp.successors), tp.key
        if tp.states != "to-be":
            assert not set(tp.walk.next) & to_be_only, tp.key
        if tp.to_be is not None and tp.to_be.walk is not None:
            allowed = set(tp.successors) | {
                k for k in to_be_only if tp.key in journey.touchpoint(k).predecessors
            }
            assert set(tp.to_be.walk.next) <= allowed, tp.key
        if tp.conversion:
            assert tp.walk.value, tp.key
        assert abs(sum(tp.walk.channels.values()) - 1) < 1e-9, tp.key


def conversion_rate(journey: Journey, entry: dict[str, float], state: str) -> float:
    """Chance that a walk from ``entry`` reaches a conversion touchpoint (absorbing chain)."""
    tps = {tp.key: tp for tp in journey.state_view(state)}
    reach = {key: 0.0 for key in tps}
    for _ in range(300):
        reach = {
            key: 1.0
            if tp.conversion
            else sum(p * reach.get(n, 0.0) for n, p in (tp.walk.next if tp.walk else {}).items())
            for key, tp in tps.items()
        }
    return sum(p * reach[key] for key, p in entry.items())


@pytest.mark.parametrize(("name", "low", "high"), [("fitness", 0.20, 0.35), ("retail", 0.15, 0.45)])
def test_a_realistic_share_converts(name: str, low: float, high: float) -> None:
    j = parsed(name)
    for persona in j.personas:
        as_is = conversion_rate(j, persona.walk.entry, "as-is")
        to_be = conversion_rate(j, persona.walk.entry, "to-be")
        assert low <= as_is <= high, (persona.key, as_is)
        assert to_be > as_is, persona.key


def test_fitness_trial_conversion_matches_the_goal() -> None:
    """The goal's baseline (38% of trial lessons sign) is what the as-is walk does; the
    to-be map with the follow-up e-mail reaches the target (50%)."""
    j = parsed("fitness")
    assert round(conversion_rate(j, {"trial_lesson": 1.0}, "as-is"), 2) == j.goal.baseline
    assert round(conversion_rate(j, {"trial_lesson": 1.0}, "to-be"), 2) == j.goal.target
