"""Backend builtins the path builder uses (this module imports ibis; load it lazily).

No ``from __future__ import annotations`` here: Ibis reads the annotations as types.
"""

import ibis
import ibis.expr.datatypes as dt

__all__ = ["epoch_us"]


@ibis.udf.scalar.builtin(name="epoch_us")
def epoch_us(x: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's ``epoch_us``: microseconds since 1970-01-01 UTC."""
