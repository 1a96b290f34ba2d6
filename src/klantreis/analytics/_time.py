"""Time arithmetic in the engine: exact UTC seconds on every backend, fast on DuckDB.

Two Ibis pitfalls on DuckDB make this module necessary:

- ``Timestamp.epoch_seconds()`` compiles to ``EPOCH(CAST(ts AS TIMESTAMP))``; with the
  session time zone set to the workspace's (as it is, so calendar periods are local),
  the cast yields local wall-clock time, so differences across a daylight-saving
  change are off by an hour.
- ``Timestamp.delta(...)`` is exact but compiles to ``date_diff`` on TIMESTAMPTZ,
  which DuckDB evaluates through ICU calendars, 10-100x slower on millions of rows.

So on DuckDB we use the built-in ``epoch_us`` (exact UTC microseconds, an integer
subtraction), and on every other backend Ibis's portable ``delta``. The backend is
found from the expression itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["backend_name", "epoch_micros", "epoch_seconds", "seconds_between"]

_EPOCH = "1970-01-01 00:00:00"


def backend_name(expr_or_ws: Any) -> str:
    """The name of the Ibis backend ('duckdb', 'pyspark'...) of an expression or workspace."""
    import ibis

    con = getattr(expr_or_ws, "con", None)
    if con is not None and hasattr(con, "name"):
        return str(con.name)
    try:
        return str(ibis.get_backend(expr_or_ws).name)
    except Exception:  # an unbound expression: no backend to specialise for
        return ""


def epoch_micros(ts: Any) -> Any:
    """Microseconds since 1970-01-01 UTC of a UTC timestamp column (int64)."""
    import ibis

    if backend_name(ts) == "duckdb":
        from klantreis.analytics._udf import epoch_us

        return epoch_us(ts)
    return ts.delta(ibis.timestamp(_EPOCH, timezone="UTC"), unit="microsecond")


def epoch_seconds(ts: Any) -> Any:
    """Seconds since 1970-01-01 UTC (float64, microsecond precision)."""
    return epoch_micros(ts) / 1_000_000


def seconds_between(later: Any, earlier: Any) -> Any:
    """Seconds (float64, microsecond precision) from ``earlier`` to ``later``."""
    return (epoch_micros(later) - epoch_micros(earlier)) / 1_000_000
