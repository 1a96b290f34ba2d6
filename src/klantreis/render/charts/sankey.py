"""Sankey of paths from or to a touchpoint, one column of nodes per step."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import NEUTRAL, PALETTE, apply_style


def sankey_figure(result: Any, *, lang: str = "en", value: str = "transitions", **_: Any) -> Any:
    """Plotly Sankey of a ``sankey`` result; ``value`` is 'transitions' or 'customers'."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    if value not in ("transitions", "customers"):
        from klantreis.errors import InvalidSpec

        raise InvalidSpec(
            "value", "unknown link size", value=value, allowed=["transitions", "customers"]
        )
    links = result.table
    nodes = result.extras["nodes"]
    index = {(int(r.level), r.node): i for i, r in enumerate(nodes.itertuples(index=False))}
    levels = sorted({int(v) for v in nodes["level"]}) or [0]
    span = max(levels[-1] - levels[0], 1)
    colour = {}
    for r in nodes.itertuples(index=False):
        if r.node.startswith("("):
            colour[r.node] = NEUTRAL
        else:
            colour.setdefault(r.node, PALETTE[len(colour) % len(PALETTE)])
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [f"{r.node}" for r in nodes.itertuples(index=False)],
                "x": [
                    0.01 + 0.98 * (int(r.level) - levels[0]) / span
                    for r in nodes.itertuples(index=False)
                ],
                "color": [colour[r.node] for r in nodes.itertuples(index=False)],
                "customdata": [
                    [int(r.level), int(r.customers)] for r in nodes.itertuples(index=False)
                ],
                "hovertemplate": "%{label} (%{customdata[0]}): %{value}, "
                + t("paths.chart.customers", lang)
                + " %{customdata[1]}<extra></extra>",
                "pad": 12,
            },
            link={
                "source": [index[(int(r.level), r.source)] for r in links.itertuples(index=False)],
                "target": [
                    index[(int(r.level_to), r.target)] for r in links.itertuples(index=False)
                ],
                "value": [int(getattr(r, value)) for r in links.itertuples(index=False)],
                "customdata": [
                    [int(r.transitions), int(r.customers)] for r in links.itertuples(index=False)
                ],
                "hovertemplate": "%{source.label} → %{target.label}: %{customdata[0]} "
                + t("paths.chart.transitions", lang)
                + ", %{customdata[1]} "
                + t("paths.chart.customers", lang)
                + "<extra></extra>",
            },
        )
    )
    return apply_style(fig, title=t("paths.sankey.title", lang), height=560)
