from __future__ import annotations

import numpy as np
import pytest

from klantreis.errors import InvalidSpec, UnknownKey
from klantreis.model import Journey, Touchpoint, Trigger
from klantreis.simulate import journey_model
from klantreis.simulate.model import DEFAULT_CONTINUE
from tests.simulate.journeys import shop, two_personas


def test_walks_from_the_journey_file() -> None:
    m = journey_model(shop())
    assert m.touchpoints == ("ad", "site", "store")
    assert m.channels == ("social", "web", "desk")
    w = m.groups[0].walk
    assert w.moves.tolist() == [[0.0, 0.5, 0.3], [0.0, 0.0, 0.6], [0.0, 0.0, 0.0]]
    assert w.leave == pytest.approx([0.2, 0.4, 1.0])
    assert w.delay_median_s[0].tolist() == [3600.0] * 3
    assert w.delay_median_s[1, 2] == 7200.0
    assert w.channel_mix.tolist() == [[1, 0, 0], [0.25, 0.75, 0], [0, 0, 1]]
    assert w.entry.tolist() == [1.0, 0.0, 0.0]  # the trigger's touchpoint
    assert np.isnan(w.value[:2]).all() and w.value[2] == 50.0
    assert m.conversion.tolist() == [False, False, True]
    assert m.experience.tolist() == [0.5, 0.25, 1.0]  # (current - 1) / (5 - 1)
    assert m.triggers == (("promo",), (), ())
    assert m.groups[0].key is None and m.groups[0].segment is None


def test_defaults_from_successors() -> None:
    j = Journey(
        key="d",
        touchpoints=[
            Touchpoint(key="a", phase="awareness", successors=["b", "c"]),
            Touchpoint(key="b", phase="consideration", predecessors=["a"]),
            Touchpoint(key="c", phase="purchase", conversion=True, predecessors=["b"]),
        ],
    )
    w = journey_model(j).groups[0].walk
    half = DEFAULT_CONTINUE / 2
    assert w.moves.tolist() == [[0, half, half], [0, 0, DEFAULT_CONTINUE], [0, 0, 0]]
    assert w.entry.tolist() == [1.0, 0.0, 0.0]  # the only touchpoint nobody leads to
    assert (w.delay_median_s == 86400).all() and (w.delay_sigma == 1.0).all()
    assert w.channel_mix.shape == (3, 0)


def test_persona_adjustments() -> None:
    m = journey_model(two_personas())
    fan, doubter = m.groups
    assert (fan.key, fan.segment, doubter.key, doubter.segment) == (
        "fan",
        "loyal",
        "doubter",
        "doubter",
    )
    # propensity 1.5 into store: ad 0.5 + 0.45 = 0.95 stays; site 0.9 stays under 1
    np.testing.assert_allclose(fan.walk.moves, [[0, 0.5, 0.45], [0, 0, 0.9], [0, 0, 0]])
    np.testing.assert_allclose(doubter.walk.moves, [[0, 0.25, 0.3], [0, 0, 0.6], [0, 0, 0]])
    # channel weights: web 2/1.5, social 1/1.5 (mean of the named ones is 1)
    web, social = 2 / 1.5, 1 / 1.5
    total = 0.75 * web + 0.25 * social
    assert fan.walk.channel_mix[1].tolist() == pytest.approx(
        [0.25 * social / total, 0.75 * web / total, 0]
    )
    assert fan.walk.value[2] == 80 and doubter.walk.value[2] == 50
    assert fan.weekly.mean() == pytest.approx(1) and fan.weekly[0] == pytest.approx(3 * 7 / 9)
    assert fan.share == 3 and doubter.share == 1


def test_propensity_beyond_one_is_scaled_down() -> None:
    j = two_personas()
    j.personas[0].walk.propensity = {"store": 3.0}
    fan = journey_model(j).group("fan")
    assert fan.walk.moves[1, 2] == pytest.approx(1.0)  # site: 0.6 x 3 = 1.8 -> 1
    assert fan.walk.moves[0].tolist() == pytest.approx([0, 0.5 / 1.4, 0.9 / 1.4])


def test_one_persona_and_unknown_persona() -> None:
    assert [g.key for g in journey_model(two_personas(), persona="fan").groups] == ["fan"]
    with pytest.raises(UnknownKey, match=r"unknown persona 'fann' \(did you mean 'fan'\?\)"):
        journey_model(two_personas()).only("fann")


def test_entry_from_several_triggers() -> None:
    j = shop()
    j.triggers.append(Trigger(key="friend", touchpoint="site"))
    j.triggers.append(Trigger(key="search", touchpoint="site"))
    assert journey_model(j).groups[0].walk.entry.tolist() == pytest.approx([1 / 3, 2 / 3, 0])


def test_empty_journey_and_bad_rate() -> None:
    with pytest.raises(InvalidSpec, match="no touchpoints"):
        journey_model(Journey(key="x"))
    with pytest.raises(InvalidSpec, match="feedback_rate"):
        journey_model(shop(), feedback_rate=2)


def test_to_be_state_uses_to_be_walks() -> None:
    from importlib import resources

    from klantreis.model import load_journey

    path = resources.files("klantreis.model").joinpath("templates", "fitness.yaml")
    j = load_journey(path)
    as_is, to_be = journey_model(j), journey_model(j, state="to-be")
    assert "reminder_email" not in as_is.touchpoints and "reminder_email" in to_be.touchpoints
    assert len(as_is.groups) == 3


def test_transition_table() -> None:
    rows = journey_model(shop()).transition_table()
    assert rows == [
        ("ad", "site", 0.5),
        ("ad", "store", 0.3),
        ("ad", "(leave)", pytest.approx(0.2)),
        ("site", "store", 0.6),
        ("site", "(leave)", pytest.approx(0.4)),
        ("store", "(leave)", 1.0),
    ]
