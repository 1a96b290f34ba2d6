from __future__ import annotations

import ibis
import numpy as np
import pytest

from klantreis.errors import InvalidSpec
from klantreis.simulate import journey_model, simulate
from klantreis.simulate.engine import walk
from klantreis.simulate.fit import fit_model
from klantreis.simulate.whatif import outcomes
from tests.simulate.journeys import shop, two_personas


@pytest.fixture(scope="module")
def simulated() -> tuple[ibis.Table, ibis.Table]:
    sim = simulate(two_personas(), 20_000, seed=21)
    con = ibis.duckdb.connect()
    events = con.create_table("events", ibis.memtable(sim.events))
    customers = con.create_table("customers", ibis.memtable(sim.customers))
    return events, customers


def test_fit_per_persona_recovers_the_walk(simulated: tuple[ibis.Table, ibis.Table]) -> None:
    events, customers = simulated
    j = two_personas()
    fitted = fit_model(events, journey=j, customers=customers, by="persona")
    truth = journey_model(j)
    assert fitted.source == "fitted" and fitted.touchpoints == truth.touchpoints
    assert [g.key for g in fitted.groups] == ["doubter", "fan"]
    for g in fitted.groups:
        t = truth.group(g.key)
        np.testing.assert_allclose(g.walk.moves, t.walk.moves, atol=0.02)
        used = t.walk.moves > 0
        np.testing.assert_allclose(
            g.walk.delay_median_s[used], t.walk.delay_median_s[used], rtol=0.06
        )
        np.testing.assert_allclose(g.walk.delay_sigma[used], t.walk.delay_sigma[used], atol=0.04)
        np.testing.assert_allclose(g.walk.channel_mix, t.walk.channel_mix, atol=0.04)
        np.testing.assert_allclose(g.walk.entry, t.walk.entry, atol=1e-9)
        assert g.walk.value[2] == pytest.approx(t.walk.value[2], rel=0.02)
        np.testing.assert_allclose(g.weekly, t.weekly, rtol=0.12)
    assert fitted.group("fan").share == pytest.approx(0.75)
    assert fitted.group("fan").seasonal[0] == pytest.approx(truth.group("fan").seasonal[0], rel=0.1)


def test_fit_per_segment(simulated: tuple[ibis.Table, ibis.Table]) -> None:
    events, customers = simulated
    fitted = fit_model(events, customers=customers, by="segment")
    assert [(g.key, g.segment) for g in fitted.groups] == [(None, "doubter"), (None, "loyal")]
    assert fitted.only("loyal").groups[0].share == pytest.approx(0.75)


def test_fit_without_journey_or_groups(simulated: tuple[ibis.Table, ibis.Table]) -> None:
    events, _ = simulated
    fitted = fit_model(events)
    assert fitted.touchpoints == ("ad", "site", "store")  # sorted by name
    assert fitted.conversion.tolist() == [False, False, True]  # carries a value
    assert len(fitted.groups) == 1 and fitted.groups[0].key is None
    assert np.isnan(fitted.experience).all()


def test_order_two_on_order_one_data(simulated: tuple[ibis.Table, ibis.Table]) -> None:
    events, _ = simulated
    j = shop()
    fitted = fit_model(events, journey=j, order=2)
    w = fitted.groups[0].walk
    assert w.order == 2 and w.state_previous is not None
    labels = {(int(p), int(t)) for p, t in zip(w.state_previous, w.state_touchpoint, strict=True)}
    assert labels == {(-1, 0), (0, 1), (0, 2), (1, 2)}
    # from ad's own start state, the next step does not depend on the past: fitted as order 1
    one = fit_model(events, journey=j)
    start_ad = int(np.flatnonzero((w.state_previous == -1) & (w.state_touchpoint == 0))[0])
    np.testing.assert_allclose(w.moves[start_ad], one.groups[0].walk.moves[0], atol=1e-9)
    # and simulating the order-2 model gives the same outcomes as the order-1 fit
    a = outcomes(walk(fitted, customers=20_000, seed=1))
    b = outcomes(walk(one, customers=20_000, seed=1))
    assert a["conversion"] == pytest.approx(b["conversion"], abs=0.015)


def test_order_two_learns_memory() -> None:
    """Where a customer came from changes where they go: only order 2 sees it."""
    from datetime import UTC, datetime, timedelta

    import pyarrow as pa

    rows = []
    for c in range(400):
        first = "a" if c % 2 else "b"
        then = "buy" if first == "a" else "quit"
        for k, tp in enumerate([first, "mid", then]):
            rows.append(
                {
                    "event_id": f"e{c:04d}{k}",
                    "customer_id": f"c{c}",
                    "touchpoint": tp,
                    "timestamp": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=c * 3 + k),
                    "channel": None,
                    "value": None,
                }
            )
    schema = pa.schema(
        [
            ("event_id", pa.string()),
            ("customer_id", pa.string()),
            ("touchpoint", pa.string()),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("channel", pa.string()),
            ("value", pa.float64()),
        ]
    )
    events = ibis.memtable(pa.Table.from_pylist(rows, schema=schema))
    two = fit_model(events, order=2)
    keys = two.touchpoints
    w = two.groups[0].walk
    mid_after_a = int(
        np.flatnonzero(
            (w.state_previous == keys.index("a")) & (w.state_touchpoint == keys.index("mid"))
        )[0]
    )
    assert (
        w.moves[mid_after_a, keys.index("buy")] == 1.0
        and w.moves[mid_after_a, keys.index("quit")] == 0.0
    )
    one = fit_model(events, order=1).groups[0].walk
    assert one.moves[keys.index("mid"), keys.index("buy")] == 0.5


def test_fit_arguments(simulated: tuple[ibis.Table, ibis.Table]) -> None:
    events, _ = simulated
    with pytest.raises(InvalidSpec, match="order"):
        fit_model(events, order=3)
    with pytest.raises(InvalidSpec, match="needs the customers table"):
        fit_model(events, by="persona")
    with pytest.raises(InvalidSpec, match="allowed: persona, segment"):
        fit_model(events, by="channel")
