"""Durations with units ("30d", "2h", "90m") as used in specs, flags and journey files.

>>> parse_duration("30d").total_seconds()
2592000.0
>>> parse_duration("1.5h", field="window").total_seconds()
5400.0
"""

from __future__ import annotations

import re
from datetime import timedelta

from klantreis.errors import InvalidSpec

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: str | int | float | timedelta, *, field: str = "duration") -> timedelta:
    """A duration from '30d', '12h', '90m', '45s', '2w' (a bare number means seconds)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _PATTERN.match(str(value))
        if not match:
            raise InvalidSpec(field, "is not a duration like 30d, 12h, 90m, 45s or 2w", value=value)
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise InvalidSpec(field, "must not be negative", value=value)
    return timedelta(seconds=seconds)


def format_duration(seconds: float | None) -> str:
    """A short human duration: 45s, 12m, 3.5h, 2.0d.

    >>> format_duration(5400)
    '1.5h'
    """
    if seconds is None or seconds != seconds:  # None or NaN
        return "–"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            value = seconds / size
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return f"{seconds:.0f}s"
