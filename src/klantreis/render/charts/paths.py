"""Path variants (bars with conversion rate), converted against dropped, design against reality."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import BAD, GOOD, NEUTRAL, PALETTE, apply_style


def paths_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """Bars of a ``paths`` result, by its kind (variants, outcome or design)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from klantreis.i18n import t

    df = result.table
    kind = result.params.get("kind", "variants")
    customers = t("paths.chart.customers", lang)
    if kind == "variants":
        rows = df.iloc[::-1]
        text = [
            f"{c:.0%}" if c == c else ""
            for c in rows["conversion_rate"]  # NaN without conversion
        ]
        fig = go.Figure(
            go.Bar(
                x=rows["customers"],
                y=rows["path"],
                orientation="h",
                text=text,
                marker_color=[NEUTRAL if p == "(other)" else PALETTE[0] for p in rows["path"]],
                hovertemplate="%{y}: %{x} "
                + customers
                + " ("
                + t("paths.chart.conversion_rate", lang)
                + " %{text})<extra></extra>",
            )
        )
        fig.update_xaxes(title=customers)
        fig.update_yaxes(type="category", automargin=True)
        return apply_style(
            fig, title=t("paths.variants.title", lang), height=max(360, 28 * len(df) + 120)
        )
    if kind == "outcome":
        groups = ["converted", "dropped"]
        fig = make_subplots(
            rows=1,
            cols=2,
            subplot_titles=[t(f"paths.outcome.{g}", lang) for g in groups],
            horizontal_spacing=0.25,
        )
        for i, g in enumerate(groups, start=1):
            rows = df[df["outcome"] == g].iloc[::-1]
            fig.add_trace(
                go.Bar(
                    x=rows["share"],
                    y=rows["path"],
                    orientation="h",
                    name=t(f"paths.outcome.{g}", lang),
                    marker_color=GOOD if g == "converted" else BAD,
                    customdata=rows["customers"],
                    hovertemplate="%{y}: %{customdata} " + customers + " (%{x:.0%})<extra></extra>",
                ),
                row=1,
                col=i,
            )
            fig.update_xaxes(tickformat=".0%", row=1, col=i)
            fig.update_yaxes(type="category", automargin=True, row=1, col=i)
        height = max(360, 28 * max(df["outcome"].value_counts().max() if len(df) else 0, 1) + 120)
        return apply_style(fig, title=t("paths.outcome.title", lang), height=height)
    # design
    rows = df.iloc[::-1]
    colours = {"taken": GOOD, "never_taken": BAD, "not_designed": PALETTE[1]}
    fig = go.Figure()
    for status in ("never_taken", "not_designed", "taken"):
        part = rows[rows["status"] == status]
        if len(part):
            fig.add_trace(
                go.Bar(
                    x=part["transitions"],
                    y=[f"{s} → {g}" for s, g in zip(part["source"], part["target"], strict=True)],
                    orientation="h",
                    name=status,
                    marker_color=colours[status],
                    hovertemplate="%{y}: %{x}<extra>" + status + "</extra>",
                )
            )
    fig.update_xaxes(title=t("paths.chart.transitions", lang))
    fig.update_yaxes(type="category", automargin=True)
    return apply_style(
        fig, title=t("paths.design.title", lang), height=max(360, 22 * len(df) + 120)
    )
