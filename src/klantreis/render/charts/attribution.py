"""Attribution chart: grouped bars, one group per touchpoint/channel, one bar per model."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import apply_style

__all__ = ["attribution_figure"]


def attribution_figure(result: Any, *, measure: str = "conversions", lang: str = "en") -> Any:
    """Attributed conversions (or ``measure="value"``) per key, a bar per model."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    if measure not in ("conversions", "value"):
        from klantreis.errors import InvalidSpec

        raise InvalidSpec(
            "measure", "unknown measure", value=measure, allowed=["conversions", "value"]
        )
    table = result.table
    fig = go.Figure()
    for model in dict.fromkeys(table["model"]):
        rows = table[table["model"] == model]
        fig.add_trace(go.Bar(name=model, x=list(rows["key"]), y=list(rows[measure])))
    by = result.params.get("by", "touchpoint")
    fig.update_layout(
        barmode="group",
        xaxis_title=t(f"attribution.by.{by}", lang),
        yaxis_title=t(f"attribution.measure.{measure}", lang),
    )
    return apply_style(fig, title=t("attribution.title", lang))
