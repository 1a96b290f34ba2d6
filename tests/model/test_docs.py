"""The example in docs/journey-format.md is a valid journey."""

from __future__ import annotations

import re
from pathlib import Path

from klantreis.model import journey_problems

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "journey-format.md"


def test_guide_example_is_valid() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## A small complete example", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, flags=re.S)[1]
    journey, problems = journey_problems(example, file="example.yaml", lang="nl")
    assert problems == []
    assert journey.conversion_touchpoints() == ["contract_signed"]
    assert journey.touchpoint("trial_lesson").label("nl") == "Proefles"


def test_guide_error_example_matches_the_real_message() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert (
        "[touchpoints[website].phase]: fout: onbekende fase 'consideraton' "
        "(bedoelde je 'consideration'?)"
    ) in text
