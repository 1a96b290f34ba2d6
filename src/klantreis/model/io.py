"""Journey files: load with precise error locations, save keeping comments and order.

Loading reads the YAML with ruamel.yaml's round-trip loader, so every node knows its
line. Type errors (pydantic) and cross-reference errors (:mod:`.validate`) both come
back as :class:`~klantreis.errors.Problem` objects naming file, line and field.
Saving merges the model into the node it was loaded from, so comments and key order
of unchanged parts survive.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "j.yaml").write_text("key: j\\nname: Demo\\n")
    >>> load_journey(folder / "j.yaml").name
    'Demo'
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError

from klantreis.errors import JourneyError, JourneyInvalid, Problem
from klantreis.i18n import t
from klantreis.model._problems import pydantic_problems
from klantreis.model.journey import Journey
from klantreis.model.validate import Loc, check_journey, field_path

__all__ = [
    "dump_journey",
    "journey_file_problems",
    "journey_problems",
    "load_journey",
    "parse_journey",
    "save_journey",
]


class _Constructor(RoundTripConstructor):
    """The round-trip constructor, with a located error for impossible dates."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError as exc:
            raise ConstructorError(
                problem=f"bad date {node.value!r}: {exc}", problem_mark=node.start_mark
            ) from None


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.Constructor = _Constructor
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap what the user wrote
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _position(node: Any, loc: Loc) -> tuple[int | None, int | None]:
    """1-based (line, column) of the deepest part of ``loc`` that exists in ``node``."""
    line: int | None = None
    col: int | None = None
    if hasattr(node, "lc"):
        line, col = node.lc.line + 1, node.lc.col + 1
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            ln, cl = node.lc.key(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            ln, cl = node.lc.item(part)
            line, col = ln + 1, cl + 1
            node = node[part]
        elif isinstance(part, str) and not isinstance(node, CommentedMap | CommentedSeq):
            continue  # pydantic union tags ('str', 'dict[...]') have no node
        else:
            break
    return line, col


def _locate(problem: Problem, file: str | None, node: Any) -> Problem:
    loc = problem.params.get("loc", ())
    line, col = _position(node, loc)
    return Problem(
        code=problem.code,
        message=problem.message,
        file=file,
        line=line,
        column=col,
        field=field_path(loc, node) or None,
        severity=problem.severity,
        params=problem.params,
    )


def _yaml_problem(exc: MarkedYAMLError, file: str | None, lang: str) -> Problem:
    """A YAML syntax error at the place the parser stopped, with a hint where we have one."""
    mark = exc.problem_mark or exc.context_mark
    problem = str(exc.problem or exc)
    if isinstance(exc, DuplicateKeyError):
        found = re.match(r'found duplicate key "(.*?)"', problem)
        first = exc.context_mark.line + 1 if exc.context_mark else "?"
        message = t("journey.yaml_duplicate", lang, value=found[1] if found else "?", first=first)
        code = "yaml.duplicate"
    elif problem.startswith("bad date"):
        message = t("journey.yaml_date", lang, value=problem.split("'")[1])
        code = "yaml.date"
    else:
        message = t("journey.yaml", lang, detail=problem)
        code = "yaml"
        if "\t" in problem or "'\\t'" in problem:
            message += " " + t("journey.yaml_tab", lang)
        elif "mapping values are not allowed" in problem:
            message += " " + t("journey.yaml_colon", lang)
        if exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
            message += " " + t("journey.yaml_started", lang, line=exc.context_mark.line + 1)
    return Problem(
        code=code,
        message=message,
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def journey_problems(
    text: str, *, file: str | None = None, lang: str = "en"
) -> tuple[Journey | None, list[Problem]]:
    """Parse and check journey YAML text; return the journey (None if unusable) and all
    problems found (errors and warnings), each with file, line and field."""
    try:
        node = _yaml().load(text)
    except MarkedYAMLError as exc:
        return None, [_yaml_problem(exc, file, lang)]
    if not isinstance(node, dict):
        code = "empty" if node is None else "not_mapping"
        return None, [Problem(code=code, message=t(f"journey.{code}", lang), file=file, line=1)]
    try:
        journey = Journey.model_validate(_plain(node))
    except ValidationError as exc:
        return None, [_locate(p, file, node) for p in pydantic_problems(exc, lang)]
    journey._path = Path(file) if file else None
    journey._node = node
    return journey, [_locate(p, file, node) for p in check_journey(journey, lang)]


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (for pydantic)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def journey_file_problems(
    path: str | os.PathLike[str], *, lang: str = "en"
) -> tuple[Journey | None, list[Problem]]:
    """Like :func:`journey_problems` for a file; a file that cannot be read is a problem too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message = t("journey.file_missing", lang, file=str(path))
    except UnicodeDecodeError as exc:
        message = t("journey.encoding", lang, file=str(path), detail=str(exc))
    except OSError as exc:
        message = t("journey.file_unreadable", lang, file=str(path), detail=exc.strerror or exc)
    else:
        return journey_problems(text, file=str(path), lang=lang)
    return None, [Problem(code="file", message=message, file=str(path))]


def parse_journey(text: str, *, file: str | None = None, lang: str = "en") -> Journey:
    """Parse journey YAML text; raise :class:`JourneyInvalid` on any error."""
    journey, problems = journey_problems(text, file=file, lang=lang)
    if journey is None or any(p.severity == "error" for p in problems):
        raise JourneyInvalid(problems)
    return journey


def load_journey(path: str | os.PathLike[str], *, lang: str = "en") -> Journey:
    """Load and validate a journey file; raise :class:`JourneyInvalid` naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JourneyError(t("journey.file_missing", lang, file=str(path))) from None
    except UnicodeDecodeError as exc:
        raise JourneyError(t("journey.encoding", lang, file=str(path), detail=str(exc))) from None
    return parse_journey(text, file=str(path), lang=lang)


def _data(value: Any) -> Any:
    """Plain data for YAML: every field whose value is not its default (a list appended
    to, say), and every field written in the file or set in code unless it is empty."""
    if isinstance(value, BaseModel):
        out = {}
        for name, field in type(value).model_fields.items():
            item = getattr(value, name)
            changed = item != field.get_default(call_default_factory=True)
            written = name in value.model_fields_set and item not in (None, [], {})
            if changed or written:
                out[name] = _data(item)
        return out
    if isinstance(value, list | tuple):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {k: _data(v) for k, v in value.items()}
    return value


def _merge(node: Any, data: Any) -> Any:
    """Update ruamel ``node`` in place to equal ``data``; keep comments where it can."""
    if isinstance(node, CommentedMap) and isinstance(data, dict):
        for key in [k for k in node if k not in data]:
            del node[key]
        for key, value in data.items():
            node[key] = _merge(node[key], value) if key in node else value
        return node
    if isinstance(node, CommentedSeq) and isinstance(data, list):
        if _keyed(node) and _keyed(data):
            return _merge_keyed(node, data)
        del node[len(data) :]
        for i, value in enumerate(data):
            if i < len(node):
                node[i] = _merge(node[i], value)
            else:
                node.append(value)
        return node
    if _same_scalar(node, data):
        return node  # keep the scalar node (its quoting or folding style)
    return data


def _keyed(items: list[Any]) -> bool:
    """A list of mappings with unique 'key' fields (touchpoints, channels, personas...)."""
    keys = [item.get("key") if isinstance(item, dict) else None for item in items]
    return all(isinstance(k, str) for k in keys) and len(set(keys)) == len(keys)


def _merge_keyed(node: CommentedSeq, data: list[dict[str, Any]]) -> CommentedSeq:
    """Merge list items by their key, so an item keeps its own comments when others are
    removed, inserted or moved."""
    wanted = {item["key"] for item in data}
    for i in reversed(range(len(node))):
        if node[i]["key"] not in wanted:
            del node[i]  # CommentedSeq shifts the comments of the items after it
    old = {item["key"]: item for item in node}
    kept = [item["key"] for item in data if item["key"] in old]
    if [item["key"] for item in node] == kept:
        for i, item in enumerate(data):
            if item["key"] in old:
                _merge(node[i], item)
            else:
                node.insert(i, item)
        return node
    merged = [_merge(old[item["key"]], item) if item["key"] in old else item for item in data]
    del node[:]
    node.extend(merged)
    return node


def _same_scalar(node: Any, data: Any) -> bool:
    if isinstance(node, bool) or isinstance(data, bool):
        return type(node) is type(data) and node == data
    if isinstance(node, int | float) and isinstance(data, int | float):
        return node == data  # 480 written for a float field stays 480
    return isinstance(data, str | date) and isinstance(node, type(data)) and node == data


def dump_journey(journey: Journey) -> str:
    """The journey as YAML text (comments and key order kept if it was loaded from a file)."""
    node = journey._node if journey._node is not None else CommentedMap()
    node = _merge(node, _data(journey))
    buf = io.StringIO()
    _yaml().dump(node, buf)
    return buf.getvalue()


def save_journey(journey: Journey, path: str | os.PathLike[str] | None = None) -> Path:
    """Write the journey atomically to ``path`` (default: where it was loaded from)."""
    target = Path(path) if path is not None else journey._path
    if target is None:
        raise JourneyError("this journey was not loaded from a file; give a path to save it to")
    text = dump_journey(journey)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".journey-", suffix=".yaml", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target)
    journey._path = target
    return target
