"""What every analytic returns: a small DataFrame plus the definition that made it.

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

__all__ = ["Result", "execute"]


def execute(expr: ibis.Expr, con: BaseBackend | None = None) -> tuple[pd.DataFrame, str, float]:
    """Run an Ibis table expression; return its DataFrame, compiled SQL and seconds taken."""
    import ibis

    started = time.perf_counter()
    try:
        sql = str(ibis.to_sql(expr))
    except Exception:  # noqa: BLE001 - some backends cannot print SQL; the result still counts
        sql = ""
    df = con.execute(expr) if con is not None else expr.execute()
    return df, sql, time.perf_counter() - started


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
    sql: str = ""
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
