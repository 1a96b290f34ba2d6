"""Counter-based random numbers: every draw is a hash of (seed, stream, step, customer).

Why not a sequential generator: a what-if scenario changes which customers are still
walking at a step, which would shift every later draw of a sequential stream. Keyed
draws give each customer the same random numbers in the baseline and the scenario
(common random numbers), so differences come from the change, not from noise. They
are also the same on every machine and numpy version: the hash is SplitMix64 in
unsigned 64-bit integer arithmetic, and normal draws use the inverse normal CDF.

    >>> u = uniform(7, STREAM_NEXT, 3, np.arange(4))
    >>> bool(((u > 0) & (u < 1)).all())
    True
    >>> uniform(7, STREAM_NEXT, 3, np.arange(4)).tolist() == u.tolist()
    True
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

__all__ = ["normal", "uniform"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB

# Streams: one per kind of draw, so draws never collide.
STREAM_GROUP = 1
STREAM_DAY = 2
STREAM_HOUR = 3
STREAM_SECOND = 4
STREAM_ENTRY = 5
STREAM_TRIGGER = 6
STREAM_NEXT = 10
STREAM_DELAY = 11
STREAM_CHANNEL = 12
STREAM_VALUE = 13
STREAM_ANSWER = 14
STREAM_METRIC = 15
STREAM_SCORE = 16
STREAM_NPS = 17
STREAM_NPS_SCORE = 18


def _mix_int(x: int) -> int:
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * _M1) & _MASK
    x = ((x ^ (x >> 27)) * _M2) & _MASK
    return x ^ (x >> 31)


def _key(seed: int, stream: int, step: int) -> int:
    return _mix_int(_mix_int(_mix_int(seed & _MASK) ^ stream) ^ (step & _MASK))


def _hash(ids: np.ndarray, key: int) -> np.ndarray:
    x = ids.astype(np.uint64)
    x ^= np.uint64(key)
    x += np.uint64(_GOLDEN)
    x ^= x >> np.uint64(30)
    x *= np.uint64(_M1)
    x ^= x >> np.uint64(27)
    x *= np.uint64(_M2)
    x ^= x >> np.uint64(31)
    return x


def uniform(seed: int, stream: int, step: int, ids: np.ndarray) -> np.ndarray:
    """Uniform draws in the open interval (0, 1), one per id (53 bits)."""
    x = _hash(np.asarray(ids), _key(seed, stream, step))
    x >>= np.uint64(11)
    out = x.astype(np.float64)
    out += 0.5
    out *= 2.0**-53
    return out


def normal(seed: int, stream: int, step: int, ids: np.ndarray) -> np.ndarray:
    """Standard normal draws, one per id (inverse CDF of :func:`uniform`)."""
    return ndtri(uniform(seed, stream, step, ids))
