"""Attribution models on hand-made path aggregates, with expected values worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.attribution import AttributionSpec, attribute_paths
from klantreis.analytics.attribution._markov import choose_order, fit_chain, markov
from klantreis.analytics.attribution._paths import aggregate_from_paths
from klantreis.analytics.attribution._rules import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
)
from klantreis.analytics.attribution._shapley import (
    closed_form,
    exact_shapley,
    key_sets,
    shapley,
    subset_sums,
)
from klantreis.errors import InvalidSpec

# Paths used by the rule-based tests (keys A, B, C, D):
#   A > B > C > D   2 conversions, value 50
#   D > A           1 conversion,  value 10
#   B               3 nulls
RULES = aggregate_from_paths(
    [["A", "B", "C", "D"], ["D", "A"], ["B"]], [2, 1, 0], [0, 0, 3], [50, 10, 0]
)


def credit(result: tuple[np.ndarray, np.ndarray]) -> tuple[list[float], list[float]]:
    return [round(float(x), 9) for x in result[0]], [round(float(x), 9) for x in result[1]]


@pytest.mark.parametrize(
    ("model", "conversions", "value"),
    [
        # first touch: path 1's 2 conversions to A, path 2's 1 to D
        pytest.param(first_touch, [2, 0, 0, 1], [50, 0, 0, 10], id="first_touch"),
        # last touch: path 1 -> D, path 2 -> A
        pytest.param(last_touch, [1, 0, 0, 2], [10, 0, 0, 50], id="last_touch"),
        # linear: path 1 gives 2/4 to each key, path 2 gives 1/2 to D and A
        pytest.param(linear, [1.0, 0.5, 0.5, 1.0], [17.5, 12.5, 12.5, 17.5], id="linear"),
        # 40/20/40: path 1: A .4*2, B .1*2, C .1*2, D .4*2; path 2 (two touches) 1/2 each
        pytest.param(position_based, [1.3, 0.2, 0.2, 1.3], [25, 5, 5, 25], id="position_based"),
    ],
)
def test_rule_models_by_hand(model, conversions, value) -> None:
    assert credit(model(RULES)) == ([float(x) for x in conversions], [float(x) for x in value])


def test_last_non_direct_by_hand() -> None:
    # D is direct: path 1 (A B C D) -> C; path 2 (D A) -> A
    direct = np.array([False, False, False, True])
    assert credit(last_non_direct(RULES, direct)) == ([1.0, 0.0, 2.0, 0.0], [10.0, 0.0, 50.0, 0.0])
    # A and D direct: path 2 has only direct touches -> its last touch (A)
    direct = np.array([True, False, False, True])
    assert credit(last_non_direct(RULES, direct)) == ([1.0, 0.0, 2.0, 0.0], [10.0, 0.0, 50.0, 0.0])


def test_position_based_custom_shares() -> None:
    # 30/30 with 40 in the middle: path 1: A .6, B .4, C .4, D .6; path 2: 1/2 each
    conv, _ = position_based(RULES, 0.3, 0.3)
    assert np.allclose(conv, [1.1, 0.4, 0.4, 1.1])


# The 3-channel example worked by hand (order 1):
#   C1 > C2 > C3  1 conversion (value 100);  C1  1 null;  C2 > C3  1 null
# Transitions: start->C1 2/3, start->C2 1/3; C1->C2 1/2, C1->null 1/2; C2->C3 1;
#   C3->conv 1/2, C3->null 1/2.
# P(conv) = 2/3 * 1/2 * 1 * 1/2 + 1/3 * 1 * 1/2 = 1/6 + 1/6 = 1/3.
# Without C1: start->C1 goes to null: P = 1/3 * 1/2 = 1/6 -> removal effect 1 - (1/6)/(1/3) = 1/2.
# Without C2 or C3 no path reaches the conversion: P = 0 -> removal effect 1.
# Shares 0.5 : 1 : 1 of the single conversion: C1 0.2, C2 0.4, C3 0.4 (value 20, 40, 40).
# Shapley ('conversions' worth): the one converting set {C1, C2, C3} -> 1/3 each.
# Shapley ('rate' worth): v(S) = conversions per journey among journeys whose keys lie in
# S: v({C1}) = 0/1, v({C2, C3}) = 0/1, v(N) = 1/3, every other v = 0, so each channel's
# only marginal gain is joining last (weight 2!0!/3! = 1/3): phi = 1/9 each, scaled
# to the one conversion: 1/3 each.
THREE = aggregate_from_paths(
    [["C1", "C2", "C3"], ["C1"], ["C2", "C3"]], [1, 0, 0], [0, 1, 1], [100, 0, 0]
)


def test_markov_three_channels_by_hand() -> None:
    conv, value, info = markov(THREE, order=1)
    assert np.allclose(conv, [0.2, 0.4, 0.4])
    assert np.allclose(value, [20, 40, 40])
    effects, _effects_value, without = info["removal"]
    assert np.allclose(effects, [0.5, 1.0, 1.0])
    assert np.allclose(without, [1 / 6, 0.0, 0.0])
    assert info["p_conversion"] == pytest.approx(1 / 3)
    assert info["expected_value"] == pytest.approx(100 / 3)


def test_shapley_three_channels_by_hand() -> None:
    for worth in ("conversions", "rate"):
        conv, value, _ = shapley(THREE, worth=worth)
        assert np.allclose(conv, [1 / 3] * 3), worth
        assert np.allclose(value, [100 / 3] * 3), worth


def test_shapley_rate_two_players_by_hand() -> None:
    # {A}: 1 journey, 1 conversion; {A, B}: 2 journeys, 1 conversion; {B}: 1 journey, 0.
    # v(A) = 1, v(B) = 0, v(AB) = 2/4. phi_A = (1 + (1/2 - 0)) / 2 = 3/4,
    # phi_B = (0 + (1/2 - 1)) / 2 = -1/4; scaled to 2 conversions (x 4): A 3, B -1.
    agg = aggregate_from_paths([["A"], ["A", "B"], ["B"]], [1, 1, 0], [0, 1, 1])
    conv, _, info = shapley(agg, worth="rate")
    assert np.allclose(conv, [3.0, -1.0])
    assert info["method"] == "exact (all coalitions)"


def test_markov_higher_order_by_hand() -> None:
    # Order 2 on  A > B  (conv 1)  and  C > B  (null 1): states A, C, (A,B), (C,B).
    # Removing A drops state A: P = 1/2 * 0 -> 0... P(conv) = 1/2; without A: only
    # start -> C -> (C,B) -> null: 0 => effect 1. Without B: (A,B), (C,B) go: 0 => 1.
    # Without C: start -> C is null, A path still converts: 1/2 -> effect 0.
    agg = aggregate_from_paths([["A", "B"], ["C", "B"]], [1, 0], [0, 1])
    conv, _, info = markov(agg, order=2)
    assert np.allclose(info["removal"][0], [1.0, 1.0, 0.0])
    assert np.allclose(conv, [0.5, 0.5, 0.0])
    # Order 1 mixes the two B's: B converts half the time; without C still 1/2 * 1/2 / (1/2) ...
    _, _, info1 = markov(agg, order=1)
    assert info1["p_conversion"] == pytest.approx(0.5)
    assert np.allclose(info1["removal"][0], [0.5, 1.0, 0.5])


def test_choose_order_prefers_the_order_that_predicts() -> None:
    # A > B always converts, C > B never: only order >= 2 tells them apart.
    agg = aggregate_from_paths([["A", "B"], ["C", "B"]], [400, 0], [0, 400])
    order, scores = choose_order(agg, seed=1)
    assert order == 2
    assert list(scores["order"]) == [1, 2, 3, 4]
    assert scores["log_loss"].iloc[0] > 0.6 > 0.01 > scores["log_loss"].iloc[1]
    assert choose_order(agg, seed=1)[1].equals(scores)


def _simulate(chain, n: int, rng: np.random.Generator, keep=None) -> float:
    """Monte-Carlo walk of the fitted chain from start: share of walks that convert."""
    t = chain.n_transient
    out = np.where(chain.out > 0, chain.out, 1.0)
    dense = chain.counts.toarray() / out[:, None]
    conv = chain.to_conversion / out
    if keep is not None:
        dense[:, ~keep] = 0.0  # transitions into removed states go to null
    cum = np.cumsum(np.column_stack([dense, conv]), axis=1)
    state = np.full(n, chain.start)
    alive = np.ones(n, dtype=bool)
    converted = np.zeros(n, dtype=bool)
    for _ in range(500):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        u = rng.random(len(idx))
        nxt = (u[:, None] > cum[state[idx]]).sum(axis=1)
        converted[idx[nxt == t]] = True
        done = nxt >= t
        alive[idx[done]] = False
        state[idx[~done]] = nxt[~done]
    return float(converted.mean())


def test_markov_exact_agrees_with_monte_carlo() -> None:
    rng = np.random.default_rng(7)
    keys = ["a", "b", "c", "d"]
    paths = [list(rng.choice(keys, size=rng.integers(1, 6))) for _ in range(60)]
    conv = rng.integers(0, 4, size=60)
    nulls = rng.integers(0, 6, size=60)
    agg = aggregate_from_paths(paths, conv, nulls)
    chain = fit_chain(agg, 1)
    p_exact, _ = chain.solve()
    n = 200_000
    p_mc = _simulate(chain, n, rng)
    se = np.sqrt(p_exact * (1 - p_exact) / n)
    assert abs(p_mc - p_exact) < 4 * se
    keep = chain.last_key != 1  # remove b
    p_exact_b, _ = chain.solve(keep)
    p_mc_b = _simulate(chain, n, rng, keep=keep)
    assert abs(p_mc_b - p_exact_b) < 4 * np.sqrt(p_exact_b * (1 - p_exact_b) / n) + 1e-12


# -- invariants --------------------------------------------------------------------
paths_st = st.lists(
    st.tuples(
        st.lists(st.sampled_from("abcde"), min_size=1, max_size=6),
        st.integers(0, 5),
        st.integers(0, 5),
        st.floats(0, 100, allow_nan=False),
    ),
    min_size=1,
    max_size=12,
)


def _agg(rows):
    return aggregate_from_paths(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] if r[1] else 0.0 for r in rows],
    )


@settings(max_examples=40, deadline=None)
@given(paths_st, st.sampled_from([1, 2, 3, 4, "auto"]))
def test_every_model_adds_up_to_the_totals(rows, order) -> None:
    agg = _agg(rows)
    agg.decay = linear(agg)  # stands in for the engine's decay credit here
    result = attribute_paths(agg, AttributionSpec(conversion=("x",), order=order, direct=("a",)))
    sums = result.table.groupby("model")[["conversions", "value"]].sum()
    total_c, total_v = agg.total_conversions(), agg.total_value()
    if total_c == 0:
        return
    for model, row in sums.iterrows():
        assert row["conversions"] == pytest.approx(total_c, rel=1e-9, abs=1e-9), model
        if total_v > 0:
            assert row["value"] == pytest.approx(total_v, rel=1e-9, abs=1e-9), model
    assert set(result.extras["wide"].columns) == {
        "key",
        *AttributionSpec.__dataclass_fields__["models"].default,
    }


@settings(max_examples=40, deadline=None)
@given(paths_st)
def test_shapley_symmetry_and_null_player(rows) -> None:
    # mirror every path with a <-> b swapped: a and b are symmetric players
    swap = {"a": "b", "b": "a"}
    mirrored = rows + [([swap.get(k, k) for k in p], c, n, v) for p, c, n, v in rows]
    # z only appears in non-converting journeys: a null player of the 'conversions' game
    extra = [(["z", "c"], 0, 3, 0.0)] if rows[0][0][0] != "a" else [(["z"], 0, 3, 0.0)]
    agg = _agg(mirrored + extra)
    index = {k: i for i, k in enumerate(agg.keys)}
    for worth in ("conversions", "rate"):
        conv, _, _ = shapley(agg, worth=worth)
        if "a" in index and "b" in index:
            assert conv[index["a"]] == pytest.approx(conv[index["b"]], abs=1e-9)
        if worth == "conversions":
            assert conv[index["z"]] == pytest.approx(0.0, abs=1e-12)
        if agg.total_conversions() > 0 and worth == "conversions":
            assert conv.sum() == pytest.approx(agg.total_conversions())


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_exact_shapley_axioms(n, seed) -> None:
    rng = np.random.default_rng(seed)
    worth = rng.normal(size=1 << n)
    worth[0] = 0.0
    null = n - 1  # make the last player null: v(S + null) = v(S)
    with_null = np.arange(1 << n) & (1 << null) != 0
    worth[with_null] = worth[np.arange(1 << n)[with_null] ^ (1 << null)]
    phi = exact_shapley(worth)
    assert phi.sum() == pytest.approx(worth[-1])  # efficiency
    assert phi[null] == pytest.approx(0.0, abs=1e-12)  # null player


@settings(max_examples=30, deadline=None)
@given(paths_st)
def test_conversions_game_closed_form_equals_enumeration(rows) -> None:
    agg = _agg(rows)
    member, conv, _, _ = key_sets(agg)
    players = np.flatnonzero(member.any(axis=0))
    enumerated = exact_shapley(subset_sums(member[:, players], conv))
    closed, _ = closed_form(agg)
    assert np.allclose(enumerated, closed[players])


def test_sampled_shapley_agrees_with_exact_within_its_error() -> None:
    rng = np.random.default_rng(3)
    keys = list("abcdef")
    paths = [list(rng.choice(keys, size=rng.integers(1, 4), replace=False)) for _ in range(40)]
    agg = aggregate_from_paths(paths, rng.integers(0, 5, 40), rng.integers(0, 5, 40))
    exact, _, _ = shapley(agg, worth="rate", exact_max=15)
    sampled, _, info = shapley(agg, worth="rate", exact_max=3, samples=3000, seed=5)
    assert info["method"].startswith("sampled")
    se = info["se"][:, 0]
    assert (np.abs(sampled - exact) <= 4 * se + 1e-9).all()
    assert sampled.sum() == pytest.approx(agg.total_conversions())
    again, _, _ = shapley(agg, worth="rate", exact_max=3, samples=3000, seed=5)
    assert np.array_equal(sampled, again)  # seeded


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"models": ("lineair",)}, "models: unknown model (got 'lineair')", id="model"),
        pytest.param(
            {"order": 5}, "order: Markov order must be 1, 2, 3, 4 or 'auto' (got 5)", id="order"
        ),
        pytest.param({"by": "persona"}, "by: attribute by touchpoint or channel", id="by"),
        pytest.param({"position": (0.7, 0.5)}, "position: first and last shares", id="position"),
    ],
)
def test_spec_errors(kwargs, message) -> None:
    with pytest.raises(InvalidSpec) as err:
        AttributionSpec(conversion=("buy",), **kwargs)
    assert str(err.value).startswith(message)
