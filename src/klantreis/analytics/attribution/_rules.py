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
    """Sum per key of (share x path conversions, share x path value) over one token per
    path (``token_index[i]`` a token of path ``i``; ``share`` per path, default 1)."""
    n_keys = len(agg.keys)
    keys = agg.tokens[token_index]
    conv = agg.conversions if share is None else share * agg.conversions
    value = agg.value if share is None else share * agg.value
    return (
        np.bincount(keys, weights=conv, minlength=n_keys).astype(float),
        np.bincount(keys, weights=value, minlength=n_keys).astype(float),
    )


def _every_touch(agg: PathAggregate, share: np.ndarray) -> Credit:
    """Sum per key over every touch of (path share x conversions, x value): ``share`` is
    per path, the same for each of its touches (a key touched twice counts twice)."""
    weights = np.column_stack([share * agg.conversions, share * agg.value])
    credit = agg.touch_matrix.T @ weights  # keys x 2, no array per touch
    return np.asarray(credit[:, 0], dtype=float), np.asarray(credit[:, 1], dtype=float)


def first_touch(agg: PathAggregate) -> Credit:
    return _credit(agg, agg.offsets[:-1])


def last_touch(agg: PathAggregate) -> Credit:
    return _credit(agg, agg.offsets[1:] - 1)


def last_non_direct(agg: PathAggregate, direct: np.ndarray) -> Credit:
    """``direct``: a boolean per key code."""
    last = agg.offsets[1:] - 1
    if agg.n_paths == 0 or not direct.any():
        return _credit(agg, last)
    # the last non-direct touch of each path: the last one before the path's end, when
    # that one is not before the path's start
    non_direct = np.flatnonzero(~direct[agg.tokens])
    best = np.searchsorted(non_direct, agg.offsets[1:]) - 1
    found = non_direct[np.maximum(best, 0)] if len(non_direct) else last
    chosen = np.where((best >= 0) & (found >= agg.offsets[:-1]), found, last)
    return _credit(agg, chosen)


def linear(agg: PathAggregate) -> Credit:
    return _every_touch(agg, 1.0 / np.maximum(agg.lengths, 1))


def position_based(agg: PathAggregate, first: float = 0.4, last: float = 0.4) -> Credit:
    """Per path: every touch gets the middle share (0 in paths of one or two touches),
    then the first and last touches get the difference between their share and it."""
    n = agg.lengths
    ends = first + last
    two_first = first / ends if ends > 0 else 0.5
    middle = np.where(n >= 3, (1.0 - ends) / np.maximum(n - 2, 1), 0.0)
    at_first = np.select([n == 1, n == 2], [1.0, two_first], first - middle)
    at_last = np.select([n == 1, n == 2], [0.0, 1.0 - two_first], last - middle)
    credit = _every_touch(agg, middle)
    head = _credit(agg, agg.offsets[:-1], at_first)
    tail = _credit(agg, agg.offsets[1:] - 1, at_last)
    return credit[0] + head[0] + tail[0], credit[1] + head[1] + tail[1]
