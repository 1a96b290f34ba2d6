"""Comparison: the compared measure per row, one bar series per group; * = significant."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import apply_style

_MEASURES = ("share", "rate", "score", "conversion_from_start", "customers")


def compare_figure(result: Any, *, lang: str = "en", measure: str | None = None, **_: Any) -> Any:
    """Grouped bars of ``measure`` (default: share, rate or score) per row and group."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    df = result.table
    measure = measure or next((m for m in _MEASURES if m in df.columns), None)
    if measure is None:
        raise ValueError(f"nothing to draw: give measure= one of {', '.join(df.columns)}")
    ident = [c for c in df.columns if c != "group" and df[c].dtype.kind not in "if"]
    labels = (
        [" ".join(str(v) for v in row) for row in df[ident].itertuples(index=False)]
        if ident
        else [""] * len(df)
    )
    df = df.assign(_label=labels)
    flagged: set[tuple[str, str]] = set()
    tests = result.extras.get("tests")
    if tests is not None and len(tests):
        tident = [c for c in ident if c in tests.columns]
        for _, row in tests[tests["significant"]].iterrows():
            label = " ".join(str(row[c]) for c in tident) if tident else ""
            flagged.add((label, str(row["group_b"])))
    fig = go.Figure()
    for group in dict.fromkeys(df["group"]):
        part = df[df["group"] == group]
        fig.add_bar(
            name=str(group),
            x=part["_label"].tolist(),
            y=part[measure].tolist(),
            text=["*" if (lab, str(group)) in flagged else "" for lab in part["_label"]],
            textposition="outside",
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    fig.update_yaxes(title=measure)
    title = t(
        "loyalty.compare.title",
        lang,
        analytic=result.params.get("analytic", ""),
        by=result.params.get("by", ""),
    )
    if flagged:
        fig.add_annotation(
            text=t("loyalty.compare.significant", lang),
            xref="paper",
            yref="paper",
            x=1,
            y=1.08,
            showarrow=False,
        )
    return apply_style(fig, title=title)
