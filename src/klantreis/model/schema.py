"""The JSON Schema of a journey file, for editors (``docs/journey.schema.json``).

Generated from the pydantic model by ``scripts/journey_schema.py``; a test keeps the
published file equal to what this function returns.

    >>> schema = journey_schema()
    >>> schema["title"], "touchpoints" in schema["properties"]
    ('Klantreis journey', True)
"""

from __future__ import annotations

import json
from typing import Any

from klantreis.model.journey import Journey

__all__ = ["SCHEMA_ID", "journey_schema", "journey_schema_text"]

SCHEMA_ID = "https://klantreis.example/schema/journey.schema.json"


def journey_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a journey YAML file."""
    schema = Journey.model_json_schema(mode="validation")
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Klantreis journey",
        "description": (
            "A customer journey map (klantreis) as code: phases, touchpoints, channels, "
            "personas, triggers, goal and improvements. See docs/journey-format.md."
        ),
    }
    schema.pop("title", None)
    schema.pop("description", None)
    return {**head, **schema}


def journey_schema_text() -> str:
    """The schema as the exact text of ``docs/journey.schema.json``."""
    return json.dumps(journey_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
