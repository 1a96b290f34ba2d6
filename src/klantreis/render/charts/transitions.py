"""Transitions as a directed graph: touchpoints on a circle, arrows as wide as their count."""

from __future__ import annotations

import math
from typing import Any

from klantreis.render.charts._style import NEUTRAL, PALETTE, apply_style


def transitions_figure(result: Any, *, lang: str = "en", top: int = 40, **_: Any) -> Any:
    """Directed graph of the ``top`` transitions (by count) of a ``transitions`` result.

    Nodes sit on a circle in name order (sized by transitions out); touchpoints outside
    the journey are grey. Self-transitions (repeats) show in the node's hover only.
    The title says how many transitions are drawn out of how many.
    """
    import plotly.graph_objects as go

    from klantreis.i18n import t

    df = result.table
    shown = df.sort_values(["transitions", "source", "target"], ascending=[False, True, True]).head(
        top
    )
    nodes = sorted(set(shown["source"]) | set(shown["target"]))
    n = max(len(nodes), 1)
    pos = {
        k: (math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n))
        for i, k in enumerate(nodes)
    }
    out = df.groupby("source")["transitions"].sum().to_dict()
    repeats = df[df["source"] == df["target"]].set_index("source")["transitions"].to_dict()
    unmapped = set()
    if "mapped" in df:
        for s, tg, m in df[["source", "target", "mapped"]].itertuples(index=False):
            if not m:
                unmapped.update((s, tg))
    biggest = max([int(v) for v in shown["transitions"]] or [1])
    label = t("paths.chart.transitions", lang)
    # one list of arrows set at once: add_annotation per arrow revalidates the layout
    # each time (0.8 s for 40 arrows)
    arrows = []
    for r in shown.itertuples(index=False):
        if r.source == r.target:
            continue
        (x0, y0), (x1, y1) = pos[r.source], pos[r.target]
        arrows.append(
            {
                "x": x1,
                "y": y1,
                "ax": x0,
                "ay": y0,
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 2,
                "arrowsize": 1,
                "standoff": 14,
                "startstandoff": 14,
                "arrowwidth": 1 + 7 * r.transitions / biggest,
                "arrowcolor": PALETTE[0],
                "opacity": 0.55,
                "hovertext": f"{r.source} → {r.target}: {r.transitions} {label}, {r.share:.0%}",
            }
        )
    fig = go.Figure(layout={"annotations": arrows})
    fig.add_trace(
        go.Scatter(
            x=[pos[k][0] for k in nodes],
            y=[pos[k][1] for k in nodes],
            mode="markers+text",
            text=nodes,
            textposition="top center",
            marker={
                "size": [
                    12 + 28 * math.sqrt(out.get(k, 0) / max(max(out.values(), default=1), 1))
                    for k in nodes
                ],
                "color": [NEUTRAL if k in unmapped else PALETTE[1] for k in nodes],
                "line": {"width": 1, "color": "#333"},
            },
            customdata=[[out.get(k, 0), repeats.get(k, 0)] for k in nodes],
            hovertemplate="%{text}: %{customdata[0]} "
            + label
            + " (↻ %{customdata[1]})<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(visible=False, range=[-1.4, 1.4])
    fig.update_yaxes(visible=False, range=[-1.4, 1.4], scaleanchor="x")
    title = f"{t('paths.transitions.title', lang)} ({len(shown)}/{len(df)})"
    return apply_style(fig, title=title, height=640)
