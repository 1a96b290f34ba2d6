"""Readers: turn a file (CSV/TSV, xlsx, Parquet file or folder, JSON Lines) into a
DuckDB relation, without loading it into Python.

Python only looks at the first bytes of a file to detect its dialect (encoding,
delimiter, header, decimal comma); DuckDB's own readers then stream the whole file
with those options set explicitly (bound parameters, no sniffing). Every relation has
the source columns plus ``_file`` and ``_idx`` (record number, 1-based). Text formats
leave ``_idx`` out (``Source.numbered`` is false): numbering rows in SQL would make
DuckDB read them on one thread, so the ingest keeps them in file order instead and
numbers them from their place in its staged copy.

    >>> opts = ReadOptions(delimiter=";")
    >>> opts.delimiter
    ';'
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from klantreis.errors import ReadError
from klantreis.i18n import t

__all__ = ["FORMATS", "ReadOptions", "Source", "detect_format", "open_source"]

FORMATS = ("csv", "tsv", "xlsx", "parquet", "jsonl")
SAMPLE_BYTES = 1 << 20
SAMPLE_ROWS = 500
#: DuckDB reads empty fields as '' and null-pads short rows with NULL (see _csv).
NULL_SENTINEL = "\x02\x03"
_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class ReadOptions:
    """Reader settings; None means detect. Every one can be set by a flag or the mapping file."""

    format: str | None = None
    delimiter: str | None = None
    quote: str | None = None
    encoding: str | None = None
    decimal: str | None = None  # "." or ","
    date_format: str | None = None  # strptime format, e.g. %d-%m-%Y %H:%M
    sheet: str | None = None  # xlsx sheet name (default: the first)

    def merged(self, other: ReadOptions) -> ReadOptions:
        """These options, with ``other``'s set values taking precedence."""
        values = {k: v for k, v in other.__dict__.items() if v is not None}
        return ReadOptions(**(self.__dict__ | values))


@dataclass
class Source:
    """A file opened for ingest: a DuckDB relation over it plus what detection found."""

    path: Path
    format: str
    columns: list[str]
    types: dict[str, str]  # column -> DuckDB type name ('VARCHAR' for text formats)
    sql: str  # SELECT with the columns, _file and (when numbered) _idx
    params: dict[str, Any]
    sample: list[dict[str, Any]]  # first rows as text, for detection of values
    encoding: str = "utf-8"
    delimiter: str | None = None
    decimal: str | None = None
    header_lines: int = 0  # lines before the first record (line = _idx + header_lines)
    rejects_table: str | None = None  # DuckDB's table of rows its CSV reader refused
    empty: bool = False
    temp: list[Path] = field(default_factory=list)
    numbered: bool = True  # sql has _idx; else rows come in file order

    def cleanup(self) -> None:
        for path in self.temp:
            path.unlink(missing_ok=True)


def detect_format(path: Path, fmt: str | None = None, lang: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ReadError(
                t("store.read.format", lang, format=fmt, formats=", ".join(FORMATS)), file=path
            )
        return fmt
    if path.is_dir():
        return "parquet"
    suffix = "".join(path.suffixes[-2:]).lower()
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".tsv", ".tab")):
        return "tsv"
    if name.endswith((".csv", ".txt")) or suffix == "":
        return "csv"
    return "csv"


def open_source(
    con: Any, path: Path, options: ReadOptions, tmp_dir: Path, lang: str | None = None
) -> Source:
    """Detect and open ``path``; ``con`` is the raw DuckDB connection; ``lang`` the
    language of error messages."""
    path = Path(path)
    if not path.exists():
        raise ReadError(t("store.read.missing", lang), file=path)
    fmt = detect_format(path, options.format, lang)
    if fmt in ("csv", "tsv"):
        return _csv(con, path, options, fmt, tmp_dir, lang)
    if fmt == "parquet":
        return _parquet(con, path, lang)
    if fmt == "jsonl":
        return _jsonl(con, path, options, tmp_dir)
    return _xlsx(con, path, options, tmp_dir, lang)


# -- CSV / TSV -------------------------------------------------------------------
def _detect_encoding(head: bytes, given: str | None, lang: str | None = None) -> str:
    if given:
        try:
            codecs.lookup(given)
        except LookupError:
            raise ReadError(t("store.read.encoding", lang, encoding=given)) from None
        return codecs.lookup(given).name
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A multi-byte character may be cut at the end of the sample.
        head.decode("utf-8") if len(head) < SAMPLE_BYTES else head[:-4].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _transcode(path: Path, encoding: str, tmp_dir: Path) -> Path:
    """Copy ``path`` to a UTF-8 temp file, streaming (bounded memory)."""
    out = Path(tempfile.mkstemp(prefix=".transcoded-", suffix=".csv", dir=tmp_dir)[1])
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with path.open("rb") as src, out.open("wb") as dst:
        while chunk := src.read(1 << 22):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return out


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines()[:50]
    if len(lines) > 1 and len(text) >= SAMPLE_BYTES - 8:
        lines = lines[:-1]  # the last line may be cut
    best, best_score = ",", (-1, 0)
    for delim in _DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
        counts = [c for c in counts if c > 0]
        if not counts:
            continue
        width, freq = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        score = (freq, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for i, raw in enumerate(names):
        name = raw.strip() or f"column{i + 1}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def _detect_decimal(rows: list[list[str]]) -> str:
    comma = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")
    dot = re.compile(r"^-?\d+\.\d+$")
    n_comma = n_dot = 0
    for row in rows:
        for cell in row:
            cell = cell.strip()
            if comma.match(cell):
                n_comma += 1
            elif dot.match(cell) and not re.match(r"^\d{1,2}\.\d{1,2}\.\d{2,4}", cell):
                n_dot += 1
    return "," if n_comma > n_dot else "."


def _csv(
    con: Any, path: Path, options: ReadOptions, fmt: str, tmp_dir: Path, lang: str | None
) -> Source:
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    encoding = _detect_encoding(head, options.encoding, lang)
    temp: list[Path] = []
    read_path = path
    if encoding not in ("utf-8", "utf-8-sig"):
        read_path = _transcode(path, encoding, tmp_dir)
        temp.append(read_path)
        with read_path.open("rb") as fh:
            head = fh.read(SAMPLE_BYTES)
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if not text.strip():
        return Source(path, fmt, [], {}, "", {}, [], encoding=encoding, empty=True, temp=temp)
    delimiter = options.delimiter or ("\t" if fmt == "tsv" else _sniff_delimiter(text))
    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    quote = options.quote if options.quote is not None else '"'
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote or None)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > SAMPLE_ROWS:
                break
    except csv.Error:
        pass
    if len(head) >= SAMPLE_BYTES and len(rows) > 2:
        rows = rows[:-1]
    header = _unique_names(rows[0]) if rows else []
    sample = [dict(zip(header, r, strict=False)) for r in rows[1:]]
    decimal = options.decimal or _detect_decimal(rows[1:])
    scan = con.execute("SELECT nextval('klantreis_scan')").fetchone()[0] if _seq(con) else 0
    rejects = f"_csv_rejects_{scan}"
    sql = (
        "SELECT *, $src_file AS _file FROM read_csv($src_path, "
        "delim = $src_delim, quote = $src_quote, escape = $src_quote, header = true, "
        "auto_detect = false, columns = $src_columns, null_padding = true, nullstr = $src_null, "
        "store_rejects = true, rejects_table = $src_rej, rejects_scan = $src_rejscan, "
        "strict_mode = true, max_line_size = 10000000)"
    )
    params = {
        "src_file": str(path),
        "src_path": str(read_path),
        "src_delim": delimiter,
        "src_quote": quote,
        "src_columns": {name: "VARCHAR" for name in header},
        "src_null": NULL_SENTINEL,
        "src_rej": rejects,
        "src_rejscan": rejects + "_scan",
    }
    return Source(
        path=path,
        format=fmt,
        columns=header,
        types=dict.fromkeys(header, "VARCHAR"),
        sql=sql,
        params=params,
        sample=sample,
        encoding=encoding,
        delimiter=delimiter,
        decimal=decimal,
        header_lines=1,
        rejects_table=rejects,
        empty=len(rows) <= 1 and not header,
        temp=temp,
        numbered=False,
    )


def _seq(con: Any) -> bool:
    con.execute("CREATE TEMP SEQUENCE IF NOT EXISTS klantreis_scan")
    return True


# -- Parquet -----------------------------------------------------------------------
def _parquet(con: Any, path: Path, lang: str | None = None) -> Source:
    files = sorted(str(p) for p in path.rglob("*.parquet")) if path.is_dir() else [str(path)]
    if not files:
        raise ReadError(t("store.read.no_parquet", lang), file=path)
    sql = (
        "SELECT * EXCLUDE (filename, file_row_number), file_row_number + 1 AS _idx, "
        "filename AS _file FROM read_parquet($src_files, filename = true, file_row_number = true)"
    )
    params = {"src_files": files}
    try:
        described = con.execute(f"DESCRIBE {sql}", params).fetchall()
        sample_df = con.execute(f"SELECT * FROM ({sql}) LIMIT {SAMPLE_ROWS}", params).fetchall()
    except Exception as exc:
        raise ReadError(t("store.read.parquet", lang, error=str(exc)), file=path) from None
    types = {row[0]: str(row[1]) for row in described if row[0] not in ("_idx", "_file")}
    names = list(types)
    sample = [
        {n: (None if v is None else str(v)) for n, v in zip(names, row, strict=False)}
        for row in sample_df
    ]
    return Source(path, "parquet", names, types, sql, params, sample)


# -- JSON Lines ----------------------------------------------------------------------
def _jsonl(con: Any, path: Path, options: ReadOptions, tmp_dir: Path) -> Source:
    """Each line is read as text; keys are pulled out with DuckDB's JSON functions, so a
    bad line becomes a reject with its exact line number instead of stopping the read."""
    keys: dict[str, None] = {}
    sample: list[dict[str, Any]] = []
    with path.open("r", encoding=options.encoding or "utf-8-sig", errors="replace") as fh:
        for line in fh:
            if len(sample) >= SAMPLE_ROWS:
                break
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(obj))
                sample.append(
                    {
                        k: (v if isinstance(v, str) or v is None else json.dumps(v))
                        for k, v in obj.items()
                    }
                )
    names = list(keys)
    if not names and path.stat().st_size == 0:
        return Source(path, "jsonl", [], {}, "", {}, [], empty=True)
    selects = ", ".join(
        f"CASE WHEN _ok THEN _json ->> $src_k{i} END AS {quote_ident(n)}"
        for i, n in enumerate(names)
    )
    params: dict[str, Any] = {f"src_k{i}": f"$.{json.dumps(n)}" for i, n in enumerate(names)}
    params |= {"src_file": str(path), "src_path": str(path), "src_delim": "\x01"}
    sql = (
        f"SELECT {selects}{', ' if selects else ''}_json, _ok, _file FROM ("
        "SELECT column0 AS _json, coalesce(json_valid(column0), false) AND "
        "json_type(CASE WHEN json_valid(column0) THEN column0 END) = 'OBJECT' AS _ok, "
        "$src_file AS _file FROM "
        "read_csv($src_path, delim = $src_delim, quote = '', escape = '', header = false, "
        "auto_detect = false, "
        "columns = {'column0': 'VARCHAR'}, strict_mode = false, max_line_size = 10000000))"
    )
    return Source(
        path,
        "jsonl",
        names,
        dict.fromkeys(names, "VARCHAR"),
        sql,
        params,
        sample,
        numbered=False,
    )


# -- Excel -----------------------------------------------------------------------------
def _cell_text(value: Any) -> str | None:
    from datetime import datetime

    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx(con: Any, path: Path, options: ReadOptions, tmp_dir: Path, lang: str | None) -> Source:
    """Stream the sheet row by row (openpyxl read-only) into a temp Parquet file of text."""
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ReadError(t("store.read.xlsx", lang, error=str(exc)), file=path) from None
    try:
        if options.sheet:
            if options.sheet not in book.sheetnames:
                from klantreis.errors import did_you_mean

                guess = did_you_mean(options.sheet, book.sheetnames)
                raise ReadError(
                    t(
                        "store.read.sheet",
                        lang,
                        sheet=options.sheet,
                        sheets=", ".join(book.sheetnames),
                    ),
                    file=path,
                    hint=t("store.did_you_mean", lang, value=guess) if guess else None,
                )
            sheet = book[options.sheet]
        else:
            sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            return Source(path, "xlsx", [], {}, "", {}, [], empty=True)
        header = _unique_names([_cell_text(v) or "" for v in first])
        schema = pa.schema([(n, pa.string()) for n in header] + [("_idx", pa.int64())])
        out = Path(tempfile.mkstemp(prefix=".xlsx-", suffix=".parquet", dir=tmp_dir)[1])
        sample: list[dict[str, Any]] = []
        with pq.ParquetWriter(out, schema) as writer:
            batch: list[list[Any]] = [[] for _ in range(len(header) + 1)]
            line = 1
            for row in rows:
                line += 1
                cells = [_cell_text(v) for v in row[: len(header)]]
                if all(c is None for c in cells):
                    continue
                cells += [None] * (len(header) - len(cells))
                if len(sample) < SAMPLE_ROWS:
                    sample.append(dict(zip(header, cells, strict=True)))
                for i, c in enumerate(cells):
                    batch[i].append(c)
                batch[-1].append(line - 1)  # line = _idx + 1 (header)
                if len(batch[-1]) >= 50_000:
                    writer.write_table(pa.table(batch, schema=schema))
                    batch = [[] for _ in range(len(header) + 1)]
            if batch[-1]:
                writer.write_table(pa.table(batch, schema=schema))
    finally:
        book.close()
    sql = "SELECT *, $src_file AS _file FROM read_parquet($src_path)"
    return Source(
        path,
        "xlsx",
        header,
        dict.fromkeys(header, "VARCHAR"),
        sql,
        {"src_file": str(path), "src_path": str(out)},
        sample,
        decimal=options.decimal or ".",
        header_lines=1,
        temp=[out],
    )


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted (names come from users' files)."""
    return '"' + name.replace('"', '""') + '"'
