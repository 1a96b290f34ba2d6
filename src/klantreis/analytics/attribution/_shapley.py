"""Shapley-value attribution: players are keys, worth comes from the path aggregate.

Two coalition worths (``worth=``):

- ``"conversions"`` (default): ``v(S)`` = conversions (value) of the journeys whose set of
  keys lies within ``S``. This game is a sum of unanimity games, one per key set ``T``
  with weight conv(T), so the Shapley value has a closed form: each journey's conversions
  are split equally over its *distinct* keys. Exact for any number of players.
- ``"rate"``: ``v(S)`` = conversions (value) per journey among the journeys whose set of
  keys lies within ``S`` (0 when there are none). No closed form: exact by enumerating
  all ``2**n`` coalitions up to ``exact_max`` players (default 15), beyond that by
  sampling ``samples`` random orders of the players (seeded), with the standard error
  of every value reported. Values are scaled so they add up to the total conversions
  (value): ``phi * total / v(N)``.

Both are efficient (add up to ``v(N)``), symmetric and give a null player 0.
"""

from __future__ import annotations

from math import factorial

import numpy as np

from klantreis.analytics.attribution._paths import PathAggregate

__all__ = ["exact_shapley", "key_sets", "sampled_shapley", "shapley"]


def key_sets(agg: PathAggregate) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct key sets of the paths: membership (sets x keys, bool), conv, journeys, value."""
    n_keys = len(agg.keys)
    if n_keys <= 62 and agg.n_paths:
        bits = np.left_shift(np.int64(1), agg.tokens.astype(np.int64))
        masks = np.bitwise_or.reduceat(bits, agg.offsets[:-1])
        codes, inv = np.unique(masks, return_inverse=True)
        uniq = ((codes[:, None] >> np.arange(n_keys, dtype=np.int64)) & 1).astype(bool)
    else:
        member = np.zeros((agg.n_paths, n_keys), dtype=bool)
        if len(agg.tokens):
            member[agg.path_index, agg.tokens] = True
        uniq, inv = np.unique(member, axis=0, return_inverse=True)
    inv = np.asarray(inv).ravel()
    conv = np.bincount(inv, weights=agg.conversions, minlength=len(uniq))
    journeys = np.bincount(inv, weights=agg.conversions + agg.nulls, minlength=len(uniq))
    value = np.bincount(inv, weights=agg.value, minlength=len(uniq))
    return uniq, conv, journeys, value


def closed_form(agg: PathAggregate) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values of the 'conversions' game: equal split over each set's keys."""
    member, conv, _, value = key_sets(agg)
    size = np.maximum(member.sum(axis=1), 1)
    return member.T @ (conv / size), member.T @ (value / size)


def _masks(member: np.ndarray) -> np.ndarray:
    weights = 1 << np.arange(member.shape[1], dtype=np.int64)
    return member.astype(np.int64) @ weights


def subset_sums(member: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """For every coalition mask S of the n players: sum of amounts of sets within S."""
    n = member.shape[1]
    table = np.zeros(1 << n)
    np.add.at(table, _masks(member), amounts)
    for i in range(n):  # zeta transform over the subset lattice
        view = table.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return table


def exact_shapley(worth: np.ndarray) -> np.ndarray:
    """Shapley values from the worth of every coalition (array indexed by bit mask)."""
    size = len(worth)
    n = size.bit_length() - 1
    masks = np.arange(size)
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n):
        popcount += (masks >> i) & 1
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = (weight[popcount[without]] * (worth[without | (1 << i)] - worth[without])).sum()
    return phi


def _rate(amount: np.ndarray, journeys: np.ndarray) -> np.ndarray:
    return np.divide(amount, journeys, out=np.zeros_like(amount), where=journeys > 0)


def sampled_shapley(
    member: np.ndarray,
    amounts: np.ndarray,
    journeys: np.ndarray,
    samples: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values of the 'rate' games by random player orders: (values, std errors).

    ``amounts`` has one column per game (conversions, value). A set lies within the
    first ``j`` players of an order when its latest member (by rank) comes before ``j``.
    """
    n = member.shape[1]
    rng = np.random.default_rng(seed)
    games = amounts.shape[1]
    total = np.zeros((n, games))
    total_sq = np.zeros((n, games))
    has = member.any(axis=1)
    for _ in range(samples):
        order = rng.permutation(n)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        latest = np.where(member, rank[None, :], -1).max(axis=1)
        latest = np.where(has, latest, -1)
        cum_j = np.zeros((n + 1, games))
        cum_n = np.zeros(n + 1)
        np.add.at(cum_j, latest + 1, amounts)
        np.add.at(cum_n, latest + 1, journeys)
        cum_j = np.cumsum(cum_j, axis=0)
        cum_n = np.cumsum(cum_n)
        worth = np.column_stack([_rate(cum_j[:, g], cum_n) for g in range(games)])
        marginal = worth[1:] - worth[:-1]  # contribution of the player at rank j
        contribution = marginal[rank]
        total += contribution
        total_sq += contribution**2
    mean = total / samples
    var = np.maximum(total_sq / samples - mean**2, 0.0) * samples / max(samples - 1, 1)
    return mean, np.sqrt(var / samples)


def shapley(
    agg: PathAggregate,
    *,
    worth: str = "conversions",
    exact_max: int = 15,
    samples: int = 2000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Attributed (conversions, value) per key and details (method, standard errors)."""
    n_keys = len(agg.keys)
    conv = np.zeros(n_keys)
    value = np.zeros(n_keys)
    se = np.zeros((n_keys, 2))
    if agg.n_paths == 0:
        return conv, value, {"method": "exact", "se": se, "players": 0}
    if worth == "conversions":
        conv, value = closed_form(agg)
        return conv, value, {"method": "exact (closed form)", "se": se, "players": n_keys}
    member, set_conv, journeys, set_value = key_sets(agg)
    players = np.flatnonzero(member.any(axis=0))
    member = member[:, players]
    amounts = np.column_stack([set_conv, set_value])
    totals = np.array([agg.total_conversions(), agg.total_value()])
    n = len(players)
    if n <= exact_max:
        tot_j = subset_sums(member, journeys)
        phi = np.column_stack(
            [exact_shapley(_rate(subset_sums(member, amounts[:, g]), tot_j)) for g in (0, 1)]
        )
        err = np.zeros_like(phi)
        method = "exact (all coalitions)"
    else:
        phi, err = sampled_shapley(member, amounts, journeys, samples, seed)
        method = f"sampled ({samples} orders, seed {seed})"
    full = phi.sum(axis=0)
    scale = np.divide(totals, full, out=np.zeros(2), where=full != 0)
    conv[players] = phi[:, 0] * scale[0]
    value[players] = phi[:, 1] * scale[1]
    se[players] = err * np.abs(scale)
    return conv, value, {"method": method, "se": se, "players": n}
