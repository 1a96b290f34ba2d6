"""What every analytic (and the what-if simulation) returns: a small DataFrame plus the
definition that made it.

This module sits below every stage and imports nothing of Klantreis, so ``simulate``
can return results without depending on ``analytics``.

Spec -> expression -> result: each analytic validates a frozen spec, builds an Ibis
expression from the workspace's tables, executes it on the workspace's backend and
wraps the (small) output in a :class:`Result` that carries the parameters, a plain
definition, the compiled SQL and the time it took. Renderers, the CLI and the web app
show the same numbers with the same captions from it.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis
    import pandas as pd
    from ibis.backends import BaseBackend

__all__ = ["SQL", "Result", "cache_table", "execute", "release_table"]


class SQL:
    """The SQL of an Ibis expression, compiled only when someone reads it.

    Compiling is not free (a tenth of a second for a large expression), and most
    results are shown without their SQL, so ``execute`` does not pay it up front.
    """

    __slots__ = ("_expr", "_text")

    def __init__(self, expr: Any) -> None:
        self._expr = expr
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            import ibis

            try:
                self._text = str(ibis.to_sql(self._expr))
            except Exception:  # some backends cannot print SQL; the result still stands
                self._text = ""
        return self._text

    def __repr__(self) -> str:
        return f"SQL({str(self)[:60]!r}...)"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)


def execute(expr: ibis.Expr, con: BaseBackend | None = None) -> tuple[pd.DataFrame, SQL, float]:
    """Run an Ibis table expression; return its DataFrame, its (lazily compiled) SQL and
    the seconds taken."""
    started = time.perf_counter()
    df = con.execute(expr) if con is not None else expr.execute()
    return df, SQL(expr), time.perf_counter() - started


def cache_table(expr: ibis.Table) -> ibis.Table:
    """``expr`` computed into a temporary backend table (Ibis ``cache()``), with the
    expression's own column types: PySpark stores row_number() and small integer
    literals as int32, and a union of such tables with int64 ones would fail.
    Drop it with :func:`release_table` when done."""
    table = expr.cache()
    if table.schema() != expr.schema():
        cast = table.cast(expr.schema())
        _CAST_OF[cast.op()] = table
        return cast
    return table


_CAST_OF: dict[Any, ibis.Table] = {}  # a cast cached table -> the cached table under it


def release_table(table: ibis.Table) -> None:
    """Drop the temporary table behind a :func:`cache_table` result."""
    _CAST_OF.pop(table.op(), table).release()


@dataclass
class Result:
    """An analytics result: ``table`` (pandas), ``definition`` (plain words), ``params``.

    ``extras`` holds further tables of the same analysis (e.g. drop-off customers);
    ``figure()`` builds the analytic's Plotly figure from this result (never querying).
    """

    name: str
    table: pd.DataFrame
    definition: str
    params: dict[str, Any] = field(default_factory=dict)
    sql: SQL | str = ""
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    def figure(self, **options: Any) -> Any:
        """The Plotly figure of this result (see klantreis.render.charts)."""
        from klantreis.render.charts import figure_for  # loaded only when asked for

        return figure_for(self, **options)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: name, params, definition, rows (records) and extras' rows."""
        return {
            "name": self.name,
            "params": _jsonable(self.params),
            "definition": self.definition,
            "rows": json.loads(self.table.to_json(orient="records", date_format="iso")),
            "extras": {
                k: json.loads(v.to_json(orient="records", date_format="iso"))
                if hasattr(v, "to_json")
                else _jsonable(v)
                for k, v in self.extras.items()
            },
            "seconds": round(self.seconds, 4),
        }

    def _repr_html_(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return (
            f"<div class='klantreis-result'><strong>{html.escape(self.name)}</strong>"
            f" <code>{html.escape(params)}</code>"
            f"<p>{html.escape(self.definition)}</p>{self.table.to_html(index=False)}</div>"
        )

    def __repr__(self) -> str:
        return f"<Result {self.name} rows={len(self.table)} params={self.params}>"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
