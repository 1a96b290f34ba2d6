"""Rule-based attribution on the path aggregate (vectorised; no loop per path).

Each model gives every touch of a path a share of that path's conversions (and of its
value); shares of a path add up to 1, so the credits add up to the totals.

- ``first_touch``: all to the first touch.
- ``last_touch``: all to the last touch.
- ``last_non_direct``: all to the last touch that is not direct; a path of direct
  touches only gives it to its last touch.
- ``linear``: equal shares, ``1/n`` per touch (a key touched twice gets ``2/n``).
- ``position_based``: ``first`` to the first touch, ``last`` to the last, the rest
  split evenly over the touches between; a path of two touches splits
  ``first:last``; a path of one touch gives it all.
- ``time_decay`` is computed exactly in the engine (see ``_paths``).
"""

from __future__ import annotations

import numpy as np

from klantreis.analytics.attribution._paths import PathAggregate

__all__ = ["first_touch", "last_non_direct", "last_touch", "linear", "position_based"]

Credit = tuple[np.ndarray, np.ndarray]


def _credit(agg: PathAggregate, token_index: np.ndarray, share: np.ndarray | None = None) -> Credit:
    """Sum per key of (share x path conversions, share x path value) over the tokens given."""
    n_keys = len(agg.keys)
    path = agg.path_index[token_index] if len(agg.tokens) else token_index
    keys = agg.tokens[token_index]
    weight = np.ones(len(token_index)) if share is None else share
    conv = np.bincount(keys, weights=weight * agg.conversions[path], minlength=n_keys)
    value = np.bincount(keys, weights=weight * agg.value[path], minlength=n_keys)
    return conv.astype(float), value.astype(float)


def first_touch(agg: PathAggregate) -> Credit:
    return _credit(agg, agg.offsets[:-1])


def last_touch(agg: PathAggregate) -> Credit:
    return _credit(agg, agg.offsets[1:] - 1)


def last_non_direct(agg: PathAggregate, direct: np.ndarray) -> Credit:
    """``direct``: a boolean per key code."""
    if agg.n_paths == 0:
        return _credit(agg, agg.offsets[:-1])
    idx = np.arange(len(agg.tokens))
    candidate = np.where(direct[agg.tokens], -1, idx)
    best = np.maximum.reduceat(candidate, agg.offsets[:-1])
    chosen = np.where(best >= 0, best, agg.offsets[1:] - 1)
    return _credit(agg, chosen)


def linear(agg: PathAggregate) -> Credit:
    share = np.repeat(1.0 / np.maximum(agg.lengths, 1), agg.lengths)
    return _credit(agg, np.arange(len(agg.tokens)), share)


def position_shares(lengths: np.ndarray, first: float, last: float) -> np.ndarray:
    """The position-based share of every touch (flat, in path order)."""
    n = np.repeat(lengths, lengths)
    pos = np.arange(len(n)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ends = first + last
    two_first = first / ends if ends > 0 else 0.5
    middle = (1.0 - ends) / np.maximum(n - 2, 1)
    share = np.where(pos == 0, first, np.where(pos == n - 1, last, middle))
    share = np.where(n == 2, np.where(pos == 0, two_first, 1.0 - two_first), share)
    return np.where(n == 1, 1.0, share)


def position_based(agg: PathAggregate, first: float = 0.4, last: float = 0.4) -> Credit:
    share = position_shares(agg.lengths, first, last)
    return _credit(agg, np.arange(len(agg.tokens)), share)
