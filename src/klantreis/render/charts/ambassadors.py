"""Ambassadors: promoters, and the ambassadors among them split prompted/spontaneous."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import GOOD, PALETTE, apply_style

__all__ = ["ambassadors_figure"]

COLOURS = {"promoters": PALETTE[0], "prompted": PALETTE[1], "spontaneous": GOOD}


def ambassadors_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """Two bars: promoters, and ambassadors stacked as prompted + spontaneous; the text
    gives each part's share of the promoters."""
    import plotly.graph_objects as go

    from klantreis.i18n import format_number, format_percent, t

    rows = {str(r.kind): r for r in result.table.itertuples(index=False)}
    columns = {
        "promoters": t("loyalty.ambassadors.promoters", lang),
        "prompted": t("loyalty.ambassadors.ambassadors", lang),
        "spontaneous": t("loyalty.ambassadors.ambassadors", lang),
    }
    fig = go.Figure()
    for kind in ("promoters", "prompted", "spontaneous"):
        row = rows.get(kind)
        n = int(row.customers) if row is not None else 0
        share = float(row.share) if row is not None else float("nan")
        pct = format_percent(share, lang) if share == share else "-"
        fig.add_trace(
            go.Bar(
                x=[columns[kind]],
                y=[n],
                name=t(f"loyalty.ambassadors.{kind}", lang),
                marker_color=COLOURS[kind],
                text=[f"{format_number(n, lang)} ({pct})"],
                textposition="inside",
                customdata=[share],
                hovertemplate="%{fullData.name}: %{y} (%{customdata:.1%})<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=t("loyalty.lifecycle.customers", lang))
    fig.update_xaxes(type="category")
    return apply_style(fig, title=t("loyalty.ambassadors.title", lang), height=380)
