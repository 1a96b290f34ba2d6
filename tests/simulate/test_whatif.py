from __future__ import annotations

import numpy as np
import pytest

from klantreis.errors import InvalidSpec
from klantreis.simulate import journey_model
from klantreis.simulate.engine import walk
from klantreis.simulate.whatif import (
    AddTouchpoint,
    ImproveExperience,
    ReduceLeaving,
    ShiftChannels,
    SpeedUp,
    add_touchpoint,
    outcomes,
    rank,
    whatif,
)
from tests.simulate.journeys import shop, two_personas

RUN = {"customers": 4_000, "runs": 4, "seed": 3}


def test_no_change_no_difference() -> None:
    r = whatif(shop(), [], **RUN)
    t = r.table.set_index("metric")
    assert list(t.index) == ["conversion", "time_to_convert_days", "revenue_per_customer", "nps"]
    assert (t["difference"] == 0).all() and not t["significant"].any()
    assert (t["baseline"] == t["scenario"]).all()
    assert r.name == "whatif" and r.params["kind"] == "compare" and r.params["runs"] == 4
    assert len(r.extras["runs"]) == 8


def test_independent_baselines_do_not_differ_significantly() -> None:
    """Two baseline walks with different seeds: the interval of the difference holds 0."""
    m = journey_model(shop())
    a = [outcomes(walk(m, customers=4_000, seed=s))["conversion"] for s in range(5)]
    b = [outcomes(walk(m, customers=4_000, seed=100 + s))["conversion"] for s in range(5)]
    from klantreis.simulate.whatif import _ci

    _, lo, hi = _ci(np.array(b) - np.array(a))
    assert lo < 0 < hi


def test_less_leaving_raises_conversion() -> None:
    r = whatif(shop(), ReduceLeaving("site", 0.5), **RUN)
    conv = r.table.set_index("metric").loc["conversion"]
    # site: leave 0.4 -> 0.2, so store from site 0.6 -> 0.8; expected conversion
    # 0.3 + 0.5 x 0.6 = 0.6 -> 0.3 + 0.5 x 0.8 = 0.7
    assert conv["baseline"] == pytest.approx(0.6, abs=0.015)
    assert conv["scenario"] == pytest.approx(0.7, abs=0.015)
    assert conv["significant"] and conv["ci_low"] > 0.08
    assert "site: 50% less leaving" in r.definition


def test_reduce_leaving_model_change() -> None:
    m = ReduceLeaving("ad", 0.5).apply(journey_model(shop()))
    assert m.groups[0].walk.moves[0].tolist() == pytest.approx(
        [0, 0.5 + 0.1 * 5 / 8, 0.3 + 0.1 * 3 / 8]
    )


def test_speed_up_shortens_time_to_convert() -> None:
    r = whatif(shop(), SpeedUp("site", 0.5), **RUN)
    t = r.table.set_index("metric")
    assert (
        t.loc["time_to_convert_days", "difference"] < 0
        and t.loc["time_to_convert_days", "significant"]
    )
    assert abs(t.loc["conversion", "difference"]) < 0.001  # a few more convert before the end


def test_add_reminder_recovers_leavers() -> None:
    change = AddTouchpoint("reminder", after="site", reach=0.5, next={"store": 0.5}, delay="2h")
    m = change.apply(journey_model(shop()))
    assert m.touchpoints[-1] == "reminder"
    w = m.groups[0].walk
    assert w.moves[1].tolist() == pytest.approx([0, 0, 0.6, 0.2])
    assert w.moves[3].tolist() == pytest.approx([0, 0, 0.5, 0])
    r = whatif(shop(), change, **RUN)
    conv = r.table.set_index("metric").loc["conversion"]
    assert conv["difference"] == pytest.approx(
        0.5 * 0.4 * 0.5 * 0.5, abs=0.015
    )  # ad->site x leave x reach x next


def test_add_touchpoint_from_the_to_be_map() -> None:
    from importlib import resources

    from klantreis.model import load_journey

    j = load_journey(resources.files("klantreis.model").joinpath("templates", "fitness.yaml"))
    change = add_touchpoint(j, "reminder_email", after="trial_lesson", reach=0.3)
    assert change.next == {"contract_signed": 0.4} and change.channel == "email"
    assert add_touchpoint(None, "nudge", after="x").next == {}


def test_shift_channels_and_improve_experience() -> None:
    m = ShiftChannels("web", 0.5).apply(journey_model(shop()))
    assert m.groups[0].walk.channel_mix[0].tolist() == [0.5, 0.5, 0]
    m2 = ShiftChannels("app", 1.0, touchpoint="store").apply(journey_model(shop()))
    assert m2.channels[-1] == "app" and m2.groups[0].walk.channel_mix[2].tolist() == [0, 0, 0, 1]
    better = ImproveExperience("site", 2).apply(journey_model(shop()))
    assert better.experience[1] == pytest.approx(0.75)
    r = whatif(shop(), ImproveExperience("site", 2), **RUN)
    assert r.table.set_index("metric").loc["nps", "difference"] > 0


def test_rank_puts_the_biggest_leak_first() -> None:
    r = rank(shop(), effort=0.5, **RUN)
    assert r.table["touchpoint"].tolist() == ["site", "ad"]  # store never leaks into anything
    assert r.table["rank"].tolist() == [1, 2]
    # ad: leave 0.2 -> 0.1 gives 0.1 x (5/8 x 0.6 + 3/8) = 0.0750; site: 0.5 x 0.2 = 0.1
    gains = dict(zip(r.table["touchpoint"], r.table["conversion_gain"], strict=True))
    assert gains["ad"] == pytest.approx(0.075, abs=0.012)
    assert gains["site"] == pytest.approx(0.1, abs=0.012)
    assert list(r.table.columns) == [
        "rank",
        "touchpoint",
        "conversion_gain",
        "ci_low",
        "ci_high",
        "revenue_per_customer_gain",
    ]


def test_rank_per_persona_and_arguments() -> None:
    r = rank(two_personas(), persona="fan", customers=2_000, runs=2)
    assert r.params["persona"] == "fan"
    with pytest.raises(InvalidSpec, match="metric"):
        rank(shop(), metric="happiness")
    with pytest.raises(InvalidSpec, match="by: must be between 0 and 1"):
        ReduceLeaving("ad", 1.5)
    with pytest.raises(InvalidSpec, match="runs"):
        whatif(shop(), [], runs=0)


def test_figure_builds() -> None:
    fig = whatif(shop(), ReduceLeaving("site", 0.5), customers=1_000, runs=2).figure()
    assert fig.data and fig.layout.title.text
    ranked = rank(shop(), customers=1_000, runs=2)
    fig2 = ranked.figure(lang="nl")
    assert list(fig2.data[0].y) == ranked.table["touchpoint"].tolist()[::-1]  # best on top
    assert fig2.layout.title.text == "Waar dezelfde verbetering het meeste oplevert"
