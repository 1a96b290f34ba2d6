"""Every message exists in Dutch and English with the same placeholders, and formats."""

from __future__ import annotations

import string
from datetime import date

import pytest

from klantreis.errors import ConfigError
from klantreis.i18n import (
    LANGUAGES,
    catalog,
    check_language,
    format_date,
    format_number,
    format_percent,
    t,
)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


MESSAGES = sorted(catalog().items())


def test_catalog_is_not_empty() -> None:
    assert len(MESSAGES) > 50
    assert {"common.touchpoint", "journey.unknown_phase", "cli.validate.ok"} <= dict(
        MESSAGES
    ).keys()


@pytest.mark.parametrize(("key", "texts"), MESSAGES, ids=[k for k, _ in MESSAGES])
def test_message_has_both_languages_and_the_same_placeholders(
    key: str, texts: dict[str, str]
) -> None:
    assert set(texts) == set(LANGUAGES), key
    assert all(text.strip() for text in texts.values()), key
    assert placeholders(texts["en"]) == placeholders(texts["nl"]), key
    for lang in LANGUAGES:  # every text formats with its own placeholders filled in
        t(key, lang, **{name: "x" for name in placeholders(texts[lang])})


def test_message_keys_are_prefixed_by_their_area() -> None:
    assert all("." in key and key == key.strip() for key, _ in MESSAGES)


def test_t() -> None:
    assert t("common.touchpoint", "nl") == "contactmoment"
    assert t("common.touchpoint", "en") == "touchpoint"
    assert t("common.touchpoint") == "touchpoint"  # English by default
    assert t("journey.unknown_channel", "nl_NL", value="web") == "onbekend kanaal 'web'"
    assert t("journey.field.text", "en").endswith("{nl: ..., en: ...}")  # literal braces
    with pytest.raises(KeyError):
        t("no.such.key", "en")


def test_check_language() -> None:
    assert check_language(None) == "en"
    assert check_language("NL") == "nl"
    assert check_language("en-GB") == "en"
    with pytest.raises(ConfigError, match="language 'de' is not supported"):
        check_language("de")


def test_formatting_follows_the_language() -> None:
    assert format_number(1234.5, "nl") == "1.234,5"
    assert format_number(1234.5, "en") == "1,234.5"
    assert format_number(0.3825, "nl", digits=2) == "0,38"
    assert format_percent(0.253, "nl") == "25,3%"
    assert format_percent(0.253, "en", digits=0) == "25%"
    assert format_date(date(2027, 6, 30), "nl") == "30 jun 2027"
    assert format_date(date(2027, 6, 30), "en") == "30 Jun 2027"
