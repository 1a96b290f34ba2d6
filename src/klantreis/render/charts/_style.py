"""Shared look of every chart: palette, fonts, layout defaults."""

from __future__ import annotations

from typing import Any

#: Colour-blind safe palette (Okabe–Ito), in the order charts use it.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
GOOD, BAD, NEUTRAL = "#009E73", "#D55E00", "#8A8F98"
FONT = "Inter, 'Segoe UI', Helvetica, Arial, sans-serif"


def apply_style(fig: Any, *, title: str | None = None, height: int | None = None) -> Any:
    """Apply the Klantreis layout to a Plotly figure and return it."""
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 13},
        colorway=list(PALETTE),
        margin={"l": 60, "r": 30, "t": 60 if title else 30, "b": 50},
        title={"text": title} if title else None,
        legend={"orientation": "h", "y": -0.15},
    )
    if height:
        fig.update_layout(height=height)
    return fig
