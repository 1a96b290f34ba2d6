"""Pydantic's validation errors as plain-language problems, in Dutch or English.

Pydantic reports one error per branch of a union (``str | dict`` for texts,
``int | float`` for scores) and uses its own words; this module folds the branches
into one problem per field, translates the common error types, and adds a "did you
mean" to unknown fields and wrong choices. Line numbers are added later by
:mod:`klantreis.model.io`, from the location each problem carries.

    >>> from pydantic import ValidationError
    >>> from klantreis.model.journey import Journey
    >>> try:
    ...     Journey.model_validate({"key": "j", "touchpoints": [
    ...         {"key": "a", "phase": "awareness", "loop": "purchse"}]})
    ... except ValidationError as exc:
    ...     print(pydantic_problems(exc, "en")[0].message)
    'purchse' is not allowed here; use 'purchase', 'service' or 'loyalty' (did you mean 'purchase'?)
"""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from klantreis.errors import Problem, did_you_mean
from klantreis.i18n import t
from klantreis.model.journey import Journey
from klantreis.model.validate import Loc, make_problem

__all__ = ["pydantic_problems"]

# Names pydantic gives to the branches of a union in an error location.
_UNION_TAGS = {"str", "int", "float", "bool", "date", "dict", "list", "none"}
_TEXT_TAG = "dict[literal['nl','en'],str]"

# pydantic error type -> message key (journey.field.<key>)
_CODES = {
    "missing": "missing",
    "extra_forbidden": "extra",
    "literal_error": "choice",
    "enum": "choice",
    "string_type": "string",
    "int_parsing": "number",
    "int_type": "number",
    "int_from_float": "number",
    "float_parsing": "number",
    "float_type": "number",
    "finite_number": "number",
    "bool_parsing": "bool",
    "bool_type": "bool",
    "date_parsing": "date",
    "date_type": "date",
    "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "list_type": "list",
    "dict_type": "mapping",
    "model_type": "mapping",
    "model_attributes_type": "mapping",
    "too_short": "too_short",
    "too_long": "too_long",
    "string_too_long": "string_too_long",
    "greater_than": "gt",
    "greater_than_equal": "ge",
    "less_than": "lt",
    "less_than_equal": "le",
    "probability_range": "probability_range",
    "probability_sum": "probability_sum",
    "regex": "regex",
}
_DURATION_PATTERN = "^\\d+(\\.\\d+)?\\s*(s|m|h|d|w)$"


_Errors = list[tuple[tuple[Any, ...], dict[str, Any]]]


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or "[" in part)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def pydantic_problems(exc: ValidationError, lang: str) -> list[Problem]:
    """One problem per wrong field of a failed ``Journey.model_validate``."""
    # Group the errors by field: a union reports one error per branch at one place.
    groups: dict[Loc, _Errors] = {}
    for err in exc.errors(include_url=False):
        raw = tuple(err["loc"])
        cut = raw[: raw.index(_TEXT_TAG)] if _TEXT_TAG in raw else raw
        loc = tuple(p for p in cut if not _is_tag(p))
        if loc[-1:] == ("[key]",):
            loc = loc[:-1]
        groups.setdefault(loc, []).append((raw, err))
    problems = []
    for loc, errs in groups.items():
        if any(_TEXT_TAG in raw for raw, _ in errs):
            problems.append(_text_problem(loc, errs, lang))
        else:
            problems.append(_problem(loc, errs[0][1], lang))
    return problems


def _text_problem(loc: Loc, errs: _Errors, lang: str) -> Problem:
    """A text field that is neither a string nor ``{nl: ..., en: ...}``."""
    for raw, err in errs:
        if _TEXT_TAG in raw and err["type"] == "literal_error" and raw[-1] == "[key]":
            return make_problem("field.text_language", loc, lang, value=_short(raw[-2]))
    return make_problem("field.text", loc, lang)


def _problem(loc: Loc, err: dict[str, Any], lang: str) -> Problem:
    kind = err["type"]
    code = _CODES.get(kind, "type")
    ctx = dict(err.get("ctx") or {})
    value = err.get("input")
    params: dict[str, Any] = {}
    if code == "missing":
        params["value"] = loc[-1]
    elif code == "extra":
        name = str(loc[-1])
        params["value"] = name
        params["suggestion"] = did_you_mean(name, _allowed_fields(loc[:-1]))
    elif code == "choice":
        expected = str(ctx.get("expected", ""))
        options = re.findall(r"'([^']*)'", expected)
        params["value"] = _short(value)
        params["allowed"] = _choices(options, lang) if options else expected
        params["suggestion"] = did_you_mean(str(value), options)
    elif kind == "string_pattern_mismatch":
        code = "duration" if ctx.get("pattern") == _DURATION_PATTERN else "pattern"
        params["value"] = _short(value)
    elif code in ("number", "bool", "date"):
        params["value"] = _short(value)
    elif code in ("too_short", "too_long"):
        params["actual"] = ctx.get("actual_length")
        params["limit"] = ctx.get("min_length" if code == "too_short" else "max_length")
    elif code == "string_too_long":
        params["limit"] = ctx.get("max_length")
    elif code in ("gt", "ge", "lt", "le"):
        params["value"] = _short(value)
        params["limit"] = _number(ctx.get(code))
    elif code in ("probability_range", "probability_sum", "regex"):
        params.update(ctx)
    elif code == "type":
        params["detail"] = err["msg"]
    return make_problem(f"field.{code}", loc, lang, **params)


def _choices(options: list[str], lang: str) -> str:
    """'a', 'b' or 'c' (in the language of the message)."""
    quoted = [f"'{o}'" for o in options]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} {t('common.or', lang)} {quoted[-1]}"


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _allowed_fields(loc: Loc) -> list[str]:
    """Field names the model at ``loc`` accepts (for 'did you mean' on unknown fields)."""
    model: Any = Journey
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
