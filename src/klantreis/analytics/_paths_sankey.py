"""Sankey data: paths from a touchpoint forward, or to a touchpoint backward, N steps.

Every time a customer is at the anchor touchpoint, their path is followed ``depth``
events forward (``start=``) or backward (``end=``), in ``(timestamp, event_id)`` order.
Without an anchor, each customer's first event starts one path forward. Level 0 is
the anchor; forward levels are 1..depth, backward levels -1..-depth. A path that stops
before ``depth`` gets one ``(end)`` node (forward) or ``(start)`` node (backward) and no
further steps. Per level the ``top`` touchpoints by visits are kept; the others are
merged into one ``(other)`` node, so the links still add up to every path.

Result ``sankey``: the table holds the links (level and level_to, source, target,
transitions, customers), ``extras['nodes']`` the nodes (level, node, visits, customers).
Visits and transitions count path steps (a customer at the anchor twice walks two
paths); customers count each customer once per node or link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klantreis.analytics._paths_common import (
    END,
    OTHER,
    START,
    check_flag,
    check_positive,
    check_touchpoints,
    customer_window,
    journey_of,
    placed_events,
)
from klantreis.errors import InvalidSpec
from klantreis.result import Result, execute

if TYPE_CHECKING:
    import ibis

__all__ = ["SankeySpec", "anchored_expr", "sankey"]

MAX_DEPTH = 12


@dataclass(frozen=True)
class SankeySpec:
    start: str | None = None
    end: str | None = None
    depth: int = 3
    top: int = 8
    collapse: bool = False

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None:
            raise InvalidSpec("start", "give a start touchpoint or an end touchpoint, not both")
        check_positive("depth", self.depth, maximum=MAX_DEPTH)
        check_positive("top", self.top, maximum=1000)
        check_flag("collapse", self.collapse)

    @property
    def backward(self) -> bool:
        return self.end is not None

    @property
    def anchor(self) -> str | None:
        return self.end if self.backward else self.start


def anchored_expr(events: ibis.Table, spec: SankeySpec) -> ibis.Table:
    """One row per path: customer_id and s0..s{depth} (level k's touchpoint, or the
    terminal label where the path stopped, or null after that)."""
    import ibis

    from klantreis.analytics.paths import collapsed

    ev = collapsed(events) if spec.collapse else events
    w = customer_window()
    step = (
        (lambda k: ev.touchpoint.lag(k).over(w))
        if spec.backward
        else (lambda k: ev.touchpoint.lead(k).over(w))
    )
    cols: dict[str, Any] = {f"_r{k}": step(k) for k in range(1, spec.depth + 1)}
    if spec.anchor is None:
        cols["_first"] = ibis.row_number().over(w) == 0
    wide = ev.mutate(**cols)
    if spec.anchor is None:
        wide = wide.filter(wide._first)
    else:
        wide = wide.filter(wide.touchpoint == spec.anchor)
    terminal = START if spec.backward else END
    levels: dict[str, Any] = {"s0": wide.touchpoint}
    for k in range(1, spec.depth + 1):
        here = wide[f"_r{k}"]
        before = wide.touchpoint if k == 1 else wide[f"_r{k - 1}"]
        levels[f"s{k}"] = ibis.cases(
            (here.notnull(), here),
            (before.notnull(), ibis.literal(terminal)),
            else_=ibis.null("string"),
        )
    return wide.select("customer_id", **levels)


def _node_counts(wide: ibis.Table, depth: int) -> ibis.Table:
    import ibis

    parts = []
    for k in range(depth + 1):
        col = wide[f"s{k}"]
        parts.append(
            wide.filter(col.notnull()).select(
                level=ibis.literal(k, "int64"), node=col, customer_id=wide.customer_id
            )
        )
    return ibis.union(*parts, distinct=False)


def _keep_top(counts: Any, top: int) -> dict[int, list[str]]:
    keep: dict[int, list[str]] = {}
    for level, grp in counts.groupby("level"):
        grp = grp[~grp["node"].isin([END, START])]
        grp = grp.sort_values(["visits", "node"], ascending=[False, True])
        keep[int(level)] = list(grp["node"][:top])
    return keep


def sankey(
    ws: Any,
    *,
    start: str | None = None,
    end: str | None = None,
    depth: int = 3,
    top: int = 8,
    collapse: bool = False,
    journey: str | None = None,
) -> Result:
    """Sankey data of paths from ``start`` forward or to ``end`` backward (see the module)."""
    import ibis

    from klantreis.i18n import t

    spec = SankeySpec(start=start, end=end, depth=depth, top=top, collapse=collapse)
    jr = journey_of(ws, journey)
    if spec.anchor is not None:
        check_touchpoints(ws, jr, [spec.anchor], "end" if spec.backward else "start")
    wide = anchored_expr(placed_events(ws), spec)
    nodes_long = _node_counts(wide, spec.depth)
    counts, _, secs1 = execute(
        nodes_long.group_by(["level", "node"]).agg(visits=nodes_long.count()), ws.con
    )
    keep = _keep_top(counts, spec.top)

    def mapped(k: int) -> Any:
        col = wide[f"s{k}"]
        allowed = keep.get(k, [])
        return ibis.cases(
            (col.isnull(), ibis.null("string")),
            (col.isin([END, START, *allowed]), col),
            else_=ibis.literal(OTHER),
        )

    bucketed = wide.select("customer_id", **{f"s{k}": mapped(k) for k in range(spec.depth + 1)})
    links = []
    for k in range(1, spec.depth + 1):
        a, b = bucketed[f"s{k - 1}"], bucketed[f"s{k}"]
        pair = bucketed.filter(a.notnull(), b.notnull(), ~a.isin([END, START]))
        if spec.backward:  # the link runs from the earlier step (level -k) to the later one
            links.append(
                pair.select(
                    level=ibis.literal(-k, "int64"),
                    source=b,
                    target=a,
                    customer_id=pair.customer_id,
                )
            )
        else:
            links.append(
                pair.select(
                    level=ibis.literal(k - 1, "int64"),
                    source=a,
                    target=b,
                    customer_id=pair.customer_id,
                )
            )
    link_rows = ibis.union(*links, distinct=False)
    link_expr = link_rows.group_by(["level", "source", "target"]).agg(
        transitions=link_rows.count(), customers=link_rows.customer_id.nunique()
    )
    link_expr = link_expr.order_by(["level", ibis.desc("transitions"), "source", "target"])
    df, sql, secs2 = execute(link_expr, ws.con)
    node_rows = _node_counts(bucketed, spec.depth)
    if spec.backward:
        node_rows = node_rows.mutate(level=-node_rows.level)
    node_expr = (
        node_rows.group_by(["level", "node"])
        .agg(visits=node_rows.count(), customers=node_rows.customer_id.nunique())
        .order_by(["level", ibis.desc("visits"), "node"])
    )
    nodes, _, secs3 = execute(node_expr, ws.con)
    df = df.reset_index(drop=True)
    df["level_to"] = df["level"] + 1
    for col in ("level", "level_to", "transitions", "customers"):
        df[col] = df[col].astype("int64")
    nodes = nodes.reset_index(drop=True)
    for col in ("level", "visits", "customers"):
        nodes[col] = nodes[col].astype("int64")
    lang = ws.settings.language
    if spec.anchor is None:
        definition = t("paths.sankey.first", lang, depth=spec.depth, top=spec.top)
    else:
        key = "paths.sankey.backward" if spec.backward else "paths.sankey.forward"
        definition = t(key, lang, anchor=spec.anchor, depth=spec.depth, top=spec.top)
    if spec.collapse:
        definition += " " + t("paths.collapse", lang)
    return Result(
        name="sankey",
        table=df[["level", "level_to", "source", "target", "transitions", "customers"]],
        definition=definition,
        params={
            "start": spec.start,
            "end": spec.end,
            "depth": spec.depth,
            "top": spec.top,
            "collapse": spec.collapse,
            "journey": jr.key,
        },
        sql=sql,
        seconds=secs1 + secs2 + secs3,
        extras={"nodes": nodes[["level", "node", "visits", "customers"]]},
    )
