"""The terminal outline of a journey (`klantreis show`).

One block per part of the map: the head (name, scope, owner, SMART goal), one table
per phase (touchpoints with channel, scores, emotion and pain points; conversion,
referral and end-of-relationship marked), then personas, triggers and improvements.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from klantreis.i18n import format_date, format_number, format_percent, t
from klantreis.model import Journey, Touchpoint, text_in

__all__ = ["outline"]

MARKS = {"conversion": "★", "referral": "♥", "ends_relationship": "✕"}


def outline(journey: Journey, lang: str, *, state: str = "as-is") -> Group:
    """The journey as rich renderables: head, phases, personas, triggers, improvements."""
    parts: list[Any] = [_head(journey, lang, state)]
    for phase in journey.ordered_phases():
        parts.append(_phase(journey, phase.key, lang, state))
    if journey.personas:
        parts.append(_personas(journey, lang))
    if journey.triggers:
        parts.append(_triggers(journey, lang))
    if journey.improvements:
        parts.append(_improvements(journey, lang))
    legend = "  ".join(f"{mark} {t('cli.show.' + name, lang)}" for name, mark in MARKS.items())
    counts = journey.summary()
    summary = ", ".join(
        f"{counts[k]} {t('common.' + k, lang)}"
        for k in ("touchpoints", "channels", "personas", "triggers", "improvements")
    )
    parts.append(Text(f"{legend}\n{summary}", style="dim", no_wrap=False))
    return Group(*parts)


def _head(journey: Journey, lang: str, state: str) -> Panel:
    head = Text(journey.label(lang), style="bold", no_wrap=False)  # wraps under soft_wrap too
    if journey.description:
        head.append("\n" + text_in(journey.description, lang))
    scope = t(f"cli.show.scope_{journey.scope.kind}", lang)
    if journey.scope.value:
        scope += f": {journey.scope.value}"
    facts = [f"{t('cli.show.scope', lang)}: {scope}"]
    if journey.owner:
        facts.append(f"{t('cli.show.owner', lang)}: {journey.owner}")
    facts.append(
        f"{t('cli.show.state', lang)}: {t('cli.show.state_' + state.replace('-', '_'), lang)}"
    )
    head.append("\n" + " · ".join(facts), style="dim")
    if journey.goal:
        g = journey.goal
        head.append(f"\n{t('common.goal', lang).capitalize()}: ", style="bold")
        head.append(text_in(g.description, lang))
        baseline = _value(g.baseline, lang) if g.baseline is not None else "?"
        head.append(
            "\n  "
            + t(
                "cli.show.goal_line",
                lang,
                metric=g.metric,
                baseline=baseline,
                target=_value(g.target, lang),
                deadline=format_date(g.deadline, lang),
            )
        )
        if g.owner:
            head.append(f" · {t('cli.show.owner', lang)}: {g.owner}")
    return Panel(head, expand=False)


def _value(number: float, lang: str) -> str:
    """Goal values: shares below 1 as percentages, other numbers as numbers."""
    if 0 < abs(number) < 1:
        return format_percent(number, lang, digits=0)
    return format_number(number, lang)


def _phase(journey: Journey, phase: str, lang: str, state: str) -> Table:
    p = journey.phase(phase)
    part = t(f"common.{p.part}_journey", lang)
    table = Table(title=f"{p.label(lang)} · {part}", title_justify="left", title_style="bold")
    table.add_column(t("common.touchpoint", lang))
    table.add_column(t("common.channel", lang))
    table.add_column(t("cli.show.current", lang), justify="right")
    table.add_column(t("cli.show.desired", lang), justify="right")
    table.add_column(t("cli.show.emotion", lang))
    table.add_column(t("common.pain_points", lang))
    channels = {c.key: c.label(lang) for c in journey.channels}
    for tp in journey.touchpoints_in(phase, state):
        table.add_row(
            *_cells(
                _name(tp, lang),
                channels.get(tp.channel or "", tp.channel or ""),
                _score(tp.experience.current),
                _score(tp.experience.desired),
                tp.experience.emotion or "",
                "\n".join(
                    f"[{t('cli.show.severity_' + pp.severity, lang)}] {pp.label(lang)}"
                    for pp in tp.pain_points
                ),
            )
        )
    return table


def _name(tp: Touchpoint, lang: str) -> str:
    marks = "".join(mark for name, mark in MARKS.items() if getattr(tp, name))
    return tp.label(lang) + (f" {marks}" if marks else "")


def _personas(journey: Journey, lang: str) -> Table:
    table = Table(title=t("common.personas", lang).capitalize(), title_justify="left")
    table.add_column(t("common.persona", lang))
    table.add_column(t("cli.show.goals", lang))
    table.add_column(t("cli.show.needs", lang))
    table.add_column(t("cli.show.preferred_channels", lang))
    table.add_column(t("cli.show.match", lang))
    channels = {c.key: c.label(lang) for c in journey.channels}
    for persona in journey.personas:
        who = persona.label(lang)
        about = ", ".join(
            x for x in (str(persona.age or ""), text_in(persona.occupation, lang)) if x
        )
        match = ", ".join(
            f"{k}={'|'.join(v) if isinstance(v, list) else v}" for k, v in persona.match.items()
        )
        table.add_row(
            *_cells(
                who + (f"\n{about}" if about else ""),
                "\n".join(text_in(g, lang) for g in persona.goals),
                "\n".join(text_in(n, lang) for n in persona.needs),
                ", ".join(channels.get(c, c) for c in persona.channels),
                match,
            )
        )
    return table


def _triggers(journey: Journey, lang: str) -> Table:
    table = Table(title=t("common.triggers", lang).capitalize(), title_justify="left")
    table.add_column(t("common.trigger", lang))
    table.add_column(t("cli.show.kind", lang))
    table.add_column(t("common.phase", lang))
    table.add_column(t("common.touchpoint", lang))
    phases = {p.key: p.label(lang) for p in journey.phases}
    tps = {tp.key: tp.label(lang) for tp in journey.touchpoints}
    for trig in journey.triggers:
        table.add_row(
            *_cells(
                trig.label(lang),
                t(f"cli.show.trigger_{trig.kind}", lang),
                phases.get(trig.phase, trig.phase),
                tps.get(trig.touchpoint or "", trig.touchpoint or ""),
            )
        )
    return table


def _improvements(journey: Journey, lang: str) -> Table:
    table = Table(title=t("common.improvements", lang).capitalize(), title_justify="left")
    table.add_column(t("cli.show.improvement", lang))
    table.add_column(t("common.touchpoint", lang))
    table.add_column(t("cli.show.owner", lang))
    table.add_column(t("cli.show.status", lang))
    table.add_column(t("cli.show.effort", lang))
    table.add_column(t("cli.show.due", lang))
    tps = {tp.key: tp.label(lang) for tp in journey.touchpoints}
    for imp in journey.improvements:
        table.add_row(
            *_cells(
                imp.label(lang),
                tps.get(imp.touchpoint, imp.touchpoint),
                imp.owner or "",
                t(f"cli.show.status_{imp.status}", lang),
                t(f"cli.show.severity_{imp.effort}", lang),
                format_date(imp.due, lang) if imp.due else "",
            )
        )
    return table


def _cells(*values: str) -> list[Text]:
    """Table cells as plain text: '[' in a user's text is not rich markup."""
    return [Text(v) for v in values]


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
