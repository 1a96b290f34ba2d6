"""Small SVG building blocks: escaping, text measuring and wrapping, elements.

The map is laid out in Python (not by the browser), so the same layout gives the HTML
map, the stand-alone SVG and the PNG/PDF exports, and no text can overlap another:
each text is wrapped to its column with an estimate of the glyph widths that errs on
the wide side. Words longer than a line (Dutch compounds such as
``klanttevredenheidsonderzoek``) are split with a hyphen.

    >>> wrap("klanttevredenheidsonderzoeksresultaten", 120, 12)
    ['klanttevredenhei-', 'dsonderzoeksres-', 'ultaten']
    >>> esc("<script>")
    '&lt;script&gt;'
"""

from __future__ import annotations

import html
from collections.abc import Iterable

__all__ = ["FONT", "el", "esc", "text_block", "text_width", "wrap"]

FONT = "'DejaVu Sans', Verdana, 'Segoe UI', Helvetica, Arial, sans-serif"

# Relative glyph widths (em) of a wide sans-serif (DejaVu Sans / Verdana), rounded up.
_WIDTHS: dict[str, float] = {}
for _chars, _w in (
    ("il.,;:!'|", 0.32),
    ('jtfrI()[]{} "`', 0.42),
    ("abcdeghknopqsuvxyz0123456789?$", 0.64),
    ("ABCDEFGHJKLNOPQRSTUVXYZ&#+=<>~*", 0.75),
    ("mwMW@%", 0.98),
):
    for _c in _chars:
        _WIDTHS[_c] = _w
_DEFAULT_WIDTH = 0.68


def esc(value: object) -> str:
    """Escape text for XML/HTML content and attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimated width in px of ``text`` at font ``size`` (bold is ~8% wider)."""
    width = sum(_WIDTHS.get(c, _DEFAULT_WIDTH) for c in text) * size
    return width * 1.08 if bold else width


def wrap(text: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    """Lines of ``text`` that each fit ``width`` px; long words split with a hyphen."""
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size, bold=bold) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            while text_width(word, size, bold=bold) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and text_width(word[:cut] + "-", size, bold=bold) > width:
                    cut -= 1
                lines.append(word[:cut] + "-")
                word = word[cut:]
            current = word
        if current or not lines:
            lines.append(current)
    return [line for line in lines if line] or []


def el(tag: str, content: str | None = None, **attrs: object) -> str:
    """An SVG element; ``attrs`` with '_' become '-' (``font_size`` -> ``font-size``);
    a trailing '_' is dropped (``class_``). ``content`` must already be escaped."""
    parts = [tag]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{esc(value)}"')
    head = " ".join(parts)
    return f"<{head}/>" if content is None else f"<{head}>{content}</{tag}>"


def text_block(
    lines: Iterable[str],
    x: float,
    y: float,
    *,
    size: float = 12,
    line_height: float | None = None,
    **attrs: object,
) -> str:
    """A <text> with one <tspan> per line; ``y`` is the baseline of the first line."""
    step = line_height or size * 1.3
    spans = "".join(
        el("tspan", esc(line), x=x, dy=0 if i == 0 else step) for i, line in enumerate(lines)
    )
    return el("text", spans, x=x, y=y, font_size=size, **attrs)
