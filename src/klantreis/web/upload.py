"""The upload page: a data file in, saved under ``data/uploads/``, ingested, summarised.

Safety: the client's file name is never used as a path; the file is saved under a
generated name (UTC time + random hex + the allowed extension) inside the workspace's
``data/uploads/`` folder. Only the extensions in :data:`EXTENSIONS` are accepted and
files above the app's size limit (``max_upload_bytes``, default
:data:`~klantreis.web.state.DEFAULT_MAX_UPLOAD_BYTES`) are refused with status 413,
before the body is read when the request says its length. The ingest itself is
``Workspace.ingest``, the same as ``klantreis ingest``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec
from klantreis.i18n import format_number, t
from klantreis.web.context import Option, UploadContext, UploadSummary
from klantreis.web.errors import UploadTooLarge
from klantreis.web.pages import Page, Query

if TYPE_CHECKING:
    from klantreis.web.state import AppState
    from klantreis.web.urls import Urls

__all__ = ["EXTENSIONS", "KINDS", "UPLOADS_DIR", "human_size", "safe_upload_path", "upload_page"]

EXTENSIONS = (".csv", ".tsv", ".xlsx", ".parquet", ".jsonl", ".ndjson")
KINDS = ("events", "feedback", "customers")
UPLOADS_DIR = "uploads"
_CHUNK = 1024 * 1024


def human_size(n: int, lang: str | None = None) -> str:
    """'100 MB', '1,5 kB' (decimal units)."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            value = n / size
            return f"{format_number(value, lang, digits=0 if value == int(value) else 1)} {unit}"
    return f"{n} B"


def client_extension(filename: str, lang: str | None = None) -> str:
    """The lower-case extension of the client's file name; refused unless allowed."""
    name = PurePosixPath(PureWindowsPath(filename).name).name
    ext = PurePosixPath(name).suffix.lower()
    if ext not in EXTENSIONS:
        raise InvalidSpec(
            "file",
            t("web.upload.bad_extension", lang, ext=ext or name),
            allowed=list(EXTENSIONS),
        )
    return ext


def safe_upload_path(folder: Path, ext: str) -> Path:
    """A new file path inside ``folder``: generated name, the given (allowed) extension."""
    if ext not in EXTENSIONS:
        raise InvalidSpec("file", "extension not allowed", value=ext, allowed=list(EXTENSIONS))
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = (folder / f"{stamp}-{secrets.token_hex(6)}{ext}").resolve()
    if target.parent != folder.resolve():  # cannot happen with a generated name; be sure
        raise InvalidSpec("file", "upload path escapes the uploads folder", value=str(target))
    return target


def _context(state: AppState, lang: str, summary: UploadSummary | None = None) -> UploadContext:
    return UploadContext(
        kinds=[Option(k, t(f"web.upload.kind.{k}", lang)) for k in KINDS],
        extensions=list(EXTENSIONS),
        max_bytes=state.max_upload_bytes,
        summary=summary,
    )


def check_length(state: AppState, length: int | None, lang: str | None) -> None:
    """Refuse a request whose declared body is far beyond the limit (before reading it)."""
    if length is not None and length > state.max_upload_bytes + 64 * 1024:
        _too_large(state, lang)


def _too_large(state: AppState, lang: str | None) -> None:
    limit = human_size(state.max_upload_bytes, lang)
    raise UploadTooLarge(
        t("web.upload.too_large", lang, limit=limit), hint=t("web.upload.too_large.hint", lang)
    )


def upload_page(state: AppState, query: Query, urls: Urls) -> Page:
    ws = state.workspace()
    lang = ws.settings.language
    title = t("web.upload.title", lang)
    upload = query.files.get("file")
    if query.values.get("kind") is None and upload is None:  # GET: the form only
        return Page(_context(state, lang), template="upload.html.j2", title=title)
    kind = query.get("kind") or "events"
    if kind not in KINDS:
        raise InvalidSpec("kind", "unknown kind of data", value=kind, allowed=list(KINDS))
    filename = getattr(upload, "filename", None)
    if upload is None or not filename:
        raise InvalidSpec("file", t("web.upload.no_file", lang))
    ext = client_extension(filename, lang)
    target = safe_upload_path(ws.data_dir / UPLOADS_DIR, ext)
    try:
        _copy_limited(upload.file, target, state, lang)
        summary = ws.ingest(target, kind=kind)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        state.changed()
    result = UploadSummary(
        file=target.name,
        original_name=PurePosixPath(PureWindowsPath(filename).name).name,
        kind=kind,
        read=int(summary.read),
        stored=int(summary.stored),
        duplicates=int(summary.duplicates),
        rejected=int(summary.rejected),
        unmapped={str(k): int(v) for k, v in dict(summary.unmapped).items()},
        unmapped_total=int(getattr(summary, "unmapped_total", 0) or sum(summary.unmapped.values())),
        reasons={str(k): int(v) for k, v in dict(summary.reasons).items()},
    )
    return Page(_context(state, lang, result), template="upload.html.j2", title=title)


def _copy_limited(source: Any, target: Path, state: AppState, lang: str) -> None:
    written = 0
    source.seek(0)
    with open(target, "xb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > state.max_upload_bytes:
                break
            out.write(chunk)
    if written > state.max_upload_bytes:
        target.unlink(missing_ok=True)
        _too_large(state, lang)
