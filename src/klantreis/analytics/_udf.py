"""Backend built-ins the analytics call through Ibis (no SQL strings).

No ``from __future__ import annotations`` here: Ibis reads a UDF's annotations as
types, so they must not be strings. Use these through :mod:`._time`, which falls back
to portable Ibis on other backends.
"""

import ibis
import ibis.expr.datatypes as dt

__all__ = ["epoch_us"]


@ibis.udf.scalar.builtin(name="epoch_us")
def epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type, empty-body]
    """DuckDB's ``epoch_us``: microseconds since 1970-01-01 UTC of a TIMESTAMPTZ."""
