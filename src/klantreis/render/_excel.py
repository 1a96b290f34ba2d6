"""The journey as an Excel workbook marketers can edit, and back.

One sheet per list (phases, channels, touchpoints, personas, triggers, improvements),
a ``journey`` sheet with the journey's own fields as field/value rows, and one sheet per
statement list of the touchpoints (thoughts, pain_points, opportunities: one row per
item, with its touchpoint). Nested fields are flattened to dotted column names
(``experience.current``, ``goal.target``); a text in two languages becomes two columns
(``name.nl``, ``name.en``); lists of keys are comma-separated (``predecessors``:
``site, trial``); the few deep structures (event rules, simulation probabilities) are
JSON in one cell. Reading the workbook back gives an equal journey.
"""

from __future__ import annotations

import json
import re
import types
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from klantreis.errors import JourneyError, JourneyInvalid, Problem
from klantreis.i18n import t
from klantreis.model.journey import Journey, Touchpoint

__all__ = ["SHEETS", "read_journey_xlsx", "write_journey_xlsx"]

LISTS = ("phases", "channels", "touchpoints", "personas", "triggers", "improvements")
STATEMENTS = ("thoughts", "pain_points", "opportunities")
SHEETS = ("journey", *LISTS, *STATEMENTS)
_KEY = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_HEADER_FILL = "DDEBF7"
_TYPE_TAGS = {"int", "float", "str", "bool", "date", "list", "dict"}


# -- type helpers -----------------------------------------------------------------
def _strip(annotation: Any) -> list[Any]:
    """The non-None members of a (possibly Optional / Annotated) annotation."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        out: list[Any] = []
        for arg in get_args(annotation):
            if arg is not type(None):
                out.extend(_strip(arg))
        return out
    return [annotation]


def _model(annotation: Any) -> type[BaseModel] | None:
    members = _strip(annotation)
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
        return members[0]
    return None


def _is_text(annotation: Any) -> bool:
    members = _strip(annotation)
    if str not in members or len(members) != 2:
        return False
    other = members[1] if members[0] is str else members[0]
    return get_origin(other) is dict and get_origin(get_args(other)[0]) is Literal


def _is_key_list(annotation: Any) -> bool:
    members = _strip(annotation)
    if len(members) != 1 or get_origin(members[0]) is not list:
        return False
    item = _strip(get_args(members[0])[0])
    return item == [str]


def _is_container(annotation: Any) -> bool:
    return any(get_origin(m) in (list, dict) for m in _strip(annotation))


# -- flatten / unflatten --------------------------------------------------------------
def flatten(
    cls: type[BaseModel], data: dict[str, Any], prefix: str = "", skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A JSON-mode model dump as {dotted column: cell value}."""
    out: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        if name in skip or name not in data:
            continue
        value, column = data[name], prefix + name
        sub = _model(info.annotation)
        if sub is not None and isinstance(value, dict):
            out.update(flatten(sub, value, column + "."))
        elif _is_text(info.annotation) and isinstance(value, dict):
            for lang in ("nl", "en"):
                if lang in value:
                    out[f"{column}.{lang}"] = value[lang]
        elif isinstance(value, list | dict) and not value:
            # an empty list where the default is None (a to-be state's "none left")
            # means something: keep it as [] rather than an empty cell
            optional = info.default is None and info.default_factory is None
            out[column] = json.dumps(value) if optional else None
        elif (
            isinstance(value, list)
            and _is_key_list(info.annotation)
            and all(isinstance(v, str) and _KEY.match(v) for v in value)
        ):
            out[column] = ", ".join(value)
        elif isinstance(value, list | dict):
            out[column] = json.dumps(value, ensure_ascii=False)
        else:
            out[column] = value
    return out


def unflatten(cls: type[BaseModel], row: dict[str, Any], where: str) -> dict[str, Any]:
    """The inverse of :func:`flatten` (empty cells are left out, so defaults apply)."""
    data: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        own = {k: v for k, v in row.items() if k == name or k.startswith(name + ".")}
        own = {k: v for k, v in own.items() if v is not None and v != ""}
        if not own:
            continue
        sub = _model(info.annotation)
        if sub is not None:
            data[name] = unflatten(
                sub, {k[len(name) + 1 :]: v for k, v in own.items() if k != name}, where
            )
        elif _is_text(info.annotation) and name not in own:
            data[name] = {k.split(".", 1)[1]: _cell(v) for k, v in own.items()}
        elif name in own and _is_container(info.annotation):
            value = own[name]
            if isinstance(value, str) and value.strip()[:1] in "[{":
                try:
                    data[name] = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise JourneyError(f"{where}, column '{name}': not valid JSON: {exc}") from None
            elif _is_key_list(info.annotation):
                data[name] = [part.strip() for part in str(value).split(",") if part.strip()]
            else:
                data[name] = value
        elif name in own:
            data[name] = _cell(own[name])
    return data


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- write ----------------------------------------------------------------------------
def _sheet(
    wb: Any,
    title: str,
    rows: list[dict[str, Any]],
    first: tuple[str, ...] = ("key",),
    cls: type[BaseModel] | None = None,
) -> None:
    from openpyxl.styles import Font, PatternFill

    ws = wb.create_sheet(title)
    columns: list[str] = list(first)
    for row in rows:
        for column in row:
            if column not in columns:
                columns.append(column)
    if cls is not None:  # columns in the model's field order
        rank = {name: i for i, name in enumerate(cls.model_fields)}
        seen = {c: i for i, c in enumerate(columns)}
        columns.sort(key=lambda c: (c not in first, rank.get(c.split(".")[0], len(rank)), seen[c]))
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
    for row in rows:
        ws.append([row.get(c) for c in columns])
    ws.freeze_panes = "A2"
    for i, column in enumerate(columns, start=1):
        width = max([len(str(column))] + [len(str(r.get(column) or "")) for r in rows[:200]])
        ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, max(10, width + 2))


def write_journey_xlsx(journey: Journey, path: str | Path) -> Path:
    """Write the journey to an Excel workbook (see the module docstring for its layout)."""
    from openpyxl import Workbook

    data = journey.model_dump(mode="json")
    wb = Workbook()
    wb.remove(wb.active)
    head = flatten(Journey, data, skip=LISTS)
    ws_rows = [{"field": k, "value": v} for k, v in head.items() if v is not None]
    _sheet(wb, "journey", ws_rows, first=("field", "value"))
    models: dict[str, type[BaseModel]] = {
        name: _model(get_args(Journey.model_fields[name].annotation)[0]) or BaseModel
        for name in LISTS
    }
    for name in LISTS:
        skip = STATEMENTS if name == "touchpoints" else ()
        rows = [flatten(models[name], item, skip=skip) for item in data[name]]
        _sheet(wb, name, rows, cls=models[name])
    for name in STATEMENTS:
        cls = _model(get_args(Touchpoint.model_fields[name].annotation)[0])
        assert cls is not None
        rows = [
            {"touchpoint": tp["key"], **flatten(cls, item)}
            for tp in data["touchpoints"]
            for item in tp[name]
        ]
        _sheet(wb, name, rows, first=("touchpoint",), cls=cls)
    target = Path(path)
    wb.save(target)
    return target


# -- read -----------------------------------------------------------------------------
def _rows(ws: Any) -> list[tuple[int, dict[str, Any]]]:
    values = list(ws.iter_rows(values_only=True))
    if not values:
        return []
    header = [str(h).strip() if h is not None else "" for h in values[0]]
    out = []
    for number, row in enumerate(values[1:], start=2):
        record = {h: v for h, v in zip(header, row, strict=False) if h}
        if any(v is not None and v != "" for v in record.values()):
            out.append((number, record))
    return out


def read_journey_xlsx(path: str | Path, *, lang: str = "en") -> Journey:
    """Read a workbook written by :func:`write_journey_xlsx` (possibly edited) back."""
    from openpyxl import load_workbook

    file = str(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise JourneyError(f"{file}: cannot read the workbook: {exc}") from None
    if "journey" not in wb.sheetnames:
        raise JourneyError(
            t(
                "render.export.sheet_missing",
                lang,
                file=file,
                sheet="journey",
                allowed=", ".join(SHEETS),
            )
        )
    where = f"{file}, sheet 'journey'"
    head = {
        str(r["field"]).strip(): r.get("value") for _, r in _rows(wb["journey"]) if r.get("field")
    }
    data = unflatten(Journey, {k: v for k, v in head.items()}, where)
    rows_of: dict[str, list[int]] = {}
    for name in LISTS:
        if name not in wb.sheetnames:
            continue
        cls = _model(get_args(Journey.model_fields[name].annotation)[0])
        assert cls is not None
        rows = _rows(wb[name])
        rows_of[name] = [n for n, _ in rows]
        data[name] = [unflatten(cls, row, f"{file}, sheet '{name}', row {n}") for n, row in rows]
    by_key = {tp.get("key"): tp for tp in data.get("touchpoints", [])}
    for name in STATEMENTS:
        if name not in wb.sheetnames:
            continue
        cls = _model(get_args(Touchpoint.model_fields[name].annotation)[0])
        assert cls is not None
        for n, row in _rows(wb[name]):
            key = row.pop("touchpoint", None)
            if key not in by_key:
                raise JourneyError(
                    t(
                        "render.export.cell",
                        lang,
                        file=file,
                        sheet=name,
                        row=n,
                        column="touchpoint",
                        detail=f"unknown touchpoint '{key}'",
                    )
                )
            by_key[key].setdefault(name, []).append(
                unflatten(cls, row, f"{file}, sheet '{name}', row {n}")
            )
    wb.close()
    try:
        return Journey.model_validate(data)
    except ValidationError as exc:
        problems = []
        seen: set[tuple[str, Any, str]] = set()
        for err in exc.errors(include_url=False):
            loc = [
                p for p in err["loc"] if not (isinstance(p, str) and (p in _TYPE_TAGS or "[" in p))
            ]
            sheet, row, column = "journey", None, ".".join(str(p) for p in loc)
            if loc and loc[0] in LISTS and len(loc) > 1 and isinstance(loc[1], int):
                sheet = str(loc[0])
                numbers = rows_of.get(sheet, [])
                row = numbers[loc[1]] if loc[1] < len(numbers) else None
                column = ".".join(str(p) for p in loc[2:])
            if (sheet, row, column) in seen:  # a union reports one error per member type
                continue
            seen.add((sheet, row, column))
            problems.append(
                Problem(
                    code="xlsx",
                    file=file,
                    message=t(
                        "render.export.cell_in",
                        lang,
                        sheet=sheet,
                        row=row or "-",
                        column=column,
                        detail=err["msg"],
                    ),
                )
            )
        raise JourneyInvalid(problems) from None
