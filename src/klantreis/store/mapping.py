"""The mapping file: which of their columns is which of ours, and which raw events are
which touchpoints. Files that already use the canonical column names need none.

    columns:                 # our name: their column
      customer_id: Klantnummer
      timestamp: Datum
      event: Gebeurtenis     # raw event name, mapped to a touchpoint by the rules
      value: Bedrag
    events:                  # tried in order, before the journey's own rules
      - {name: page_view, where: {page: /prijzen}, touchpoint: pricing, channel: web}
      - {glob: "checkout_*", touchpoint: purchase}
      - {regex: "^app_(open|start)$", touchpoint: app}
    read: {delimiter: ";", encoding: cp1252, decimal: ",", date_format: "%d-%m-%Y %H:%M"}
    timezone: Europe/Amsterdam
    pseudonymise: true

    >>> m = Mapping.from_dict({"columns": {"customer_id": "Klant"}})
    >>> m.columns
    {'customer_id': 'Klant'}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from klantreis.errors import MappingError, did_you_mean
from klantreis.model.journey import EventMatch
from klantreis.store.readers import ReadOptions

__all__ = ["ROLES", "EventRule", "Mapping", "load_mapping", "resolve_columns"]

#: The columns each kind understands; the first ones listed under REQUIRED must be there.
ROLES: dict[str, tuple[str, ...]] = {
    "events": (
        "event_id",
        "customer_id",
        "timestamp",
        "touchpoint",
        "event",
        "channel",
        "value",
        "properties",
    ),
    "feedback": (
        "feedback_id",
        "customer_id",
        "timestamp",
        "touchpoint",
        "metric",
        "score",
        "comment",
    ),
    "customers": ("customer_id", "segment", "persona", "attributes"),
    "identities": ("alias_id", "customer_id", "kind"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "events": ("customer_id", "timestamp"),
    "feedback": ("customer_id", "timestamp", "metric", "score"),
    "customers": ("customer_id",),
    "identities": ("alias_id", "customer_id"),
}
#: Other names that are understood without a mapping (lower case).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "event": ("event_name", "raw_name", "name"),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventRule(EventMatch):
    """A raw event name (exact, glob or regex; optional property condition) -> touchpoint.

    The matching part is the journey's own :class:`~klantreis.model.EventMatch`, so a
    rule in a mapping file and a touchpoint's ``events:`` entry mean the same thing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    touchpoint: str
    channel: str | None = None

    def pattern(self) -> tuple[str, str]:
        kinds = [
            (k, getattr(self, k)) for k in ("name", "glob", "regex") if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError("give exactly one of name, glob or regex")
        return kinds[0]


class _Read(_Model):
    format: Literal["csv", "tsv", "xlsx", "parquet", "jsonl"] | None = None
    delimiter: str | None = None
    quote: str | None = None
    encoding: str | None = None
    decimal: Literal[".", ","] | None = None
    date_format: str | None = None
    sheet: str | None = None


class Mapping(_Model):
    """A parsed mapping file (see the module docstring)."""

    kind: Literal["events", "feedback", "customers", "identities"] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    events: list[EventRule] = Field(default_factory=list)
    read: _Read = Field(default_factory=_Read)
    timezone: str | None = None
    pseudonymise: bool | None = None
    journey_rules: bool = Field(True, description="Also apply the journey's own event rules.")

    @field_validator("events")
    @classmethod
    def _one_pattern(cls, v: list[EventRule]) -> list[EventRule]:
        for rule in v:
            rule.pattern()
        return v

    @classmethod
    def from_dict(cls, data: dict[str, Any], file: str | None = None) -> Mapping:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise MappingError(err["msg"], file=file, field=where or None) from None

    def read_options(self) -> ReadOptions:
        return ReadOptions(**self.read.model_dump())


def load_mapping(
    source: str | os.PathLike[str] | dict[str, Any] | Mapping | None, lang: str | None = None
) -> Mapping:
    """A Mapping from a YAML file path, a dict, a Mapping or None (no mapping)."""
    from klantreis.i18n import t

    if source is None:
        return Mapping()
    if isinstance(source, Mapping):
        return source
    if isinstance(source, dict):
        return Mapping.from_dict(source)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(
            t("store.mapping.unreadable", lang, error=exc.strerror), file=path
        ) from None
    try:
        data = YAML(typ="safe", pure=True).load(text) or {}
    except YAMLError as exc:
        raise MappingError(t("store.mapping.yaml", lang, error=str(exc)), file=path) from None
    if not isinstance(data, dict):
        raise MappingError(t("store.mapping.not_a_mapping", lang), file=path)
    return Mapping.from_dict(data, file=str(path))


def resolve_columns(
    kind: str, columns: list[str], mapping: Mapping, file: Path, lang: str | None = None
) -> dict[str, str]:
    """Our role -> their column, for the roles present; raise MappingError for a missing
    required column, naming it and the closest column of the file."""
    from klantreis.i18n import t

    roles = ROLES[kind]
    for ours, theirs in mapping.columns.items():
        if ours not in roles:
            guess = did_you_mean(ours, roles)
            raise MappingError(
                t("store.mapping.role", lang, role=ours, kind=kind, roles=", ".join(roles)),
                field=f"columns.{ours}",
                hint=t("store.did_you_mean", lang, value=guess) if guess else None,
            )
        if theirs not in columns:
            guess = did_you_mean(theirs, columns)
            raise MappingError(
                t("store.mapping.column", lang, column=theirs, columns=", ".join(columns)),
                file=file,
                field=f"columns.{ours}",
                hint=t("store.did_you_mean", lang, value=guess) if guess else None,
            )
    lowered = {c.lower().strip(): c for c in columns}
    resolved: dict[str, str] = {}
    for role in roles:
        if role in mapping.columns:
            resolved[role] = mapping.columns[role]
            continue
        for name in (role, *SYNONYMS.get(role, ())):
            if name in lowered:
                resolved[role] = lowered[name]
                break
    if kind == "events" and "touchpoint" not in resolved and "event" not in resolved:
        _missing("touchpoint", columns, file, kind, lang)
    for role in REQUIRED[kind]:
        if role not in resolved:
            _missing(role, columns, file, kind, lang)
    return resolved


def _missing(role: str, columns: list[str], file: Path, kind: str, lang: str | None) -> None:
    from klantreis.i18n import t

    guess = did_you_mean(role, columns)
    if guess is None:
        guess = next((c for c in columns if role.split("_")[0] in c.lower()), None)
    hint = (
        t("store.mapping.missing.guess", lang, role=role, column=guess)
        if guess
        else t("store.mapping.missing.hint", lang, role=role)
    )
    raise MappingError(
        t("store.mapping.missing", lang, role=role, kind=kind, columns=", ".join(columns) or "-"),
        file=file,
        field=role,
        hint=hint,
    )
