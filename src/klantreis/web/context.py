"""The data of every page, as typed dataclasses.

A page's template receives its context dataclass as ``page``; the page's JSON twin is
:func:`to_json` of the same object, so the HTML and the JSON show the same numbers.
Fields marked ``json=False`` in their metadata (a chart's figure) are for the template
only.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ErrorContext",
    "FunnelContext",
    "HomeContext",
    "IngestRow",
    "JourneyLink",
    "MapContext",
    "Option",
    "ProblemRow",
    "ReportContext",
    "UploadContext",
    "UploadSummary",
    "ValidationContext",
    "ValidationFile",
    "to_json",
]

_TEMPLATE_ONLY = {"json": False}


@dataclass(frozen=True)
class Option:
    """One choice in a form (value and the label shown)."""

    value: str
    label: str


@dataclass(frozen=True)
class JourneyLink:
    key: str
    name: str
    touchpoints: int
    map_url: str
    report_url: str
    funnel_url: str


@dataclass(frozen=True)
class IngestRow:
    file: str
    kind: str
    read: int
    stored: int
    duplicates: int
    rejected: int
    unmapped: int
    finished_at: str | None


@dataclass(frozen=True)
class HomeContext:
    workspace: str
    language: str
    journeys: list[JourneyLink]
    counts: dict[str, int]
    ingests: list[IngestRow]
    journeys_error: str | None = None


@dataclass(frozen=True)
class MapContext:
    journey: str
    name: str
    state: str
    persona: str | None
    states: list[Option]
    personas: list[Option]
    metrics: dict[str, Any]
    skipped: dict[str, str]


@dataclass(frozen=True)
class ReportContext:
    journey: str
    name: str
    persona: str | None
    personas: list[Option]
    results: dict[str, Any]
    skipped: dict[str, str]


@dataclass(frozen=True)
class FunnelContext:
    journey: str
    name: str
    touchpoints: list[Option]
    modes: list[Option]
    steps: list[str]
    window: str
    mode: str
    slots: int
    result: dict[str, Any] | None = None
    figure: str | None = field(default=None, metadata=_TEMPLATE_ONLY)


@dataclass(frozen=True)
class ProblemRow:
    where: str
    line: int | None
    severity: str
    field: str | None
    code: str
    message: str


@dataclass(frozen=True)
class ValidationFile:
    file: str
    journey: str | None
    problems: list[ProblemRow]


@dataclass(frozen=True)
class ValidationContext:
    files: list[ValidationFile]
    errors: int
    warnings: int


@dataclass(frozen=True)
class UploadSummary:
    file: str
    original_name: str
    kind: str
    read: int
    stored: int
    duplicates: int
    rejected: int
    unmapped: dict[str, int]
    unmapped_total: int
    reasons: dict[str, int]


@dataclass(frozen=True)
class UploadContext:
    kinds: list[Option]
    extensions: list[str]
    max_bytes: int
    summary: UploadSummary | None = None


@dataclass(frozen=True)
class ErrorContext:
    status: int
    code: str
    message: str
    hint: str | None = None
    problems: list[ProblemRow] = field(default_factory=list)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def to_json(context: Any) -> dict[str, Any]:
    """The JSON twin of a context: its fields (except template-only ones), NaN as null."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(context):
        if f.metadata.get("json", True) is False:
            continue
        value = getattr(context, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = to_json(value)
        elif isinstance(value, list):
            value = [
                to_json(v) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v
                for v in value
            ]
        out[f.name] = _clean(value)
    return out
