"""Markov-chain attribution of order k, solved exactly from the absorbing chain.

States of order ``k`` are the last ``k`` touches of a path (fewer at its start); every
path runs ``(start) -> s1 -> s2 -> ... -> (conversion | null)`` and adds its number of
journeys (conversions + nulls) to each transition it makes; the last state goes to
``(conversion)`` with the path's conversions and to ``(null)`` with its nulls.
Transition probabilities are the counts divided by each state's total.

The conversion probability from ``(start)`` solves the absorbing chain's linear system
``(I - Q) x = r`` (``Q`` transient-to-transient, ``r`` transient-to-conversion), with a
sparse LU factorisation: no simulation, so the same data always gives the same numbers.
Removing key ``c`` sends every transition into a state that ends in ``c`` to
``(null)``: the states ending in ``c`` are dropped from the system and solved again.
The removal effect is ``1 - P(conversion without c) / P(conversion)``; conversions are
attributed in proportion to the removal effects. Value uses the same chain with a
reward: the conversion edge of state ``s`` pays the mean value of the conversions that
end in ``s``; the value removal effect is ``1 - E[value without c] / E[value]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from klantreis.analytics.attribution._paths import PathAggregate

__all__ = ["MarkovChain", "choose_order", "fit_chain", "markov"]

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


@dataclass
class MarkovChain:
    """An order-k chain: states (codes of their last k keys), counts and solved values."""

    order: int
    state_keys: list[tuple[int, ...]]  # key codes of every state, oldest first
    last_key: np.ndarray  # last key code of every state
    counts: object  # scipy.sparse csr (T x T), T = states + 1 (start is the last index)
    to_conversion: np.ndarray  # per transient state
    to_null: np.ndarray
    value_at_conversion: np.ndarray  # summed value of conversions ending in the state
    out: np.ndarray  # per transient state: all transitions out

    @property
    def n_transient(self) -> int:
        return len(self.out)

    @property
    def start(self) -> int:
        return self.n_transient - 1

    def solve(self, keep: np.ndarray | None = None) -> tuple[float, float]:
        """(P(conversion), E[value]) from (start), on the states where ``keep`` is True."""
        import scipy.sparse as sp
        from scipy.sparse.linalg import splu

        out = np.where(self.out > 0, self.out, 1.0)
        q = sp.diags(1.0 / out) @ self.counts
        r = np.column_stack([self.to_conversion / out, self.value_at_conversion / out])
        index = np.arange(self.n_transient)
        if keep is not None:
            index = index[keep]
            q = q[index][:, index]
            r = r[index]
        start = int(np.searchsorted(index, self.start))
        system = (sp.identity(len(index), format="csc") - q.tocsc()).tocsc()
        small = len(index) <= 400  # dense is faster for small chains
        x = np.linalg.solve(system.toarray(), r) if small else splu(system).solve(r)
        return float(x[start, 0]), float(x[start, 1])


def state_codes(agg: PathAggregate, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Per token: a code of its state (last ``order`` keys) and the state's compact index."""
    base = len(agg.keys) + 1
    if order == 1 and len(agg.tokens) and agg.key_touches.all():
        return np.arange(1, base), agg.tokens  # every key present: the token is the state
    digits = agg.tokens.astype(np.int64) + 1
    if order == 1:
        return _compact(digits, base)
    pos = np.arange(len(agg.tokens)) - np.repeat(agg.offsets[:-1], agg.lengths)
    if base**order < 2**62:
        code = np.zeros(len(digits), dtype=np.int64)
        for j in range(order):
            shifted = np.zeros_like(digits)
            shifted[j:] = digits[: len(digits) - j] if j else digits
            code += np.where(pos >= j, shifted, 0) * base**j
        return _compact(code, base**order)
    cols = []
    for j in range(order):
        shifted = np.zeros_like(digits)
        shifted[j:] = digits[: len(digits) - j] if j else digits
        cols.append(np.where(pos >= j, shifted, 0))
    uniq, inverse = np.unique(np.column_stack(cols), axis=0, return_inverse=True)
    return uniq, inverse.ravel()


def _compact(code: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct codes, index of each code among them); O(n) when codes are small."""
    if size <= 8_000_000:
        present = np.zeros(size, dtype=bool)
        present[code] = True
        uniq = np.flatnonzero(present)
        rank = np.cumsum(present) - 1
        return uniq, rank[code]
    uniq, inverse = np.unique(code, return_inverse=True)
    return uniq, inverse


def _decode_state(code: object, base: int, order: int) -> tuple[int, ...]:
    if isinstance(code, np.ndarray):
        digits = [int(d) for d in code]
    else:
        value = int(code)  # type: ignore[call-overload]
        digits = []
        for _ in range(order):
            digits.append(value % base)
            value //= base
    return tuple(d - 1 for d in reversed(digits) if d > 0)


def fit_chain(agg: PathAggregate, order: int) -> MarkovChain:
    """Count the order-k chain's transitions from the aggregate (vectorised)."""
    import scipy.sparse as sp

    uniq, state = state_codes(agg, order)
    n_states = len(uniq)
    start = n_states
    size = n_states + 1
    weight = agg.conversions + agg.nulls
    first = agg.offsets[:-1]
    last = agg.offsets[1:] - 1
    # every pair of consecutive tokens is a transition, weighted by its path's journeys;
    # the pairs that cross from one path to the next weigh 0 (a path never ends there)
    pair_weight = np.repeat(weight, agg.lengths)[:-1]
    pair_weight[last[:-1]] = 0.0
    src, dst = state[:-1], state[1:]
    if size * size <= 8_000_000:
        dense = np.bincount(src * size + dst, weights=pair_weight, minlength=size * size)
        dense[start * size : (start + 1) * size] = np.bincount(
            state[first], weights=weight, minlength=size
        )
        counts = sp.csr_matrix(dense.reshape(size, size))
    else:
        inner = pair_weight > 0
        src = np.concatenate([np.full(agg.n_paths, start), src[inner]])
        dst = np.concatenate([state[first], dst[inner]])
        w = np.concatenate([weight, pair_weight[inner]])
        edge, slot = np.unique(src.astype(np.int64) * size + dst, return_inverse=True)
        summed = np.bincount(slot, weights=w)
        counts = sp.csr_matrix((summed, (edge // size, edge % size)), shape=(size, size))
    to_conv = np.bincount(state[last], weights=agg.conversions, minlength=size)
    to_null = np.bincount(state[last], weights=agg.nulls, minlength=size)
    value = np.bincount(state[last], weights=agg.value, minlength=size)
    out = np.asarray(counts.sum(axis=1)).ravel() + to_conv + to_null
    base = len(agg.keys) + 1
    keys = [_decode_state(c, base, order) for c in uniq]
    last_key = np.array([k[-1] for k in keys] + [-1], dtype=np.int64)
    return MarkovChain(order, keys, last_key, counts, to_conv, to_null, value, out)


def markov(agg: PathAggregate, order: int = 1) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Attributed (conversions, value) per key, plus removal effects and the chain."""
    n_keys = len(agg.keys)
    conv = np.zeros(n_keys)
    value = np.zeros(n_keys)
    effects = np.zeros(n_keys)
    effects_value = np.zeros(n_keys)
    without = np.full(n_keys, np.nan)
    info: dict[str, object] = {"p_conversion": 0.0, "expected_value": 0.0}
    if agg.n_paths == 0:
        info.update(removal=(effects, effects_value, without), chain=None)
        return conv, value, info
    chain = fit_chain(agg, order)
    p_all, v_all = chain.solve()
    present = np.flatnonzero(agg.key_touches)
    for key in present:
        keep = chain.last_key != key
        p_c, v_c = chain.solve(keep)
        without[key] = p_c
        effects[key] = 1.0 - p_c / p_all if p_all > 0 else 0.0
        effects_value[key] = 1.0 - v_c / v_all if v_all > 0 else 0.0
    effects = np.clip(effects, 0.0, None)
    effects_value = np.clip(effects_value, 0.0, None)
    if effects.sum() > 0:
        conv = agg.total_conversions() * effects / effects.sum()
    if effects_value.sum() > 0:
        value = agg.total_value() * effects_value / effects_value.sum()
    info.update(
        p_conversion=p_all,
        expected_value=v_all,
        removal=(effects, effects_value, without),
        chain=chain,
    )
    return conv, value, info


def transition_frame(chain: MarkovChain | None, keys: list[str], sep: str = " > "):
    """The chain's transitions as a long DataFrame: from, to, count, probability."""
    import pandas as pd

    columns = ["from", "to", "count", "probability"]
    if chain is None:
        return pd.DataFrame(columns=columns)
    names = [sep.join(keys[k] for k in s) for s in chain.state_keys] + [START]
    coo = chain.counts.tocoo()
    rows = [
        (names[i], names[j], float(c), float(c) / chain.out[i])
        for i, j, c in zip(coo.row, coo.col, coo.data, strict=True)
    ]
    for i in range(chain.n_transient):
        if chain.to_conversion[i] > 0:
            rows.append(
                (
                    names[i],
                    CONVERSION,
                    float(chain.to_conversion[i]),
                    chain.to_conversion[i] / chain.out[i],
                )
            )
        if chain.to_null[i] > 0:
            rows.append((names[i], NULL, float(chain.to_null[i]), chain.to_null[i] / chain.out[i]))
    df = pd.DataFrame(rows, columns=columns)
    return df.sort_values(["from", "to"], kind="stable").reset_index(drop=True)


def _suffix_codes(agg: PathAggregate, order: int) -> np.ndarray:
    """Per path, a code of its last ``order`` keys (fewer when the path is shorter)."""
    base = len(agg.keys) + 1
    code = np.zeros(agg.n_paths, dtype=object if base**order >= 2**62 else np.int64)
    last = agg.offsets[1:] - 1
    for j in range(order):
        ok = agg.lengths > j
        digit = np.where(ok, agg.tokens[np.where(ok, last - j, 0)].astype(np.int64) + 1, 0)
        code = code + digit * base**j
    return code


def choose_order(
    agg: PathAggregate, orders: tuple[int, ...] = (1, 2, 3, 4), train: float = 0.7, seed: int = 0
):
    """The order that best predicts conversion on held-out journeys, and the scores.

    Journeys are split at random (seeded; binomial thinning of each path's counts, the
    same as sending every journey to the training part with probability ``train``).
    For each order ``k`` the chain fitted on the training part predicts a held-out
    path's conversion by its last state's conversion probability
    ``P(conv | s) / (P(conv | s) + P(null | s))``, backing off to shorter states when
    the state was not seen; the score is the mean log loss (lower is better; ties go
    to the lower order).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    conv = np.rint(agg.conversions).astype(np.int64)
    nulls = np.rint(agg.nulls).astype(np.int64)
    tr_c = rng.binomial(conv, train)
    tr_n = rng.binomial(nulls, train)
    te_c, te_n = conv - tr_c, nulls - tr_n
    total_tr = tr_c.sum() + tr_n.sum()
    prior = (tr_c.sum() + 0.5) / (total_tr + 1.0)
    prediction = np.full(agg.n_paths, prior)
    rows = []
    best = (np.inf, orders[0])
    for k in range(1, max(orders) + 1):
        code = _suffix_codes(agg, k)
        uniq, inv = np.unique(code, return_inverse=True)
        c = np.bincount(inv, weights=tr_c, minlength=len(uniq))
        n = np.bincount(inv, weights=tr_n, minlength=len(uniq))
        # shrink towards the shorter state's prediction (one pseudo-journey)
        # (a path shorter than k has the same state as at order k-1: same prediction)
        longer = agg.lengths >= k
        prediction = np.where(longer, (c[inv] + prediction) / (c[inv] + n[inv] + 1.0), prediction)
        p = np.clip(prediction, 1e-9, 1 - 1e-9)
        loss = -(te_c * np.log(p) + te_n * np.log(1 - p)).sum() / max(te_c.sum() + te_n.sum(), 1)
        if k in orders:
            rows.append({"order": k, "log_loss": float(loss)})
            if loss < best[0] - 1e-9:
                best = (loss, k)
    return best[1], pd.DataFrame(rows)
