"""The journey map: HTML with an inline SVG, or a stand-alone SVG.

Top to bottom: header (persona, scenario, goal, scope, owner, date); the buyer and user
journey bands; phases as columns over their touchpoints; touchpoints (channel icon,
online/offline); customer actions; thoughts and quotes; the experience curve (designed
current line, desired line, the gap between them shaded, and the measured line with its
95% band when :class:`~klantreis.render.metrics.MapMetrics` carry it); pain points by
severity; opportunities and improvements (owner, status); the measured numbers; and, for
``state="both"``, what changes from as-is to to-be. Evidence (observed, reported,
assumed, proposed) is shown by the marker shape, explained in the legend.

The layout is computed here, so every lane is as tall as its fullest cell and nothing
overlaps, for any number of phases and touchpoints. Every text from the journey is
escaped.

    >>> from klantreis.model import Journey, Touchpoint
    >>> j = Journey(key="j", name="Demo", touchpoints=[
    ...     Touchpoint(key="site", name="<b>Website</b>", phase="awareness")])
    >>> svg = journey_map_svg(j, lang="en")
    >>> "&lt;b&gt;Website&lt;/b&gt;" in svg and "<b>" not in svg
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from klantreis.i18n import check_language, format_date, format_number, format_percent, t
from klantreis.model.journey import text_in
from klantreis.render._icons import icon, icon_name
from klantreis.render._layout import Column, PhaseGroup, check_state, columns, differences
from klantreis.render._svg import FONT, el, esc, text_block, wrap
from klantreis.render.metrics import MapMetrics, TouchpointMetrics

if TYPE_CHECKING:
    from klantreis.model.journey import Journey, Persona, Touchpoint

__all__ = ["format_seconds", "journey_map", "journey_map_fragment", "journey_map_svg"]

# Geometry (px).
MARGIN = 16
LABEL_W = 150
COL_W = 210
GUTTER = 8
PAD = 8
SIZE = 12
LINE = 16
MARK_INDENT = 15
EMOTION_PLOT_H = 170

# Colours.
INK, MUTED, RULE = "#1F2937", "#6B7280", "#E5E7EB"
BUYER, USER = "#DBEAFE", "#DCFCE7"
CURRENT, DESIRED, MEASURED, TOBE, GAP = "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#D55E00"
SEVERITY = {"low": "#F0E442", "medium": "#E69F00", "high": "#D55E00"}
STATUS = {
    "idea": "#9CA3AF",
    "planned": "#56B4E9",
    "in_progress": "#E69F00",
    "done": "#009E73",
    "dropped": "#6B7280",
}
OVERLAY_COLOURS = ("#56B4E9", "#CC79A7", "#000000", "#F0E442", "#8A8F98")
EVIDENCE = ("observed", "reported", "assumed", "proposed")


# -- items: wrapped text blocks inside a cell -------------------------------------
@dataclass
class _Item:
    text: str
    evidence: str | None = None
    bold: bool = False
    italic: bool = False
    colour: str = INK
    size: float = SIZE
    bar: str | None = None  # colour of a bar on the left (severity, status)
    indent: float = 0
    css: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def measure(self, width: float) -> float:
        inner = width - self.indent - (MARK_INDENT if self.evidence else 0) - (6 if self.bar else 0)
        self.lines = wrap(self.text, inner, self.size, bold=self.bold) or [""]
        return len(self.lines) * (self.size + 4) + 6


def _marker(level: str, cx: float, cy: float, r: float = 4.5, colour: str = INK) -> str:
    """The evidence marker: observed = filled circle, reported = filled diamond,
    assumed = open circle, proposed = open triangle."""
    attrs: dict[str, Any] = {"class_": f"evidence evidence-{level}", "data_evidence": level}
    if level == "observed":
        return el("circle", cx=cx, cy=cy, r=r, fill=colour, **attrs)
    if level == "reported":
        pts = f"{cx},{cy - r - 1} {cx + r + 1},{cy} {cx},{cy + r + 1} {cx - r - 1},{cy}"
        return el("polygon", points=pts, fill=colour, **attrs)
    if level == "proposed":
        pts = f"{cx},{cy - r - 1} {cx + r + 1},{cy + r} {cx - r - 1},{cy + r}"
        return el("polygon", points=pts, fill="#FFFFFF", stroke=colour, stroke_width=1.5, **attrs)
    return el("circle", cx=cx, cy=cy, r=r, fill="#FFFFFF", stroke=colour, stroke_width=1.5, **attrs)


def _draw_items(items: list[_Item], x: float, y: float) -> tuple[str, float]:
    out = []
    for item in items:
        height = len(item.lines) * (item.size + 4) + 6
        tx = x + item.indent
        if item.bar:
            out.append(el("rect", x=tx, y=y + 1, width=3, height=height - 6, fill=item.bar, rx=1))
            tx += 6
        if item.evidence:
            out.append(_marker(item.evidence, tx + 5, y + item.size * 0.55 + 1))
            tx += MARK_INDENT
        attrs: dict[str, Any] = {"fill": item.colour, "class_": item.css or None}
        if item.bold:
            attrs["font_weight"] = "bold"
        if item.italic:
            attrs["font_style"] = "italic"
        for key, value in item.data.items():
            attrs[f"data_{key}"] = value
        out.append(
            text_block(
                item.lines, tx, y + item.size, size=item.size, line_height=item.size + 4, **attrs
            )
        )
        y += height
    return "".join(out), y


# -- formatting ---------------------------------------------------------------------
def format_seconds(seconds: float | None, lang: str) -> str:
    """A duration in the locale's number format: '45 s', '1,5 h' (nl), '2.0 d' (en)."""
    if seconds is None or seconds != seconds:
        return "–"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            value = seconds / size
            return f"{format_number(value, lang, digits=1 if value < 10 else 0)} {unit}"
    return f"{format_number(seconds, lang, digits=0)} s"


def _metric_lines(m: TouchpointMetrics, lang: str) -> list[tuple[str, str, str]]:
    """(field, label, formatted value) for the fields present."""
    rows = []
    if m.customers is not None:
        rows.append(
            (
                "customers",
                t("render.metric.customers", lang),
                format_number(m.customers, lang, digits=0),
            )
        )
    if m.conversion is not None:
        rows.append(
            ("conversion", t("render.metric.conversion", lang), format_percent(m.conversion, lang))
        )
    if m.dropoff is not None:
        rows.append(("dropoff", t("render.metric.dropoff", lang), format_percent(m.dropoff, lang)))
    if m.median_seconds is not None:
        rows.append(
            (
                "median_seconds",
                t("render.metric.median_time", lang),
                format_seconds(m.median_seconds, lang),
            )
        )
    if m.nps is not None:
        rows.append(("nps", t("render.metric.nps", lang), format_number(m.nps, lang, digits=0)))
    if m.csat is not None:
        rows.append(("csat", t("render.metric.csat", lang), format_percent(m.csat, lang)))
    if m.ces is not None:
        rows.append(("ces", t("render.metric.ces", lang), format_number(m.ces, lang, digits=1)))
    if m.emotion is not None:
        rows.append(
            ("emotion", t("render.metric.emotion", lang), format_number(m.emotion, lang, digits=1))
        )
    return rows


# -- lanes ----------------------------------------------------------------------
def _statements(
    items: list[Any], lang: str, *, quote: bool = False, pain: bool = False
) -> list[_Item]:
    out = []
    for s in items:
        text = s.label(lang)
        if quote:
            text = f"“{text}”"
        item = _Item(text, evidence=s.evidence.level, italic=quote)
        if pain:
            item.text = f"{t(f'render.severity.{s.severity}', lang)}: {text}"
            item.bar = SEVERITY[s.severity]
            item.data = {"severity": s.severity}
        out.append(item)
    return out


def _tobe_items(col: Column, attr: str, lang: str, build: Any) -> list[_Item]:
    """In the 'both' map: the to-be version of a lane's content, where it differs."""
    if col.state != "both" or col.asis is None or col.tobe is None:
        return []
    if attr not in differences(col):
        return []
    items = build(col.tobe)
    head = _Item(t("render.diff.tobe", lang) + ":", bold=True, colour=TOBE, size=10, css="tobe")
    if not items:
        items = [_Item(t("render.diff.none", lang), italic=True)]
    for item in items:
        item.colour = TOBE
        item.css = "tobe"
    return [head, *items]


def _touchpoint_items(col: Column, journey: Journey, lang: str) -> list[_Item]:
    tp = col.shown
    if tp is None:
        return []
    items = [
        _Item(tp.label(lang), bold=True, indent=30, css="tp-name", data={"touchpoint": tp.key})
    ]
    channel_label, kind = _channel(journey, tp, lang)
    detail = " · ".join(
        x for x in (channel_label, t(f"render.mode.{kind}", lang) if kind else "") if x
    )
    if detail:
        items.append(
            _Item(
                detail,
                colour=MUTED,
                size=11,
                indent=30,
                css="tp-channel",
                data={"mode": kind or ""},
            )
        )
    if col.state == "both":
        diff = differences(col)
        if diff in (["new"], ["removed"]):
            label = t(f"render.diff.{diff[0]}", lang)
            items.append(_Item(label, bold=True, colour=TOBE, size=10, css=f"diff-{diff[0]}"))
        elif "name" in diff or "channel" in diff:
            assert col.tobe is not None
            label, _kind2 = _channel(journey, col.tobe, lang)
            text = " · ".join(x for x in (col.tobe.label(lang), label) if x)
            items.append(
                _Item(f"{t('render.diff.tobe', lang)}: {text}", colour=TOBE, size=11, css="tobe")
            )
    return items


def _channel(journey: Journey, tp: Touchpoint, lang: str) -> tuple[str, str | None]:
    channel = next((c for c in journey.channels if c.key == tp.channel), None)
    label = channel.label(lang) if channel else (tp.channel or "")
    kind = tp.mode or (channel.kind if channel else None)
    return label, kind


def _icon_for(journey: Journey, tp: Touchpoint, lang: str) -> str:
    channel = next((c for c in journey.channels if c.key == tp.channel), None)
    kind = tp.mode or (channel.kind if channel else None)
    return icon_name(tp.channel, kind, channel.label(lang) if channel else None)


def _lane_items(
    lane: str, col: Column, journey: Journey, lang: str, metrics: MapMetrics | None
) -> list[_Item]:
    tp = col.shown
    if tp is None:
        return []
    if lane == "touchpoints":
        return _touchpoint_items(col, journey, lang)
    if lane == "actions":

        def build(x: Touchpoint) -> list[_Item]:
            return [_Item(text_in(x.action, lang))] if x.action else []

        return build(tp) + _tobe_items(col, "action", lang, build)
    if lane == "thoughts":

        def build(x: Touchpoint) -> list[_Item]:
            return _statements(x.thoughts, lang, quote=True)

        return build(tp) + _tobe_items(col, "thoughts", lang, build)
    if lane == "pain_points":

        def build(x: Touchpoint) -> list[_Item]:
            return _statements(x.pain_points, lang, pain=True)

        return build(tp) + _tobe_items(col, "pain_points", lang, build)
    if lane == "opportunities":

        def build(x: Touchpoint) -> list[_Item]:
            return _statements(x.opportunities, lang)

        items = build(tp) + _tobe_items(col, "opportunities", lang, build)
        for imp in journey.improvements:
            if imp.touchpoint != tp.key:
                continue
            items.append(
                _Item(
                    imp.label(lang),
                    evidence=imp.evidence.level,
                    bold=True,
                    bar=STATUS[imp.status],
                    css="improvement",
                    data={"status": imp.status, "improvement": imp.key},
                )
            )
            meta = [t(f"render.status.{imp.status}", lang)]
            if imp.owner:
                meta.append(imp.owner)
            if imp.due:
                meta.append(format_date(imp.due, lang))
            items.append(
                _Item(
                    " · ".join(meta),
                    colour=MUTED,
                    size=11,
                    bar=STATUS[imp.status],
                    css="improvement-meta",
                )
            )
        return items
    if lane == "metrics" and metrics is not None:
        m = metrics.for_touchpoint(tp.key)
        return [
            _Item(f"{label}: {value}", size=11, css="metric", data={"metric": fld, "value": value})
            for fld, label, value in _metric_lines(m, lang)
        ]
    if lane == "difference":
        diff = differences(col)
        if diff in (["new"], ["removed"]):
            return [
                _Item(
                    t(f"render.diff.{diff[0]}", lang), bold=True, colour=TOBE, css=f"diff-{diff[0]}"
                )
            ]
        if not diff:
            return [_Item(t("render.diff.unchanged", lang), colour=MUTED, css="diff-none")]
        items = [
            _Item(
                ", ".join(t(f"render.diff.field.{f}", lang) for f in diff),
                colour=TOBE,
                css="diff-fields",
                data={"changed": " ".join(diff)},
            )
        ]
        assert col.asis is not None and col.tobe is not None
        before, after = col.asis.experience.current, col.tobe.experience.current
        if before is not None and after is not None and before != after:
            delta = after - before
            sign = "+" if delta > 0 else ""
            items.append(
                _Item(
                    f"{t('render.lane.emotion', lang)}: {format_number(before, lang)} → "
                    f"{format_number(after, lang)} ({sign}{format_number(delta, lang)})",
                    colour=TOBE,
                    size=11,
                    css="diff-experience",
                    data={"delta": delta},
                )
            )
        return items
    return []


# -- the SVG -----------------------------------------------------------------------
@dataclass
class _Geometry:
    x0: float
    xs: list[float]  # left x of each column
    width: float


def _geometry(groups: list[PhaseGroup]) -> _Geometry:
    n = sum(len(g.columns) for g in groups)
    x0 = MARGIN + LABEL_W
    xs = [x0 + i * (COL_W + GUTTER) for i in range(n)]
    return _Geometry(x0, xs, x0 + n * (COL_W + GUTTER) - GUTTER + MARGIN)


def _header_lines(
    journey: Journey,
    lang: str,
    state: str,
    persona: Persona | None,
    metrics: MapMetrics | None,
    today: date | None,
) -> list[tuple[str, str]]:
    """(label, value) pairs of the header."""
    rows = [
        (
            t("render.header.persona", lang),
            persona.label(lang) if persona else t("render.header.all_customers", lang),
        )
    ]
    if persona is not None:
        story = text_in(persona.story, lang)
        if story:
            rows.append(("", story))
        for attr in ("goals", "needs", "frustrations"):
            values = [text_in(v, lang) for v in getattr(persona, attr)]
            if values:
                rows.append((t(f"render.header.{attr}", lang), "; ".join(values)))
    if journey.scenario:
        rows.append((t("render.header.scenario", lang), text_in(journey.scenario, lang)))
    if journey.goal is not None:
        rows.append((t("render.header.goal", lang), goal_text(journey, lang)))
    scope = journey.scope
    rows.append(
        (
            t("render.header.scope", lang),
            t(f"render.scope.{scope.kind}", lang, value=scope.value or ""),
        )
    )
    if journey.owner:
        rows.append((t("render.header.owner", lang), journey.owner))
    when = journey.updated or today
    if when is not None:
        rows.append((t("render.header.date", lang), format_date(when, lang)))
    rows.append((t("render.header.state", lang), t(f"render.state.{state}", lang)))
    if metrics is not None and metrics.label:
        rows.append((t("render.header.measured", lang), metrics.label))
    return rows


def goal_text(journey: Journey, lang: str) -> str:
    """The SMART goal in one sentence."""
    goal = journey.goal
    if goal is None:
        return ""
    baseline = (
        t("render.goal.from", lang, value=_num(goal.baseline, lang))
        if goal.baseline is not None
        else ""
    )
    return t(
        "render.goal.text",
        lang,
        description=text_in(goal.description, lang),
        metric=goal.metric,
        baseline=baseline,
        target=_num(goal.target, lang),
        deadline=format_date(goal.deadline, lang),
    )


def _num(value: float, lang: str) -> str:
    return format_number(value, lang) if value is not None else "–"


def _resolve_persona(journey: Journey, persona: str | None) -> Persona | None:
    return journey.persona(persona) if persona else None


def journey_map_svg(
    journey: Journey,
    *,
    lang: str | None = None,
    state: str = "as-is",
    persona: str | None = None,
    metrics: MapMetrics | None = None,
    header: bool = True,
    today: date | None = None,
) -> str:
    """The map as a stand-alone SVG document (text wrapped and escaped, fonts generic)."""
    lang = check_language(lang or journey.language)
    check_state(state)
    who = _resolve_persona(journey, persona)
    groups = columns(journey, state)
    cols = [c for g in groups for c in g.columns]
    geo = _geometry(groups)
    out: list[str] = []
    y = MARGIN

    if header:
        title = journey.label(lang)
        out.append(
            text_block(
                wrap(title, geo.width - 2 * MARGIN, 20, bold=True),
                MARGIN,
                y + 20,
                size=20,
                font_weight="bold",
                fill=INK,
                class_="map-title",
            )
        )
        y += 20 * 1.3 * len(wrap(title, geo.width - 2 * MARGIN, 20, bold=True)) + 6
        for label, value in _header_lines(journey, lang, state, who, metrics, today):
            lines = wrap(value, geo.width - 2 * MARGIN - LABEL_W, SIZE) or [""]
            if label:
                out.append(
                    text_block([label], MARGIN, y + SIZE, size=SIZE, font_weight="bold", fill=MUTED)
                )
            out.append(
                text_block(
                    lines,
                    MARGIN + LABEL_W,
                    y + SIZE,
                    size=SIZE,
                    line_height=LINE,
                    fill=INK,
                    class_="header-value",
                )
            )
            y += LINE * len(lines) + 2
        y += 8

    # Buyer / user journey bands.
    out.append(_lane_label(t("render.lane.part", lang), y, 26))
    i = 0
    runs: list[tuple[str, int, int]] = []
    for g in groups:
        n = len(g.columns)
        if runs and runs[-1][0] == g.phase.part:
            runs[-1] = (g.phase.part, runs[-1][1], runs[-1][2] + n)
        else:
            runs.append((g.phase.part, i, n))
        i += n
    for part, start, n in runs:
        x = geo.xs[start]
        w = n * (COL_W + GUTTER) - GUTTER
        label = t("common.buyer_journey" if part == "buyer" else "common.user_journey", lang)
        out.append(
            el(
                "rect",
                x=x,
                y=y,
                width=w,
                height=24,
                rx=4,
                fill=BUYER if part == "buyer" else USER,
                class_=f"part part-{part}",
                data_part=part,
            )
        )
        out.append(text_block([label], x + PAD, y + 16, size=SIZE, font_weight="bold", fill=INK))
    y += 32

    # Phases.
    phase_h = 0.0
    phase_items: list[tuple[PhaseGroup, float, float, list[_Item]]] = []
    i = 0
    for g in groups:
        n = len(g.columns)
        x = geo.xs[i]
        w = n * (COL_W + GUTTER) - GUTTER
        items = [
            _Item(
                g.phase.label(lang),
                bold=True,
                size=13,
                colour="#FFFFFF",
                css="phase-name",
                data={"phase": g.phase.key},
            )
        ]
        if metrics is not None:
            pm = metrics.for_phase(g.phase.key)
            for fld, label, value in _metric_lines(pm, lang):
                items.append(
                    _Item(
                        f"{label}: {value}",
                        size=11,
                        colour=RULE,
                        css="metric phase-metric",
                        data={"metric": fld, "value": value},
                    )
                )
        phase_h = max(phase_h, sum(it.measure(w - 2 * PAD) for it in items))
        phase_items.append((g, x, w, items))
        i += n
    phase_h += 2 * PAD
    out.append(_lane_label(t("render.lane.phases", lang), y, phase_h))
    for g, x, w, items in phase_items:
        body, _ = _draw_items(items, x + PAD, y + PAD)
        out.append(
            el(
                "g",
                el("rect", x=x, y=y, width=w, height=phase_h, rx=4, fill="#374151") + body,
                class_="phase",
                data_phase=g.phase.key,
                data_columns=len(g.columns),
            )
        )
    y += phase_h + GUTTER

    lanes = ["touchpoints", "actions", "thoughts", "emotion", "pain_points", "opportunities"]
    if metrics is not None:
        lanes.append("metrics")
    if state == "both":
        lanes.append("difference")
    for lane in lanes:
        if lane == "emotion":
            svg, height = _emotion_lane(journey, cols, geo, y, lang, state, metrics)
            out.append(svg)
            y += height + GUTTER
            continue
        cell_items = [_lane_items(lane, c, journey, lang, metrics) for c in cols]
        height = (
            max([sum(it.measure(COL_W - 2 * PAD) for it in items) for items in cell_items] + [20])
            + 2 * PAD
        )
        parts = [_lane_label(t(f"render.lane.{lane}", lang), y, height)]
        for c, x, items in zip(cols, geo.xs, cell_items, strict=True):
            cell = [
                el(
                    "rect",
                    x=x,
                    y=y,
                    width=COL_W,
                    height=height,
                    rx=4,
                    fill="#F9FAFB",
                    stroke=RULE,
                    class_="cell",
                )
            ]
            if lane == "touchpoints" and c.shown is not None:
                colour = TOBE if state == "both" and differences(c) == ["new"] else INK
                cell.append(icon(_icon_for(journey, c.shown, lang), x + PAD, y + PAD, 24, colour))
            body, _ = _draw_items(items, x + PAD, y + PAD)
            cell.append(body)
            parts.append(
                el(
                    "g",
                    "".join(cell),
                    class_="cell-group",
                    data_touchpoint=c.key or "",
                    data_phase=c.phase,
                )
            )
        out.append(el("g", "".join(parts), class_=f"lane lane-{lane}", data_lane=lane))
        y += height + GUTTER

    legend, legend_h = _legend(geo, y, lang, state, metrics)
    out.append(legend)
    y += legend_h + MARGIN
    width, height = geo.width, y
    style = el(
        "style",
        esc(f"text{{font-family:{FONT};}} .cell-group text{{dominant-baseline:auto;}}"),
    )
    body = "".join(out)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="journey-map" lang="{esc(lang)}" '
        f'xml:lang="{esc(lang)}" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{esc(t("render.map.title", lang) + ": " + journey.label(lang))}" '
        f'data-state="{esc(state)}" data-persona="{esc(persona or "")}">'
        f"{el('title', esc(journey.label(lang)))}{style}"
        f"{el('rect', x=0, y=0, width=width, height=height, fill='#FFFFFF')}{body}</svg>"
    )


def _lane_label(label: str, y: float, height: float) -> str:
    lines = wrap(label, LABEL_W - 2 * PAD, SIZE, bold=True)
    return text_block(
        lines,
        MARGIN,
        y + PAD + SIZE,
        size=SIZE,
        line_height=LINE,
        font_weight="bold",
        fill=MUTED,
        class_="lane-label",
    )


def _emotion_lane(
    journey: Journey,
    cols: list[Column],
    geo: _Geometry,
    y: float,
    lang: str,
    state: str,
    metrics: MapMetrics | None,
) -> tuple[str, float]:
    lo, hi = float(journey.scale.min), float(journey.scale.max)
    top = y + PAD + 6
    plot_h = EMOTION_PLOT_H

    def sy(v: float) -> float:
        v = min(max(v, lo), hi)
        return top + (hi - v) / (hi - lo) * plot_h

    centres = [x + COL_W / 2 for x in geo.xs]
    out: list[str] = []
    # Emotion words under the plot.
    words = []
    for c in cols:
        tp = c.shown
        words.append(
            [_Item(tp.experience.emotion, italic=True, size=11, colour=MUTED, css="emotion-word")]
            if tp is not None and tp.experience.emotion
            else []
        )
    words_h = max([sum(it.measure(COL_W - 2 * PAD) for it in w) for w in words] + [0])
    height = plot_h + 12 + PAD * 2 + words_h + 4
    out.append(_lane_label(t("render.lane.emotion", lang), y, height))
    out.append(
        el(
            "rect",
            x=geo.x0,
            y=y,
            width=geo.width - geo.x0 - MARGIN,
            height=height,
            rx=4,
            fill="#F9FAFB",
            stroke=RULE,
        )
    )
    # Grid with scale labels.
    step = 1.0 if hi - lo <= 10 else (hi - lo) / 5
    v = lo
    while v <= hi + 1e-9:
        gy = sy(v)
        out.append(
            el("line", x1=geo.x0, x2=geo.width - MARGIN, y1=gy, y2=gy, stroke=RULE, stroke_width=1)
        )
        label = text_in(journey.scale.labels.get(f"{v:g}"), lang, f"{format_number(v, lang)}")
        out.append(text_block([label], geo.x0 - 6, gy + 4, size=10, fill=MUTED, text_anchor="end"))
        v += step

    def series(get: Any) -> list[float | None]:
        return [get(c) for c in cols]

    current = series(
        lambda c: (
            c.asis.experience.current
            if state != "to-be" and c.asis is not None
            else (c.tobe.experience.current if state == "to-be" and c.tobe is not None else None)
        )
    )
    desired = series(lambda c: c.shown.experience.desired if c.shown is not None else None)
    tobe = (
        series(lambda c: c.tobe.experience.current if c.tobe is not None else None)
        if state == "both"
        else []
    )

    # Gap between current and desired, shaded.
    for i, (c_v, d_v) in enumerate(zip(current, desired, strict=True)):
        if c_v is None or d_v is None:
            continue
        out.append(
            el(
                "rect",
                x=centres[i] - 7,
                y=min(sy(c_v), sy(d_v)),
                width=14,
                height=abs(sy(c_v) - sy(d_v)),
                fill=GAP,
                fill_opacity=0.18,
                class_="gap",
                data_gap=d_v - c_v,
            )
        )
        if i + 1 < len(cols) and current[i + 1] is not None and desired[i + 1] is not None:
            c2, d2 = current[i + 1], desired[i + 1]
            assert c2 is not None and d2 is not None
            pts = (
                f"{centres[i]},{sy(c_v)} {centres[i + 1]},{sy(c2)} "
                f"{centres[i + 1]},{sy(d2)} {centres[i]},{sy(d_v)}"
            )
            out.append(el("polygon", points=pts, fill=GAP, fill_opacity=0.12, class_="gap-area"))

    # Measured band and line.
    if metrics is not None:
        ms = [metrics.for_touchpoint(c.key) if c.key else TouchpointMetrics() for c in cols]
        for i in range(len(cols) - 1):
            a, b = ms[i], ms[i + 1]
            if None in (a.emotion_low, a.emotion_high, b.emotion_low, b.emotion_high):
                continue
            pts = (
                f"{centres[i]},{sy(a.emotion_low)} {centres[i + 1]},{sy(b.emotion_low)} "  # type: ignore[arg-type]
                f"{centres[i + 1]},{sy(b.emotion_high)} {centres[i]},{sy(a.emotion_high)}"
            )  # type: ignore[arg-type]
            out.append(
                el("polygon", points=pts, fill=MEASURED, fill_opacity=0.2, class_="measured-band")
            )
        for i, m in enumerate(ms):
            if m.emotion_low is not None and m.emotion_high is not None:
                out.append(
                    el(
                        "line",
                        x1=centres[i],
                        x2=centres[i],
                        y1=sy(m.emotion_low),
                        y2=sy(m.emotion_high),
                        stroke=MEASURED,
                        stroke_width=2,
                        class_="measured-interval",
                    )
                )
        out.append(_polyline([m.emotion for m in ms], centres, sy, MEASURED, "measured", dash=None))
        for i, m in enumerate(ms):
            if m.emotion is not None:
                out.append(
                    el(
                        "rect",
                        x=centres[i] - 4,
                        y=sy(m.emotion) - 4,
                        width=8,
                        height=8,
                        fill=MEASURED,
                        class_="measured-point",
                        data_touchpoint=cols[i].key,
                        data_value=m.emotion,
                    )
                )
        for n, (name, values) in enumerate(metrics.overlays.items()):
            colour = OVERLAY_COLOURS[n % len(OVERLAY_COLOURS)]
            out.append(
                _polyline(
                    [values.get(c.key or "") for c in cols],
                    centres,
                    sy,
                    colour,
                    f"overlay overlay-{n}",
                    dash="2 3",
                    data_name=name,
                )
            )

    out.append(_polyline(desired, centres, sy, DESIRED, "desired", dash="6 4"))
    out.append(_polyline(current, centres, sy, CURRENT, "current", dash=None))
    if tobe:
        out.append(_polyline(tobe, centres, sy, TOBE, "tobe", dash="2 2"))
    for i, c in enumerate(cols):
        tp = c.asis if state != "to-be" else c.tobe
        if state == "both" and tp is None:
            tp = c.tobe
        level = tp.experience.evidence.level if tp is not None else "assumed"
        if desired[i] is not None:
            out.append(
                el(
                    "circle",
                    cx=centres[i],
                    cy=sy(desired[i]),
                    r=3.5,
                    fill=DESIRED,
                    class_="desired-point",
                    data_touchpoint=c.key,
                    data_value=desired[i],
                )
            )
        if current[i] is not None:
            out.append(
                el(
                    "g",
                    _marker(level, centres[i], sy(current[i]), r=5.5, colour=CURRENT),
                    class_="current-point",
                    data_touchpoint=c.key,
                    data_value=current[i],
                )
            )
            out.append(
                text_block(
                    [format_number(current[i], lang)],
                    centres[i] + 9,
                    sy(current[i]) - 6,
                    size=10,
                    fill=CURRENT,
                )
            )
        if tobe and tobe[i] is not None:
            out.append(
                el(
                    "g",
                    _marker("proposed", centres[i], sy(tobe[i]), r=5, colour=TOBE),
                    class_="tobe-point",
                    data_touchpoint=c.key,
                    data_value=tobe[i],
                )
            )
    wy = top + plot_h + 12
    for x, items in zip(geo.xs, words, strict=True):
        body, _ = _draw_items(items, x + PAD, wy)
        out.append(body)
    return el("g", "".join(out), class_="lane lane-emotion", data_lane="emotion"), height


def _polyline(
    values: list[float | None],
    xs: list[float],
    sy: Any,
    colour: str,
    css: str,
    dash: str | None,
    **attrs: Any,
) -> str:
    """One line per run of consecutive known values (a single value gets no line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, v in zip(xs, values, strict=True):
        if v is None:
            runs.append([])
        else:
            runs[-1].append((x, sy(v)))
    lines = [
        el(
            "polyline",
            points=" ".join(f"{x:.1f},{yy:.1f}" for x, yy in run),
            fill="none",
            stroke=colour,
            stroke_width=2.5,
            stroke_dasharray=dash,
            stroke_linejoin="round",
        )
        for run in runs
        if len(run) > 1
    ]
    return el("g", "".join(lines), class_=f"line line-{css.split()[0]} {css}", **attrs)


def _legend_line(stroke: str, dash: str | None = None) -> Any:
    """A short line sample for the legend (current, desired, to-be, overlays)."""
    extra = {"stroke_dasharray": dash} if dash else {}
    return el("line", x1=-8, x2=8, y1=0, y2=0, stroke=stroke, stroke_width=2.5, **extra)


def _legend(
    geo: _Geometry, y: float, lang: str, state: str, metrics: MapMetrics | None
) -> tuple[str, float]:
    out = []
    entries: list[tuple[str, str]] = []  # (svg swatch, label)
    x = MARGIN
    row_y = y + 12
    out.append(
        text_block(
            [t("render.evidence.title", lang)],
            x,
            row_y + 4,
            size=SIZE,
            font_weight="bold",
            fill=MUTED,
        )
    )
    for level in EVIDENCE:
        entries.append((_marker(level, 0, 0), t(f"render.evidence.{level}", lang)))
    rows = [entries]
    lines = [
        (
            _legend_line(CURRENT),
            t("render.legend.current", lang),
        ),
        (
            _legend_line(DESIRED, "6 4"),
            t("render.legend.desired", lang),
        ),
        (
            el("rect", x=-8, y=-6, width=16, height=12, fill=GAP, fill_opacity=0.25),
            t("render.legend.gap", lang),
        ),
    ]
    if metrics is not None and metrics.has_emotion():
        lines.append(
            (
                el("rect", x=-8, y=-6, width=16, height=12, fill=MEASURED, fill_opacity=0.35),
                t("render.legend.measured", lang),
            )
        )
    if state == "both":
        lines.append(
            (
                _legend_line(TOBE, "2 2"),
                t("render.legend.tobe", lang),
            )
        )
    if metrics is not None:
        for n, name in enumerate(metrics.overlays):
            lines.append(
                (
                    _legend_line(OVERLAY_COLOURS[n % len(OVERLAY_COLOURS)], "2 3"),
                    name,
                )
            )
    rows.append(lines)
    rows.append(
        [
            (
                el("rect", x=-2, y=-7, width=4, height=14, fill=SEVERITY[s]),
                t(f"render.severity.{s}", lang),
            )
            for s in ("low", "medium", "high")
        ]
    )
    titles = [
        t("render.evidence.title", lang),
        t("render.legend.lines", lang),
        t("render.legend.severity", lang),
    ]
    out = []
    for title, row in zip(titles, rows, strict=True):
        out.append(
            text_block([title], MARGIN, row_y + 4, size=SIZE, font_weight="bold", fill=MUTED)
        )
        x = MARGIN + LABEL_W
        for swatch, label in row:
            width = 30 + len(label) * 7.5
            if x + width > max(geo.width - MARGIN, MARGIN + LABEL_W + 300):
                x = MARGIN + LABEL_W
                row_y += 20
            out.append(
                el(
                    "g",
                    swatch,
                    transform=f"translate({x + 8:.1f},{row_y:.1f})",
                    class_="legend-swatch",
                )
            )
            out.append(
                text_block([label], x + 22, row_y + 4, size=11, fill=INK, class_="legend-label")
            )
            x += width
        row_y += 22
    return el("g", "".join(out), class_="legend"), row_y - y


# -- HTML ---------------------------------------------------------------------------
def journey_map_fragment(
    journey: Journey,
    *,
    lang: str | None = None,
    state: str = "as-is",
    persona: str | None = None,
    metrics: MapMetrics | None = None,
    today: date | None = None,
    heading: int = 1,
) -> str:
    """The map as an HTML ``<section>`` (header in HTML, lanes as inline SVG), for pages
    that bring their own shell (the report); style with :data:`MAP_CSS`."""
    from klantreis.render._templates import render_template

    lang = check_language(lang or journey.language)
    check_state(state)
    who = _resolve_persona(journey, persona)
    svg = journey_map_svg(
        journey, lang=lang, state=state, persona=persona, metrics=metrics, header=False, today=today
    )
    return render_template(
        "_map.html.j2",
        lang=lang,
        title=journey.label(lang)
        + (f" ({t(f'render.state.{state}', lang)})" if heading > 1 else ""),
        rows=_header_lines(journey, lang, state, who, metrics, today),
        svg=svg,
        state=state,
        persona=persona or "",
        heading=max(1, min(6, int(heading))),
    )


def journey_map(
    journey: Journey,
    *,
    lang: str | None = None,
    state: str = "as-is",
    persona: str | None = None,
    metrics: MapMetrics | None = None,
    today: date | None = None,
) -> str:
    """The journey map as a complete, self-contained HTML page.

    ``state``: 'as-is', 'to-be' or 'both' (overlaid, with a lane of per-touchpoint
    differences); ``persona``: a persona key (its profile in the header; pass metrics
    measured for that persona), else the map is for all customers; ``metrics``: measured
    numbers (:class:`MapMetrics`), shown in a metrics lane and as the measured line.
    """
    from klantreis.render._templates import render_template

    lang = check_language(lang or journey.language)
    fragment = journey_map_fragment(
        journey, lang=lang, state=state, persona=persona, metrics=metrics, today=today
    )
    return render_template(
        "map.html.j2",
        lang=lang,
        title=f"{t('render.map.title', lang)}: {journey.label(lang)}",
        fragment=fragment,
    )
