"""What-if charts: the scenario's difference per outcome, or the ranking of improvements.

Built from a ``whatif`` Result only (never querying): ``params['kind']`` 'compare' gives
one bar per outcome (the difference, relative to the baseline, with its 95% interval);
'rank' gives one horizontal bar per touchpoint (the gain, with its interval), best on top.
"""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import BAD, GOOD, NEUTRAL, apply_style

__all__ = ["whatif_figure"]

_LABELS = {
    "en": {
        "conversion": "Conversion",
        "time_to_convert_days": "Days to convert",
        "revenue_per_customer": "Revenue per customer",
        "nps": "NPS",
        "compare": "What if: change against today (95% interval)",
        "rank": "Where the same improvement pays most",
        "relative": "difference relative to today",
        "gain": "gain in {metric}",
    },
    "nl": {
        "conversion": "Conversie",
        "time_to_convert_days": "Dagen tot conversie",
        "revenue_per_customer": "Omzet per klant",
        "nps": "NPS",
        "compare": "Wat als: verandering tegenover nu (95%-interval)",
        "rank": "Waar dezelfde verbetering het meeste oplevert",
        "relative": "verschil ten opzichte van nu",
        "gain": "winst in {metric}",
    },
}


def whatif_figure(result: Any, *, lang: str = "en", title: str | None = None) -> Any:
    """The Plotly figure of a what-if result (compare or rank)."""
    import math

    import plotly.graph_objects as go

    labels = _LABELS.get(lang, _LABELS["en"])
    df = result.table
    fig = go.Figure()
    if result.params.get("kind") == "rank":
        metric = result.params.get("metric", "conversion")
        gain = df[f"{metric}_gain"].tolist()[::-1]
        lo = df["ci_low"].tolist()[::-1]
        hi = df["ci_high"].tolist()[::-1]
        fig.add_bar(
            x=gain,
            y=df["touchpoint"].tolist()[::-1],
            orientation="h",
            marker_color=[GOOD if g > 0 else NEUTRAL for g in gain],
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [0 if math.isnan(h) else h - g for g, h in zip(gain, hi, strict=True)],
                "arrayminus": [
                    0 if math.isnan(low) else g - low for g, low in zip(gain, lo, strict=True)
                ],
            },
        )
        fig.update_xaxes(title=labels["gain"].format(metric=labels.get(metric, metric)))
        return apply_style(fig, title=title or labels["rank"], height=120 + 40 * len(df))
    rel, minus, plus, colours = [], [], [], []
    for row in df.itertuples(index=False):
        base = abs(row.baseline) if row.baseline == row.baseline and row.baseline else 1.0
        r = row.difference / base if row.difference == row.difference else 0.0
        rel.append(r)
        minus.append(0 if row.ci_low != row.ci_low else r - row.ci_low / base)
        plus.append(0 if row.ci_high != row.ci_high else row.ci_high / base - r)
        good = r < 0 if row.metric == "time_to_convert_days" else r > 0
        colours.append(NEUTRAL if not row.significant else GOOD if good else BAD)
    fig.add_bar(
        x=[labels.get(m, m) for m in df["metric"]],
        y=rel,
        marker_color=colours,
        error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
    )
    fig.update_yaxes(title=labels["relative"], tickformat=".0%")
    return apply_style(fig, title=title or labels["compare"])
