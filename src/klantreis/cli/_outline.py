"""The terminal outline of a journey (`klantreis show`)."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from klantreis.i18n import format_date, t
from klantreis.model import Journey, text_in


def outline(journey: Journey, lang: str) -> Group:
    parts: list = []
    head = Text(journey.label(lang), style="bold")
    if journey.description:
        head.append("\n" + text_in(journey.description, lang))
    if journey.goal:
        g = journey.goal
        head.append(f"\n{t('common.goal', lang).capitalize()}: {text_in(g.description, lang)}")
        head.append(
            f" ({g.metric}: {g.baseline if g.baseline is not None else '?'} → {g.target}, "
            f"{format_date(g.deadline, lang)})"
        )
    parts.append(Panel(head, expand=False))
    for phase in journey.ordered_phases():
        table = Table(
            title=f"{phase.label(lang)} · {t('common.' + phase.part + '_journey', lang)}",
            title_justify="left",
            show_edge=False,
        )
        table.add_column(t("common.touchpoint", lang))
        table.add_column(t("common.channel", lang))
        table.add_column(t("common.current_experience", lang), justify="right")
        table.add_column(t("common.desired_experience", lang), justify="right")
        table.add_column(t("common.pain_points", lang))
        for tp in journey.touchpoints_in(phase.key):
            name = tp.label(lang) + (" ★" if tp.conversion else "")
            table.add_row(
                name,
                tp.channel or "",
                _score(tp.experience.current),
                _score(tp.experience.desired),
                "; ".join(p.label(lang) for p in tp.pain_points),
            )
        parts.append(table)
    counts = journey.summary()
    parts.append(
        Text(
            ", ".join(
                f"{counts[k]} {t('common.' + k, lang)}"
                for k in ("touchpoints", "channels", "personas", "triggers", "improvements")
            ),
            style="dim",
        )
    )
    return Group(*parts)


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
