"""Every way a journey file can be wrong: code, line, column, field and message (en, nl)."""

from __future__ import annotations

import pytest

from klantreis.errors import JourneyInvalid
from klantreis.model import Journey, Touchpoint, check_journey, journey_problems, parse_journey

# Line numbers of this text are used in the cases below; keep it as it is.
BASE = """\
key: demo
name: {nl: Demo, en: Demo}
channels:
  - key: web
    name: Website
  - key: shop
    kind: offline
touchpoints:
  - key: site
    phase: awareness
    channel: web
    successors: [buy]
    experience: {current: 3, desired: 4}
    walk: {next: {buy: 0.5}, channels: {web: 1.0}, delay: 2d}
  - key: buy
    phase: purchase
    channel: shop
    conversion: true
    predecessors: [site]
personas:
  - key: p
    channels: [web]
    walk: {entry: {site: 1.0}, propensity: {buy: 1.2}, weekly: [1, 1, 1, 1, 1, 1, 1]}
triggers:
  - key: t
    phase: awareness
    touchpoint: site
improvements:
  - key: i
    touchpoint: buy
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_base_is_valid() -> None:
    journey, problems = journey_problems(BASE, file="demo.yaml")
    assert problems == []
    assert journey is not None and journey.conversion_touchpoints() == ["buy"]


# id, file text, code, line, column, field, English message, Dutch message
CASES = [
    pytest.param(
        edit("phase: awareness\n    channel", "phase: awarness\n    channel"),
        "unknown",
        10,
        5,
        "touchpoints[site].phase",
        "unknown phase 'awarness' (did you mean 'awareness'?)",
        "onbekende fase 'awarness' (bedoelde je 'awareness'?)",
        id="unknown-phase",
    ),
    pytest.param(
        edit("channel: shop", "channel: shopp"),
        "unknown",
        17,
        5,
        "touchpoints[buy].channel",
        "unknown channel 'shopp' (did you mean 'shop'?)",
        "onbekend kanaal 'shopp' (bedoelde je 'shop'?)",
        id="unknown-channel",
    ),
    pytest.param(
        edit("successors: [buy]", "successors: [buy, bye]"),
        "unknown",
        12,
        23,
        "touchpoints[site].successors[1]",
        "unknown touchpoint 'bye' (did you mean 'buy'?)",
        "onbekend contactmoment 'bye' (bedoelde je 'buy'?)",
        id="unknown-successor-flow-list",
    ),
    pytest.param(
        edit("predecessors: [site]", "predecessors:\n      - site\n      - nowhere"),
        "unknown",
        21,
        9,
        "touchpoints[buy].predecessors[1]",
        "unknown touchpoint 'nowhere'",
        "onbekend contactmoment 'nowhere'",
        id="unknown-predecessor-block-list",
    ),
    pytest.param(
        edit("next: {buy: 0.5}", "next: {bye: 0.5}"),
        "unknown",
        14,
        19,
        "touchpoints[site].walk.next.bye",
        "unknown touchpoint 'bye' (did you mean 'buy'?)",
        "onbekend contactmoment 'bye' (bedoelde je 'buy'?)",
        id="unknown-walk-next",
    ),
    pytest.param(
        edit("channels: {web: 1.0}", "channels: {webb: 1.0}"),
        "unknown",
        14,
        41,
        "touchpoints[site].walk.channels.webb",
        "unknown channel 'webb' (did you mean 'web'?)",
        "onbekend kanaal 'webb' (bedoelde je 'web'?)",
        id="unknown-walk-channel",
    ),
    pytest.param(
        edit("    channels: [web]", "    channels: [wbe]"),
        "unknown",
        22,
        16,
        "personas[p].channels[0]",
        "unknown channel 'wbe' (did you mean 'web'?)",
        "onbekend kanaal 'wbe' (bedoelde je 'web'?)",
        id="unknown-persona-channel",
    ),
    pytest.param(
        edit("entry: {site: 1.0}", "entry: {sit: 1.0}"),
        "unknown",
        23,
        20,
        "personas[p].walk.entry.sit",
        "unknown touchpoint 'sit' (did you mean 'site'?)",
        "onbekend contactmoment 'sit' (bedoelde je 'site'?)",
        id="unknown-persona-entry",
    ),
    pytest.param(
        edit("propensity: {buy: 1.2}", "propensity: {pay: 1.2}"),
        "unknown",
        23,
        45,
        "personas[p].walk.propensity.pay",
        "unknown touchpoint 'pay'",
        "onbekend contactmoment 'pay'",
        id="unknown-persona-propensity",
    ),
    pytest.param(
        edit(
            "    phase: awareness\n    touchpoint: site", "    phase: loyal\n    touchpoint: site"
        ),
        "unknown",
        26,
        5,
        "triggers[t].phase",
        "unknown phase 'loyal' (did you mean 'loyalty'?)",
        "onbekende fase 'loyal' (bedoelde je 'loyalty'?)",
        id="unknown-trigger-phase",
    ),
    pytest.param(
        edit("    touchpoint: site", "    touchpoint: webpage"),
        "unknown",
        27,
        5,
        "triggers[t].touchpoint",
        "unknown touchpoint 'webpage'",
        "onbekend contactmoment 'webpage'",
        id="unknown-trigger-touchpoint",
    ),
    pytest.param(
        edit("    touchpoint: buy", "    touchpoint: by"),
        "unknown",
        30,
        5,
        "improvements[i].touchpoint",
        "unknown touchpoint 'by' (did you mean 'buy'?)",
        "onbekend contactmoment 'by' (bedoelde je 'buy'?)",
        id="unknown-improvement-touchpoint",
    ),
    pytest.param(
        edit("key: demo\n", "key: demo\nscope: {kind: persona, value: q}\n"),
        "unknown",
        2,
        24,
        "scope.value",
        "unknown persona 'q'",
        "onbekende persona 'q'",
        id="unknown-scope-persona",
    ),
    pytest.param(
        edit("    conversion: true\n", "    conversion: true\n    to_be: {channel: app}\n"),
        "unknown",
        19,
        13,
        "touchpoints[buy].to_be.channel",
        "unknown channel 'app'",
        "onbekend kanaal 'app'",
        id="unknown-to-be-channel",
    ),
    pytest.param(
        edit(
            "    conversion: true\n",
            "    conversion: true\n    to_be: {walk: {next: {nps: 0.1}}}\n",
        ),
        "unknown",
        19,
        27,
        "touchpoints[buy].to_be.walk.next.nps",
        "unknown touchpoint 'nps'",
        "onbekend contactmoment 'nps'",
        id="unknown-to-be-walk",
    ),
    pytest.param(
        edit("  - key: buy", "  - key: site"),
        "duplicate",
        15,
        5,
        "touchpoints[site].key",
        "duplicate key 'site' in touchpoints: every key must be unique",
        "dubbele sleutel 'site' in touchpoints: elke sleutel moet uniek zijn",
        id="duplicate-touchpoint",
    ),
    pytest.param(
        edit("  - key: shop", "  - key: web"),
        "duplicate",
        6,
        5,
        "channels[web].key",
        "duplicate key 'web' in channels: every key must be unique",
        "dubbele sleutel 'web' in channels: elke sleutel moet uniek zijn",
        id="duplicate-channel",
    ),
    pytest.param(
        edit("    conversion: true\n", "    conversion: true\n    channel: web\n"),
        "yaml.duplicate",
        19,
        5,
        None,
        "field 'channel' appears twice in the block that starts on line 15; keep one",
        "veld 'channel' staat twee keer in het blok dat begint op regel 15; houd er één",
        id="duplicate-yaml-field",
    ),
    pytest.param(
        edit("current: 3", "current: 6"),
        "score_range",
        13,
        18,
        "touchpoints[site].experience.current",
        "score 6 is outside the journey's scale 1 to 5",
        "score 6 valt buiten de schaal van de klantreis (1 tot 5)",
        id="score-above-scale",
    ),
    pytest.param(
        edit("desired: 4", "desired: 0.5"),
        "score_range",
        13,
        30,
        "touchpoints[site].experience.desired",
        "score 0.5 is outside the journey's scale 1 to 5",
        "score 0.5 valt buiten de schaal van de klantreis (1 tot 5)",
        id="score-below-scale",
    ),
    pytest.param(
        edit(
            "    conversion: true\n",
            "    conversion: true\n    to_be:\n      experience: {current: 9}\n",
        ),
        "score_range",
        20,
        20,
        "touchpoints[buy].to_be.experience.current",
        "score 9 is outside the journey's scale 1 to 5",
        "score 9 valt buiten de schaal van de klantreis (1 tot 5)",
        id="to-be-score",
    ),
    pytest.param(
        edit("key: demo\n", "key: demo\nscale: {min: 1, max: 10}\n").replace(
            "current: 3", "current: 7"
        ),
        None,
        None,
        None,
        None,
        None,
        None,
        id="score-on-wider-scale-is-fine",
    ),
    pytest.param(
        edit("key: demo\n", "key: demo\nscale: {min: 5, max: 1}\n"),
        "scale",
        2,
        17,
        "scale.max",
        "scale minimum 5 must be below its maximum 1",
        "het minimum van de schaal (5) moet lager zijn dan het maximum (1)",
        id="scale-upside-down",
    ),
    pytest.param(
        edit("key: demo\n", "key: demo\nscale:\n  labels: {'1': slecht, '7': top}\n"),
        "scale_label",
        3,
        25,
        "scale.labels.7",
        "scale label '7' is not a score from 1 to 5",
        "schaallabel '7' is geen score van 1 tot 5",
        id="scale-label",
    ),
    pytest.param(
        edit("    conversion: true\n", ""),
        "no_conversion",
        8,
        1,
        "touchpoints",
        "no touchpoint is marked 'conversion: true'; mark the touchpoint where customers convert",
        "geen contactmoment heeft 'conversion: true'; markeer het contactmoment waar klanten "
        "converteren",
        id="no-conversion",
    ),
    pytest.param(
        edit("personas:\n", "  - key: lonely\n    phase: loyalty\npersonas:\n"),
        "unconnected",
        20,
        5,
        "touchpoints[lonely].key",
        "touchpoint 'lonely' is not connected to any other touchpoint (add predecessors or "
        "successors)",
        "contactmoment 'lonely' is met geen enkel ander contactmoment verbonden (voeg "
        "predecessors of successors toe)",
        id="unconnected-warning",
    ),
    pytest.param(
        edit("    kind: offline", "    kind: ofline"),
        "field.choice",
        7,
        5,
        "channels[shop].kind",
        "'ofline' is not allowed here; use 'online' or 'offline' (did you mean 'offline'?)",
        "'ofline' is hier niet toegestaan; gebruik 'online' of 'offline' (bedoelde je 'offline'?)",
        id="wrong-choice",
    ),
    pytest.param(
        edit("    channel: web\n", "    chanel: web\n"),
        "field.extra",
        11,
        5,
        "touchpoints[site].chanel",
        "unknown field 'chanel' (did you mean 'channel'?)",
        "onbekend veld 'chanel' (bedoelde je 'channel'?)",
        id="unknown-field",
    ),
    pytest.param(
        edit("desired: 4}", "desird: 4}"),
        "field.extra",
        13,
        30,
        "touchpoints[site].experience.desird",
        "unknown field 'desird' (did you mean 'desired'?)",
        "onbekend veld 'desird' (bedoelde je 'desired'?)",
        id="unknown-field-in-flow-mapping",
    ),
    pytest.param(
        edit("walk: {entry", "walk: {entri"),
        "field.extra",
        23,
        12,
        "personas[p].walk.entri",
        "unknown field 'entri' (did you mean 'entry'?)",
        "onbekend veld 'entri' (bedoelde je 'entry'?)",
        id="unknown-field-in-nested-flow",
    ),
    pytest.param(
        edit("  - key: web", "  - key: Web Site"),
        "field.pattern",
        4,
        5,
        "channels[Web Site].key",
        "'Web Site' is not a valid key: use lower-case letters, digits, '_' or '-'",
        "'Web Site' is geen geldige sleutel: gebruik kleine letters, cijfers, '_' of '-'",
        id="bad-key",
    ),
    pytest.param(
        edit("    phase: purchase\n", ""),
        "field.missing",
        15,
        5,
        "touchpoints[buy].phase",
        "required field 'phase' is missing",
        "verplicht veld 'phase' ontbreekt",
        id="missing-field",
    ),
    pytest.param(
        edit("name: {nl: Demo, en: Demo}", "name: {nl: Demo, de: Demo}"),
        "field.text_language",
        2,
        1,
        "name",
        "'de' is not a language (use nl or en); a text with a comma inside {...} needs quotes",
        "'de' is geen taal (gebruik nl of en); een tekst met een komma binnen {...} moet tussen "
        "aanhalingstekens",
        id="text-language",
    ),
    pytest.param(
        edit("name: {nl: Demo, en: Demo}", "name: {nl: Demo, met komma, en: Demo}"),
        "field.text_language",
        2,
        1,
        "name",
        "'met komma' is not a language (use nl or en); a text with a comma inside {...} needs "
        "quotes",
        "'met komma' is geen taal (gebruik nl of en); een tekst met een komma binnen {...} moet "
        "tussen aanhalingstekens",
        id="text-with-unquoted-comma",
    ),
    pytest.param(
        edit("    name: Website", "    name: [Web, Site]"),
        "field.text",
        5,
        5,
        "channels[web].name",
        "a text must be one string, or one per language: {nl: ..., en: ...}",
        "een tekst moet één string zijn, of één per taal: {nl: ..., en: ...}",
        id="text-wrong-type",
    ),
    pytest.param(
        edit("current: 3", "current: hoog"),
        "field.number",
        13,
        18,
        "touchpoints[site].experience.current",
        "'hoog' is not a number",
        "'hoog' is geen getal",
        id="score-not-a-number",
    ),
    pytest.param(
        edit("conversion: true", "conversion: misschien"),
        "field.bool",
        18,
        5,
        "touchpoints[buy].conversion",
        "'misschien' is not true or false",
        "'misschien' is niet true of false",
        id="not-a-bool",
    ),
    pytest.param(
        edit("    successors: [buy]", "    successors: buy"),
        "field.list",
        12,
        5,
        "touchpoints[site].successors",
        "must be a list: [a, b] or one '- item' per line",
        "moet een lijst zijn: [a, b] of één '- item' per regel",
        id="not-a-list",
    ),
    pytest.param(
        edit("    experience: {current: 3, desired: 4}", "    experience: 3"),
        "field.mapping",
        13,
        5,
        "touchpoints[site].experience",
        "must be a mapping of fields (name: value)",
        "moet een mapping van velden zijn (naam: waarde)",
        id="not-a-mapping",
    ),
    pytest.param(
        edit("next: {buy: 0.5}", "next: {buy: 1.5}"),
        "field.probability_range",
        14,
        12,
        "touchpoints[site].walk.next",
        "probability for 'buy' must be between 0 and 1, got 1.5",
        "kans voor 'buy' moet tussen 0 en 1 liggen, maar is 1.5",
        id="probability-above-one",
    ),
    pytest.param(
        edit("channels: {web: 1.0}", "channels: {web: 0.7, shop: 0.6}"),
        "field.probability_sum",
        14,
        30,
        "touchpoints[site].walk.channels",
        "probabilities add up to 1.3, more than 1 (what is left up to 1 is the chance of leaving)",
        "kansen tellen op tot 1.3, meer dan 1 (wat tot 1 overblijft is de kans om af te haken)",
        id="probabilities-sum-above-one",
    ),
    pytest.param(
        edit("delay: 2d", "delay: 2 dagen"),
        "field.duration",
        14,
        52,
        "touchpoints[site].walk.delay",
        "'2 dagen' is not a duration: write a number and a unit, like 30m, 12h, 2d or 1w",
        "'2 dagen' is geen tijdsduur: schrijf een getal en een eenheid, zoals 30m, 12h, 2d of 1w",
        id="bad-duration",
    ),
    pytest.param(
        edit("weekly: [1, 1, 1, 1, 1, 1, 1]", "weekly: [1, 1, 1, 1, 1]"),
        "field.too_short",
        23,
        56,
        "personas[p].walk.weekly",
        "has 5 item(s); it needs at least 7",
        "heeft 5 item(s); er zijn er minstens 7 nodig",
        id="weekly-too-short",
    ),
    pytest.param(
        edit("entry: {site: 1.0}", "entry: {site: 1.0}, share: 0"),
        "field.gt",
        23,
        32,
        "personas[p].walk.share",
        "0 must be more than 0",
        "0 moet groter zijn dan 0",
        id="share-zero",
    ),
    pytest.param(
        edit("  - key: i\n", "  - key: i\n    due: 31-12-2027\n"),
        "field.date",
        30,
        5,
        "improvements[i].due",
        "'31-12-2027' is not a date: write YYYY-MM-DD",
        "'31-12-2027' is geen datum: schrijf JJJJ-MM-DD",
        id="not-a-date",
    ),
    pytest.param(
        edit("  - key: i\n", "  - key: i\n    due: 2027-02-30\n"),
        "yaml.date",
        30,
        10,
        None,
        "'2027-02-30' is not a date that exists: write YYYY-MM-DD",
        "'2027-02-30' is geen bestaande datum: schrijf JJJJ-MM-DD",
        id="impossible-date",
    ),
    pytest.param(
        edit(
            "    conversion: true\n",
            "    conversion: true\n    events: [{name: buy, glob: 'b*'}]\n",
        ),
        "event_match",
        19,
        14,
        "touchpoints[buy].events[0]",
        "an event rule needs exactly one of name, glob or regex",
        "een eventregel heeft precies één van name, glob of regex nodig",
        id="event-rule-two-patterns",
    ),
    pytest.param(
        edit("    conversion: true\n", "    conversion: true\n    events: [{regex: 'buy('}]\n"),
        "field.regex",
        19,
        15,
        "touchpoints[buy].events[0].regex",
        "not a valid regular expression: missing ), unterminated subpattern at position 3",
        "geen geldige reguliere expressie: missing ), unterminated subpattern at position 3",
        id="event-rule-bad-regex",
    ),
    pytest.param(
        edit("key: demo", "key: demo\nversion: 2"),
        "field.choice",
        2,
        1,
        "version",
        "'2' is not allowed here; use 1",
        "'2' is hier niet toegestaan; gebruik 1",
        id="unknown-version",
    ),
    pytest.param(
        edit("successors: [buy]", "successors: [buy"),
        "yaml",
        13,
        15,
        None,
        "not valid YAML: expected ',' or ']', but got ':' (check the part that starts on line 12)",
        "geen geldige YAML: expected ',' or ']', but got ':' (controleer het deel dat begint op "
        "regel 12)",
        id="yaml-unclosed-list",
    ),
    pytest.param(
        edit("    channel: web\n", "\tchannel: web\n"),
        "yaml",
        11,
        1,
        None,
        "not valid YAML: found character '\\t' that cannot start any token (indent with spaces, "
        "not tabs)",
        "geen geldige YAML: found character '\\t' that cannot start any token (spring in met "
        "spaties, niet met tabs)",
        id="yaml-tab",
    ),
    pytest.param(
        edit("    name: Website", "    name: Website: de beste"),
        "yaml",
        5,
        18,
        None,
        "not valid YAML: mapping values are not allowed here (a text containing ': ' needs quotes)",
        "geen geldige YAML: mapping values are not allowed here (een tekst met ': ' erin moet "
        "tussen aanhalingstekens)",
        id="yaml-colon-in-text",
    ),
    pytest.param(
        "",
        "empty",
        1,
        None,
        None,
        "the journey file is empty; start from a template with 'klantreis init'",
        "het klantreisbestand is leeg; begin met een sjabloon via 'klantreis init'",
        id="empty-file",
    ),
    pytest.param(
        "- key: demo\n",
        "not_mapping",
        1,
        None,
        None,
        "a journey file must be a mapping (key: value lines) at the top",
        "een klantreisbestand moet bovenaan een mapping zijn (regels sleutel: waarde)",
        id="not-a-mapping-at-top",
    ),
]


@pytest.mark.parametrize(
    ("text", "code", "line", "column", "field", "message_en", "message_nl"), CASES
)
def test_problem(
    text: str,
    code: str | None,
    line: int | None,
    column: int | None,
    field: str | None,
    message_en: str | None,
    message_nl: str | None,
) -> None:
    for lang, message in (("en", message_en), ("nl", message_nl)):
        _, problems = journey_problems(text, file="demo.yaml", lang=lang)
        if code is None:
            assert problems == []
            continue
        found = [p for p in problems if p.code == code]
        assert found, problems
        p = found[0]
        assert (p.file, p.line, p.column, p.field) == ("demo.yaml", line, column, field)
        assert p.message == message
        assert p.severity == ("warning" if code == "unconnected" else "error")


def test_line_points_at_the_text_of_the_field() -> None:
    """The reported line and column point at the wrong word itself."""
    text = edit("successors: [buy]", "successors: [buy, bye]")
    (p,) = journey_problems(text, file="demo.yaml")[1]
    line = text.splitlines()[p.line - 1]
    assert line[p.column - 1 :].startswith("bye")


def test_all_problems_are_reported_in_file_order() -> None:
    text = edit("channel: shop", "channel: shopp")
    text = edit("phase: awareness\n    channel", "phase: awarness\n    channel", text)
    problems = journey_problems(text, file="demo.yaml")[1]
    assert [(p.line, p.field) for p in problems] == [
        (10, "touchpoints[site].phase"),
        (17, "touchpoints[buy].channel"),
    ]


def test_parse_raises_with_every_error_and_ignores_warnings() -> None:
    text = edit("channel: shop", "channel: shopp")
    text = edit("phase: awareness\n    channel", "phase: awarness\n    channel", text)
    with pytest.raises(JourneyInvalid) as info:
        parse_journey(text, file="demo.yaml")
    assert len(info.value.problems) == 2
    assert str(info.value) == (
        "demo.yaml:10:5 [touchpoints[site].phase]: error: unknown phase 'awarness' "
        "(did you mean 'awareness'?) (+1 more)"
    )
    warning_only = edit("personas:\n", "  - key: lonely\n    phase: loyalty\npersonas:\n")
    assert parse_journey(warning_only).touchpoint("lonely").phase == "loyalty"


def test_check_journey_on_a_model_built_in_code() -> None:
    journey = Journey(
        key="j",
        touchpoints=[
            Touchpoint(key="a", phase="awareness", successors=["b"]),
            Touchpoint(key="b", phase="purchase", conversion=True),
        ],
    )
    assert check_journey(journey) == []
    journey.touchpoints[0].successors.append("c")
    (problem,) = check_journey(journey, "nl")
    assert problem.message == "onbekend contactmoment 'c'"
    assert problem.params["loc"] == ("touchpoints", 0, "successors", 1)


def test_a_single_touchpoint_is_not_unconnected() -> None:
    journey = Journey(
        key="j", touchpoints=[Touchpoint(key="a", phase="awareness", conversion=True)]
    )
    assert check_journey(journey) == []


def test_touchpoint_referenced_only_by_others_is_connected() -> None:
    text = edit("    predecessors: [site]\n", "")
    assert journey_problems(text)[1] == []
