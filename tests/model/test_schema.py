"""docs/journey.schema.json is generated from the model and accepts the templates."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from klantreis.model.schema import journey_schema, journey_schema_text

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "journey.schema.json"


def test_published_schema_is_up_to_date() -> None:
    assert PUBLISHED.read_text(encoding="utf-8") == journey_schema_text(), (
        "run: .venv/bin/python scripts/journey_schema.py"
    )


def test_script_check_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "journey_schema.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_schema_describes_the_journey() -> None:
    schema = journey_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["key"]
    assert schema["additionalProperties"] is False
    touchpoint = schema["$defs"]["Touchpoint"]
    assert touchpoint["required"] == ["key", "phase"]
    assert touchpoint["properties"]["loop"]["anyOf"][0]["enum"] == [
        "purchase",
        "service",
        "loyalty",
    ]


@pytest.mark.parametrize("name", ["blank", "fitness", "retail"])
def test_templates_validate_against_the_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    text = resources.files("klantreis.model").joinpath("templates", f"{name}.yaml").read_text()
    data = json.loads(json.dumps(YAML(typ="safe", pure=True).load(text), default=str))
    jsonschema.Draft202012Validator(journey_schema()).validate(data)


def test_schema_rejects_a_misspelled_field() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(journey_schema())
    bad = {"key": "j", "touchpoints": [{"key": "a", "phase": "awareness", "chanel": "web"}]}
    assert [e.message for e in validator.iter_errors(bad)] == [
        "Additional properties are not allowed ('chanel' was unexpected)"
    ]
