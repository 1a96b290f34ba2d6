"""Rule models, the Markov chain's counts and the path decoding against brute-force
Python references (a loop per path) on random aggregates."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.attribution._markov import fit_chain, markov
from klantreis.analytics.attribution._paths import aggregate_from_frame, aggregate_from_paths
from klantreis.analytics.attribution._rules import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
)

KEYS = ["a", "b", "c", "d", "e"]

paths_st = st.lists(
    st.tuples(
        st.lists(st.sampled_from(KEYS[:4]), min_size=1, max_size=7),
        st.integers(0, 4),
        st.integers(0, 4),
        st.floats(0, 100, allow_nan=False),
    ),
    min_size=1,
    max_size=15,
)


def _agg(rows, keys=None):
    return aggregate_from_paths(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] if r[1] else 0.0 for r in rows],
        keys=keys,
    )


def _shares(path, model, direct, first, last):
    """Brute force: the share of every touch of one path."""
    n = len(path)
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "last_non_direct":
        chosen = max((i for i, k in enumerate(path) if k not in direct), default=n - 1)
        return [1.0 if i == chosen else 0.0 for i in range(n)]
    if model == "linear":
        return [1.0 / n] * n
    if n == 1:
        return [1.0]
    if n == 2:
        two_first = first / (first + last) if first + last > 0 else 0.5
        return [two_first, 1.0 - two_first]
    return [first] + [(1.0 - first - last) / (n - 2)] * (n - 2) + [last]


def _reference(agg, model, direct=(), first=0.4, last=0.4):
    conv, value = defaultdict(float), defaultdict(float)
    for i in range(agg.n_paths):
        path = [agg.keys[k] for k in agg.tokens[agg.offsets[i] : agg.offsets[i + 1]]]
        for key, share in zip(path, _shares(path, model, direct, first, last), strict=True):
            conv[key] += share * agg.conversions[i]
            value[key] += share * agg.value[i]
    return [conv[k] for k in agg.keys], [value[k] for k in agg.keys]


@settings(max_examples=60, deadline=None)
@given(
    paths_st,
    st.sets(st.sampled_from(KEYS[:4])),
    st.sampled_from([(0.4, 0.4), (0.0, 0.0), (0.7, 0.1), (0.5, 0.5), (0.0, 1.0)]),
    st.booleans(),
)
def test_rule_models_match_brute_force(rows, direct, shares, unused_key) -> None:
    # unused_key: a key no path touches (the credit is 0 there, in every model)
    agg = _agg(rows, keys=KEYS if unused_key else None)
    if agg.n_paths == 0:
        return
    mask = np.array([k in direct for k in agg.keys])
    got = {
        "first_touch": first_touch(agg),
        "last_touch": last_touch(agg),
        "last_non_direct": last_non_direct(agg, mask),
        "linear": linear(agg),
        "position_based": position_based(agg, *shares),
    }
    for model, (conv, value) in got.items():
        exp_conv, exp_value = _reference(agg, model, direct, *shares)
        assert conv == pytest.approx(exp_conv, rel=1e-9, abs=1e-9), model
        assert value == pytest.approx(exp_value, rel=1e-9, abs=1e-9), model


def test_last_non_direct_when_the_previous_path_ends_non_direct() -> None:
    # path 2 is all direct: its last touch, not path 1's last non-direct one
    agg = aggregate_from_paths([["a", "b"], ["d", "d"], ["d", "a", "d"]], [1, 2, 4], [0, 0, 0])
    conv, _ = last_non_direct(agg, np.array([k == "d" for k in agg.keys]))
    assert dict(zip(agg.keys, conv.tolist(), strict=True)) == {"a": 4.0, "b": 1.0, "d": 2.0}


def _chain_reference(agg, order):
    """Brute force: transition counts between states (tuples of the last keys)."""
    edges, conv, null, value = defaultdict(float), defaultdict(float), defaultdict(float), {}
    for i in range(agg.n_paths):
        path = [int(k) for k in agg.tokens[agg.offsets[i] : agg.offsets[i + 1]]]
        weight = agg.conversions[i] + agg.nulls[i]
        states = [tuple(path[max(0, j - order + 1) : j + 1]) for j in range(len(path))]
        for a, b in zip(["start", *states[:-1]], states, strict=True):
            edges[a, b] += weight
        conv[states[-1]] += agg.conversions[i]
        null[states[-1]] += agg.nulls[i]
        value[states[-1]] = value.get(states[-1], 0.0) + agg.value[i]
    return edges, conv, null, value


@settings(max_examples=50, deadline=None)
@given(paths_st, st.sampled_from([1, 2, 3]), st.booleans())
def test_markov_counts_match_brute_force(rows, order, unused_key) -> None:
    agg = _agg(rows, keys=KEYS if unused_key else None)
    if agg.n_paths == 0:
        return
    chain = fit_chain(agg, order)
    names = [tuple(s) for s in chain.state_keys] + ["start"]
    coo = chain.counts.tocoo()
    got = {(names[i], names[j]): c for i, j, c in zip(coo.row, coo.col, coo.data, strict=True)}
    edges, conv, null, value = _chain_reference(agg, order)
    assert got == pytest.approx(dict(edges))
    for i, state in enumerate(names[:-1]):
        assert chain.to_conversion[i] == pytest.approx(conv.get(state, 0.0)), state
        assert chain.to_null[i] == pytest.approx(null.get(state, 0.0)), state
        assert chain.value_at_conversion[i] == pytest.approx(value.get(state, 0.0)), state
    # removal effects are only computed for the keys on some path
    effects = markov(agg, order)[2]["removal"][0]
    touched = {int(k) for k in agg.tokens}
    assert all(effects[k] == 0.0 for k in range(len(agg.keys)) if k not in touched)


def test_touch_matrix_counts_each_touch() -> None:
    agg = aggregate_from_paths([["a", "b", "a"], ["c"]], [1, 0], [0, 2], keys=["a", "b", "c", "d"])
    assert agg.touch_matrix.toarray().tolist() == [[2, 1, 0, 0], [0, 0, 1, 0]]
    assert agg.key_touches.tolist() == [2, 1, 1, 0]


def test_aggregate_from_frame_decodes_code_lists() -> None:
    counts = pa.table(
        {
            "pstr": pa.array([[], [0, 2, 0], None, [1], [2]], pa.list_(pa.int16())),
            "conversions": [3.0, 1.0, 0.0, 0.0, 0.0],
            "nulls": [0.0, 2.0, 0.0, 1.0, 0.0],
            "value": [12.0, 5.0, None, None, None],
        }
    )
    agg = aggregate_from_frame(counts, ["a", "b", "c"])
    # the empty path is unattributed; null lists and rows without journeys are dropped
    assert agg.unattributed == (3.0, 12.0)
    assert agg.tokens.tolist() == [0, 2, 0, 1]
    assert agg.offsets.tolist() == [0, 3, 4]
    assert agg.conversions.tolist() == [1.0, 0.0]
    assert agg.nulls.tolist() == [2.0, 1.0]
    assert agg.value.tolist() == [5.0, 0.0]
