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
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from klantreis.errors import JourneyError, JourneyInvalid, Problem, did_you_mean
from klantreis.i18n import t
from klantreis.model.journey import Journey
from klantreis.model.validate import Loc, check_journey, field_path, make_problem

__all__ = [
    "dump_journey",
    "journey_problems",
    "load_journey",
    "parse_journey",
    "save_journey",
]


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 100
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


_PYDANTIC_CODES = {
    "missing": "missing",
    "extra_forbidden": "extra",
    "literal_error": "choice",
    "string_pattern_mismatch": "pattern",
}


def _pydantic_problems(exc: ValidationError, node: Any, lang: str) -> list[Problem]:
    problems = []
    seen: set[Loc] = set()
    for err in exc.errors(include_url=False):
        # Unions report one error per branch; keep the first per location.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in {"str", "dict"})))
        if loc in seen:
            continue
        seen.add(loc)
        code = _PYDANTIC_CODES.get(err["type"], "type")
        params: dict[str, Any] = {"detail": err["msg"]}
        if code == "extra":
            name = str(loc[-1])
            params["value"] = name
            allowed = _allowed_fields(loc[:-1], node)
            params["suggestion"] = did_you_mean(name, allowed)
        elif code == "choice":
            params["value"] = err.get("input")
            params["allowed"] = (err.get("ctx") or {}).get("expected", "")
        elif code == "pattern":
            params["value"] = err.get("input")
        problems.append(make_problem(f"field.{code}", loc, lang, **params))
    return problems


def _allowed_fields(loc: Loc, node: Any) -> list[str]:
    """Field names the model at ``loc`` accepts (for 'did you mean' on unknown fields)."""
    from pydantic import BaseModel

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
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def journey_problems(
    text: str, *, file: str | None = None, lang: str = "en"
) -> tuple[Journey | None, list[Problem]]:
    """Parse and check journey YAML text; return the journey (None if unusable) and all
    problems found (errors and warnings), each with file, line and field."""
    yaml = _yaml()
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return None, [
            Problem(
                code="yaml",
                message=t("journey.yaml", lang, detail=exc.problem or str(exc)),
                file=file,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ]
    if not isinstance(node, dict):
        return None, [Problem(code="not_mapping", message=t("journey.not_mapping", lang), file=file, line=1)]
    try:
        journey = Journey.model_validate(_plain(node))
    except ValidationError as exc:
        return None, [_locate(p, file, node) for p in _pydantic_problems(exc, node, lang)]
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


def _data(journey: Journey) -> dict[str, Any]:
    return journey.model_dump(mode="json", exclude_defaults=True)


def _merge(node: Any, data: Any) -> Any:
    """Update ruamel ``node`` in place to equal ``data``; keep comments where it can."""
    if isinstance(node, CommentedMap) and isinstance(data, dict):
        for key in [k for k in node if k not in data]:
            del node[key]
        for key, value in data.items():
            node[key] = _merge(node[key], value) if key in node else value
        return node
    if isinstance(node, CommentedSeq) and isinstance(data, list):
        del node[len(data):]
        for i, value in enumerate(data):
            if i < len(node):
                node[i] = _merge(node[i], value)
            else:
                node.append(value)
        return node
    if type(node) is type(data) and node == data:
        return node  # keep the scalar node (its quoting style)
    return data


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
