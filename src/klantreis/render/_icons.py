"""Channel icons, drawn as plain SVG strokes on a 24x24 grid (no icon font, no files).

An icon is chosen from the channel's key and name (English and Dutch words), falling
back on its kind (online: a screen, offline: a person).

    >>> icon_name("whatsapp_chat"), icon_name("winkel"), icon_name("xyz", "offline")
    ('chat', 'store', 'person')
"""

from __future__ import annotations

from klantreis.render._svg import el

__all__ = ["ICONS", "icon", "icon_name"]

#: name -> SVG path data (stroked, 24x24).
ICONS: dict[str, str] = {
    "web": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18",
    "app": "M8 2h8a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2M11 18h2",
    "email": "M3 6h18v12H3zM3 6l9 7l9-7",
    "search": "M10 4a6 6 0 1 0 0 12a6 6 0 1 0 0-12M14.5 14.5L20 20",
    "social": "M6 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M18 3a3 3 0 1 0 0 6a3 3 0 1 0 0-6"
    "M18 15a3 3 0 1 0 0 6a3 3 0 1 0 0-6M8.6 10.7l6.8-3.4M8.6 13.3l6.8 3.4",
    "chat": "M4 5h16v11H9l-5 4zM8 10h.01M12 10h.01M16 10h.01",
    "phone": "M5 3h4l2 5l-2.5 1.5a11 11 0 0 0 6 6L16 13l5 2v4a2 2 0 0 1-2 2"
    "A16 16 0 0 1 3 5a2 2 0 0 1 2-2",
    "store": "M3 9l2-5h14l2 5M3 9h18v2a3 3 0 0 1-6 0a3 3 0 0 1-6 0a3 3 0 0 1-6 0z"
    "M5 13v8h14v-8M10 21v-5h4v5",
    "print": "M6 3h9l4 4v14H6zM15 3v4h4M9 11h7M9 14h7M9 17h5",
    "people": "M8 4a3 3 0 1 0 0 6a3 3 0 1 0 0-6M2 20a6 6 0 0 1 12 0M16 5a3 3 0 1 1 0 6"
    "M18 14a5 5 0 0 1 4 6",
    "ad": "M3 10v4h3l7 5V5L6 10zM16 9a4 4 0 0 1 0 6M19 6a8 8 0 0 1 0 12",
    "event": "M4 5h16v15H4zM4 9h16M8 3v4M16 3v4M8 13h3v3H8z",
    "person": "M12 3a4 4 0 1 0 0 8a4 4 0 1 0 0-8M4 21a8 8 0 0 1 16 0",
    "product": "M12 2l9 5v10l-9 5l-9-5V7zM3 7l9 5l9-5M12 12v10",
}

# Words (in keys or names, English and Dutch) that choose an icon, checked in order.
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chat", ("chat", "whatsapp", "messenger", "bot")),
    ("email", ("mail", "newsletter", "nieuwsbrief")),
    ("search", ("search", "google", "seo", "sea", "zoek", "bing")),
    (
        "social",
        ("social", "facebook", "instagram", "linkedin", "tiktok", "youtube", "twitter", "x.com"),
    ),
    ("app", ("app", "mobile", "mobiel", "sms")),
    ("phone", ("phone", "call", "telefo", "bel")),
    (
        "store",
        ("store", "shop", "winkel", "club", "branch", "filiaal", "balie", "desk", "vestiging"),
    ),
    (
        "print",
        ("print", "magazine", "tijdschrift", "krant", "folder", "flyer", "brief", "letter", "post"),
    ),
    (
        "people",
        ("friend", "vriend", "family", "familie", "mouth", "mond", "referral", "review", "colleg"),
    ),
    (
        "ad",
        (
            "advert",
            "reclame",
            "tv",
            "radio",
            "billboard",
            "display",
            "paid",
            "campaign",
            "campagne",
        ),
    ),
    ("event", ("event", "beurs", "fair", "workshop", "lesson", "proefles", "trial")),
    ("product", ("product", "device", "apparaat", "package", "pakket")),
    ("web", ("web", "site", "online", "portal", "portaal", "direct", "internet")),
)


def icon_name(key: str | None, kind: str | None = None, name: str | None = None) -> str:
    """The icon for a channel: by words in its key or name, else by kind."""
    words = f"{key or ''} {name or ''}".lower()
    for icon, needles in _WORDS:
        if any(n in words for n in needles):
            return icon
    return "person" if kind == "offline" else "web"


def icon(name: str, x: float, y: float, size: float = 24, colour: str = "#1F2937") -> str:
    """An icon as an SVG <g> placed with its top-left corner at (x, y)."""
    scale = size / 24
    path = el(
        "path",
        d=ICONS[name],
        fill="none",
        stroke=colour,
        stroke_width=1.8,
        stroke_linecap="round",
        stroke_linejoin="round",
    )
    return el(
        "g",
        path,
        transform=f"translate({x:.1f},{y:.1f}) scale({scale:.3f})",
        class_=f"icon icon-{name}",
        data_icon=name,
    )
