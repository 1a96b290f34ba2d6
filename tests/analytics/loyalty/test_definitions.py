"""Result definitions follow the workspace language; ambassadors' request touchpoints."""

from __future__ import annotations

import pytest

from klantreis.analytics.drivers import drivers
from klantreis.analytics.experience import ambassadors, experience, request_touchpoints
from klantreis.analytics.gap import gap
from klantreis.analytics.lifecycle import churn, lifecycle
from klantreis.analytics.loops import loops, repeat_purchase
from klantreis.analytics.retention import retention
from klantreis.i18n import t
from klantreis.model import Journey
from klantreis.store import open_workspace
from tests.analytics.loyalty._journey import JOURNEY, use_journey
from tests.analytics.loyalty.conftest import ev, fb, reset
from tests.support import make_workspace

EVENTS = [
    ev("a", "2026-01-07T10:00:00Z", "review_request", event_id="e1"),
    ev("a", "2026-01-08T10:00:00Z", "refer", event_id="e2"),
    ev("a", "2026-01-09T10:00:00Z", "buy", event_id="e3"),
    ev("b", "2026-01-02T10:00:00Z", "buy", event_id="e4"),
    ev("b", "2026-01-03T10:00:00Z", "mail", event_id="e5"),
    ev("b", "2026-01-04T10:00:00Z", "refer", event_id="e6"),
    ev("c", "2026-02-01T10:00:00Z", "site", event_id="e7"),
]
FEEDBACK = [
    fb("a", "buy", "nps", 10),
    fb("b", "buy", "nps", 9),
    fb("a", "site", "emotion", 2),
    fb("b", "site", "csat", 4),
]

RESULTS = {
    "lifecycle": lambda ws: lifecycle(ws),
    "retention": lambda ws: retention(ws, period="week", returning="buy", mode="on or after"),
    "churn": lambda ws: churn(ws, inactive="30d"),
    "loops": lambda ws: loops(ws),
    "repeat_purchase": lambda ws: repeat_purchase(ws),
    "nps": lambda ws: experience(ws, metric="nps"),
    "csat": lambda ws: experience(ws, metric="csat", by="phase"),
    "ces": lambda ws: experience(ws, metric="ces", by="all"),
    "emotion": lambda ws: experience(ws, metric="emotion", by="month"),
    "gap": lambda ws: gap(ws),
    "drivers": lambda ws: drivers(ws, min_support=1),
    "ambassadors": lambda ws: ambassadors(ws),
}


@pytest.fixture(scope="module", params=["en", "nl"])
def lang_ws(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"defs-{request.param}") / "ws"
    ws = make_workspace(folder, lang=request.param, events=EVENTS, feedback=FEEDBACK)
    use_journey(ws).close()
    ws = open_workspace(folder)
    yield request.param, ws
    ws.close()


@pytest.mark.parametrize("name", list(RESULTS))
def test_definitions_follow_the_workspace_language(lang_ws, name):
    lang, ws = lang_ws
    definition = RESULTS[name](ws).definition
    dutch = {
        "lifecycle": "Per maand (tijdzone van de werkruimte): nieuw = eerste actieve maand",
        "retention": "Cohort: klanten per week van hun eerste gebeurtenis (tijdzone van de "
        "werkruimte); behouden in periode k: een gebeurtenis bij 'buy' in periode k of later",
        "churn": "relatie beëindigd; anders geen gebeurtenis in de 30d vóór de laatste gebeurtenis",
        "loops": "Kopers: klanten met een conversiegebeurtenis; ingestapt:",
        "repeat_purchase": "Kopers: klanten met een gebeurtenis bij buy; herhaalaankopen",
        "nps": "% promotors (9-10) - % criticasters (0-6)",
        "csat": "Per fase.",
        "ces": "gemiddelde klantinspanning (antwoorden 1-7); 95%-interval volgens Student-t. "
        "Alle antwoorden samen.",
        "emotion": "Emotie = gemiddeld antwoord op de schaal van de klantreis",
        "gap": "Kloof = gewenste - gemeten emotie op de schaal van de klantreis 1-5",
        "drivers": "Uitkomst: conversie (3 klanten, 2 met de uitkomst)",
        "ambassadors": "Promotors: laatste NPS-antwoord 9-10; ambassadeurs: promotors met een "
        "gebeurtenis bij refer",
    }
    english = {
        "lifecycle": "Per month (workspace time zone): new = first active month",
        "retention": "Cohort: customers by the week of their first event (workspace time "
        "zone); retained in period k: a 'buy' event in period k or later",
        "churn": "= ended; else no event in the 30d before the last event = inactive",
        "loops": "Buyers: customers with a conversion event; entered:",
        "repeat_purchase": "Buyers: customers with an event at buy; repeat rate",
        "nps": "% promoters (9-10) - % detractors (0-6)",
        "csat": "Per phase.",
        "ces": "CES = mean customer effort (answers 1-7); 95% Student t interval. "
        "All answers together.",
        "emotion": "Emotion = mean answer on the journey's scale",
        "gap": "Gap = desired - measured emotion on the journey scale 1-5",
        "drivers": "Outcome: conversion (3 customers, 2 with the outcome)",
        "ambassadors": "Promoters: latest NPS answer 9-10; ambassadors: promoters with an event "
        "at refer",
    }
    assert (dutch if lang == "nl" else english)[name] in definition
    other = english if lang == "nl" else dutch
    assert other[name] not in definition


FLAGGED = JOURNEY.replace(
    "personas:",
    "  - {key: mail, phase: loyalty, prompts_referral: true}\npersonas:",
)


def test_ambassadors_use_the_prompts_referral_flag(ws):
    reset(ws, events=EVENTS, feedback=FEEDBACK)
    # without the flag: the key 'review_request' is found by keyword (the fallback)
    result = ambassadors(ws)
    assert result.params["requests"] == ["review_request"]
    assert result.params["requests_from"] == "keywords"
    assert result.table.customers.tolist() == [2, 2, 1, 1]  # a prompted, b spontaneous
    assert "no touchpoint is marked 'prompts_referral: true'" in result.definition
    # with the flag on 'mail' only the flagged touchpoint is a request, not review_request
    use_journey(ws, FLAGGED)
    try:
        flagged = ambassadors(ws)
        assert flagged.params["requests"] == ["mail"]
        assert flagged.params["requests_from"] == "flag"
        assert flagged.table.customers.tolist() == [2, 2, 1, 1]  # b prompted, a spontaneous
        assert "marked 'prompts_referral: true' in the journey" in flagged.definition
        given = ambassadors(ws, requests=["review_request", "mail"])
        assert given.params["requests_from"] == "given"
        assert given.table.customers.tolist() == [2, 2, 2, 0]
    finally:
        use_journey(ws)


def test_request_touchpoints_never_include_referrals():
    j = Journey.model_validate(
        {
            "key": "j",
            "name": "J",
            "touchpoints": [
                {"key": "invite_friend", "phase": "loyalty", "referral": True},
                {"key": "review_request", "phase": "loyalty"},
            ],
        }
    )
    assert request_touchpoints(j, ["invite_friend"]) == (["review_request"], "keywords")
    j.touchpoints[0].prompts_referral = True
    assert request_touchpoints(j, ["invite_friend"]) == ([], "flag")
    assert request_touchpoints(None, []) == ([], "keywords")


def test_no_request_touchpoint_in_words(ws):
    reset(ws, events=EVENTS, feedback=FEEDBACK)
    result = ambassadors(ws, requests=[])
    assert t("loyalty.definition.no_request", "en") in result.definition
    assert result.table.customers.tolist() == [2, 2, 0, 2]
