"""run_all's helpers: the designed main path and the emotion overlays for the map."""

from __future__ import annotations

import pytest

from klantreis.analytics.overview import emotion_overlays, main_path
from klantreis.cli import main
from klantreis.errors import InvalidSpec
from tests.support import make_workspace

CUSTOMERS = [
    {"customer_id": "a1", "persona": "starter", "segment": "young"},
    {"customer_id": "a2", "persona": "starter", "segment": "young"},
    {"customer_id": "b1", "persona": "returner", "segment": "old"},
    {"customer_id": "c1", "persona": None, "segment": "old"},
]
# emotion answers (journey scale 1-5): by hand, starter website = (2 + 4) / 2 = 3.0,
# starter trial_lesson = 5.0, returner website = 1.0; c1 has no persona.
FEEDBACK = [
    {
        "customer_id": "a1",
        "timestamp": "2026-03-01T10:00:00Z",
        "touchpoint": "website",
        "metric": "emotion",
        "score": 2.0,
    },
    {
        "customer_id": "a2",
        "timestamp": "2026-03-02T10:00:00Z",
        "touchpoint": "website",
        "metric": "emotion",
        "score": 4.0,
    },
    {
        "customer_id": "a2",
        "timestamp": "2026-03-03T10:00:00Z",
        "touchpoint": "trial_lesson",
        "metric": "emotion",
        "score": 5.0,
    },
    {
        "customer_id": "b1",
        "timestamp": "2026-03-01T10:00:00Z",
        "touchpoint": "website",
        "metric": "emotion",
        "score": 1.0,
    },
    {
        "customer_id": "b1",
        "timestamp": "2026-03-01T11:00:00Z",
        "touchpoint": "website",
        "metric": "nps",
        "score": 9.0,
    },
    {
        "customer_id": "c1",
        "timestamp": "2026-03-01T10:00:00Z",
        "touchpoint": "website",
        "metric": "emotion",
        "score": 3.0,
    },
]
EVENTS = [
    {"customer_id": c["customer_id"], "timestamp": "2026-03-01T09:00:00Z", "touchpoint": "website"}
    for c in CUSTOMERS
]


@pytest.fixture
def ws(tmp_path):
    workspace = make_workspace(
        tmp_path / "ws",
        template="fitness",
        lang="nl",
        events=EVENTS,
        feedback=FEEDBACK,
        customers=CUSTOMERS,
    )
    yield workspace
    workspace.close()


def test_emotion_overlays_per_persona_and_segment(ws) -> None:
    assert emotion_overlays(ws, "persona") == {
        "returner": {"website": 1.0},
        "starter": {"trial_lesson": 5.0, "website": 3.0},
    }
    # old = b1 (1.0) and c1 (3.0) at the website
    assert emotion_overlays(ws, "segment") == {
        "old": {"website": 2.0},
        "young": {"trial_lesson": 5.0, "website": 3.0},
    }


def test_emotion_overlays_rejects_other_groupings(ws) -> None:
    with pytest.raises(InvalidSpec, match="persona or segment"):
        emotion_overlays(ws, "channel")


def test_map_overlay_draws_one_line_per_persona(ws, tmp_path) -> None:
    out = tmp_path / "kaart.svg"
    assert main(["map", "-w", str(ws.path), "--overlay", "persona", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    names = {p.key: p.label("nl") for p in ws.journey().personas}
    assert f'data-name="{names["starter"]}"' in svg
    assert f'data-name="{names["returner"]}"' in svg
    assert svg.count("line-overlay") == 2


def test_main_path_is_the_shortest_designed_path() -> None:
    edges = {("a", "b"), ("b", "c"), ("c", "d"), ("a", "x"), ("x", "d")}
    assert main_path(edges, ["a"], {"d"}) == ["a", "x", "d"]
    assert main_path(edges, ["a"], {"zz"}) == []
