"""Dutch and English texts, and locale-aware number and date formatting.

Messages live in ``messages/<area>.yaml`` files, one per area of the package
(``model.yaml``, ``cli.yaml``, ``store.yaml``...). Each key maps to its ``en`` and
``nl`` text, with ``{name}`` placeholders::

    phase.unknown:
      en: "unknown phase '{value}'"
      nl: "onbekende fase '{value}'"

Every text is a format string (``{{`` for a literal brace). A test checks that every
key has both languages with the same placeholders.

    >>> t("common.yes", "nl")
    'ja'
    >>> format_number(1234.5, "nl")
    '1.234,5'
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from importlib import resources
from typing import Any

LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
_LOCALES = {"en": "en_GB", "nl": "nl_NL"}

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "catalog",
    "check_language",
    "format_date",
    "format_number",
    "format_percent",
    "t",
]


def check_language(lang: str | None) -> str:
    """Return a supported language code ('en' or 'nl'); raise ConfigError otherwise."""
    if lang is None:
        return DEFAULT_LANGUAGE
    code = lang.lower().split("_")[0].split("-")[0]
    if code not in LANGUAGES:
        from klantreis.errors import ConfigError

        raise ConfigError(
            f"language '{lang}' is not supported", key="language", hint="use 'nl' or 'en'"
        )
    return code


@functools.cache
def catalog() -> dict[str, dict[str, str]]:
    """All message keys of all areas: key -> {lang: text}."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files(__package__).joinpath("messages")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.load(entry.read_text(encoding="utf-8")) or {}
        for key, texts in data.items():
            if key in merged:
                raise RuntimeError(f"message key {key!r} defined twice ({entry.name})")
            merged[key] = {str(k): str(v) for k, v in texts.items()}
    return merged


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The text of message ``key`` in ``lang``, with ``params`` filled in.

    Texts are always format strings: write ``{{`` and ``}}`` for a literal brace.
    An unknown key raises KeyError: a missing translation is a bug, not a user error.

    >>> t("journey.unknown_phase", "nl", value="x")
    "onbekende fase 'x'"
    """
    texts = catalog()[key]
    text = texts.get(check_language(lang)) or texts[DEFAULT_LANGUAGE]
    return text.format(**params)


def format_number(value: float | int, lang: str | None = None, *, digits: int | None = None) -> str:
    """Format a number for the language's locale (decimal comma in Dutch)."""
    from babel.numbers import format_decimal

    locale = _LOCALES[check_language(lang)]
    if digits is not None:
        fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, format=fmt, locale=locale)
    return format_decimal(value, locale=locale)


def format_percent(share: float, lang: str | None = None, *, digits: int = 1) -> str:
    """Format a share (0.25) as a percentage ('25.0%' / '25,0%')."""
    from babel.numbers import format_percent as _fp

    fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return _fp(share, format=fmt, locale=_LOCALES[check_language(lang)])


def format_date(value: date | datetime, lang: str | None = None, *, style: str = "medium") -> str:
    """Format a date for the language's locale ('22 nov 2026')."""
    from babel.dates import format_date as _fd

    if isinstance(value, datetime):
        value = value.date()
    return _fd(value, format=style, locale=_LOCALES[check_language(lang)])
