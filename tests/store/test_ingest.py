"""Ingest through the real readers: nasty files written by the tests, exact counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from klantreis.errors import MappingError
from klantreis.store import init_workspace

# ibis 12 + pandas 3 / duckdb 1.5 warn inside ibis itself (not our code); see the report.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*fetch_arrow_table.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*future.infer_string.*"),
]


@pytest.fixture
def ws(tmp_path: Path):
    w = init_workspace(tmp_path / "ws")
    yield w
    w.close()


def _events(ws):
    return ws.events.order_by("customer_id").execute()


def _check(s) -> None:
    assert s.read == s.stored + s.duplicates + s.rejected


def test_canonical_csv_no_mapping(ws, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text(
        "event_id,customer_id,timestamp,touchpoint,channel,value\n"
        "e1,c1,2026-01-01 10:00,site,web,1.5\n"
        "e2,c2,2026-07-01T10:00:00,shop,store,\n",
        encoding="utf-8",
    )
    s = ws.ingest(f)
    assert (s.read, s.stored, s.duplicates, s.rejected) == (2, 2, 0, 0)
    df = _events(ws)
    # Amsterdam: UTC+1 in winter, UTC+2 in summer
    assert list(df["timestamp"]) == [
        datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 8, 0, tzinfo=UTC),
    ]
    assert list(df["value"].fillna(-1)) == [1.5, -1]
    assert not df["mapped"].any()
    assert s.unmapped == {"shop": 1, "site": 1}


def test_semicolon_decimal_comma_cp1252_dutch_dates(ws, tmp_path):
    f = tmp_path / "nl.csv"
    text = (
        "klant;datum;touchpoint;bedrag;opmerking\n"
        "c1;31-12-2026 23:59;winkel;1.234,50;café €\nc2;01-02-2026;site;2,5;x\n"
    )
    f.write_bytes(text.encode("cp1252"))
    s = ws.ingest(
        f, mapping={"columns": {"customer_id": "klant", "timestamp": "datum", "value": "bedrag"}}
    )
    assert (s.read, s.stored, s.rejected) == (2, 2, 0)
    assert s.detected["encoding"] == "cp1252" and s.detected["delimiter"] == ";"
    df = _events(ws)
    assert list(df["value"]) == [1234.5, 2.5]
    assert df["timestamp"][0] == datetime(2026, 12, 31, 22, 59, tzinfo=UTC)
    assert df["timestamp"][1] == datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
    assert json.loads(df["properties"][0]) == {"opmerking": "café €"}


def test_bom_and_tsv(ws, tmp_path):
    f = tmp_path / "b.tsv"
    f.write_bytes(b"\xef\xbb\xbfcustomer_id\ttimestamp\ttouchpoint\nc1\t2026-01-01\tsite\n")
    s = ws.ingest(f)
    assert (s.read, s.stored) == (1, 1)
    assert _events(ws)["customer_id"][0] == "c1"


def test_ragged_rows_and_quoted_newlines(ws, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(
        "customer_id,timestamp,touchpoint,comment\n"
        'c1,2026-01-01,site,"hello, ""world""\nsecond line"\n'
        "c2,2026-01-01,site,a,EXTRA\n"
        "c3,2026-01-01\n"
        "c4,2026-01-02,shop,ok\n",
        encoding="utf-8",
    )
    s = ws.ingest(f)
    _check(s)
    assert (s.read, s.stored, s.rejected) == (4, 2, 2)
    assert s.reasons == {"row.too_few_fields": 1, "row.too_many_columns": 1}
    assert [e["line"] for e in s.examples] == [3, 4]
    props = _events(ws)["properties"][0]
    assert json.loads(props) == {"comment": 'hello, "world"\nsecond line'}


def test_empty_and_header_only(ws, tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "head.csv").write_text("customer_id,timestamp,touchpoint\n", encoding="utf-8")
    for name in ("empty.csv", "head.csv"):
        s = ws.ingest(tmp_path / name)
        assert (s.read, s.stored, s.duplicates, s.rejected) == (0, 0, 0, 0)


def test_missing_column_names_it_and_suggests(ws, tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("customer,timestamp,touchpoint\nc1,2026-01-01,site\n", encoding="utf-8")
    with pytest.raises(MappingError) as err:
        ws.ingest(f)
    assert "customer_id" in str(err.value) and "'customer'" in str(err.value)
    assert ws.events.count().execute() == 0


def test_epoch_and_offsets(ws, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text(
        "customer_id,timestamp,touchpoint\n"
        "a,1767225600,site\n"  # 2026-01-01T00:00:00Z (seconds)
        "b,1767225600000,site\n"  # milliseconds
        "c,2026-01-01T02:00:00+02:00,site\n"
        "d,2026-01-01T00:00:00Z,site\n"
        "e,not a time,site\n",
        encoding="utf-8",
    )
    s = ws.ingest(f)
    assert (s.stored, s.rejected) == (4, 1)
    assert s.examples == [{"file": str(f), "line": 6, "reason": "timestamp.unparseable"}]
    assert set(_events(ws)["timestamp"]) == {datetime(2026, 1, 1, tzinfo=UTC)}


def test_duplicates_within_and_across_files_and_idempotent(ws, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(
        "customer_id,timestamp,touchpoint\nc1,2026-01-01,site\nc1,2026-01-01,site\nc2,2026-01-01,site\n"
    )
    b.write_text("customer_id,timestamp,touchpoint\nc2,2026-01-01,site\nc3,2026-01-01,site\n")
    s1 = ws.ingest(a)
    assert (s1.read, s1.stored, s1.duplicates) == (3, 2, 1)
    s2 = ws.ingest(b)
    assert (s2.read, s2.stored, s2.duplicates) == (2, 1, 1)
    s3 = ws.ingest(a)
    assert (s3.stored, s3.duplicates) == (0, 3)
    assert ws.events.count().execute() == 3
    ids = tmp_path / "ids.csv"
    ids.write_text(
        "event_id,customer_id,timestamp,touchpoint\nx,c1,2026-01-01,site\nx,c9,2026-01-02,shop\n"
    )
    s4 = ws.ingest(ids)
    assert (s4.stored, s4.duplicates) == (1, 1)


def test_one_bad_row_in_100000(ws, tmp_path):
    f = tmp_path / "big.csv"
    lines = ["customer_id,timestamp,touchpoint"]
    lines += [f"c{i},2026-01-01 {i % 24:02d}:{i % 60:02d},tp{i % 7}" for i in range(100_000)]
    lines[54_321] = "c54320,31-02-2026 xx,tp1"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = ws.ingest(f)
    assert (s.read, s.stored, s.rejected) == (100_000, 99_999, 1)
    assert s.examples == [{"file": str(f), "line": 54_322, "reason": "timestamp.unparseable"}]
    rej = ws.rejects.execute()
    assert list(rej["line"]) == [54_322]
    assert json.loads(rej["raw"][0])["timestamp"] == "31-02-2026 xx"


def test_parquet_jsonl_xlsx(ws, tmp_path):
    import openpyxl
    import pandas as pd

    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
            "touchpoint": ["site", "shop"],
        }
    ).to_parquet(folder / "a.parquet")
    s = ws.ingest(folder)
    assert s.stored == 2
    j = tmp_path / "e.jsonl"
    j.write_text(
        '{"customer_id": "c3", "timestamp": "2026-01-01T10:00:00Z", '
        '"event": "page_view", "page": "/x"}\n'
        "{not json}\n",
        encoding="utf-8",
    )
    s = ws.ingest(j)
    assert (s.stored, s.rejected, s.reasons) == (1, 1, {"json.invalid": 1})
    assert s.examples[0]["line"] == 2
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Blad1"
    sheet.append(["customer_id", "timestamp", "touchpoint", "value"])
    sheet.append(["c4", datetime(2026, 3, 1, 12, 0), "shop", 12.5])
    book.save(tmp_path / "x.xlsx")
    s = ws.ingest(tmp_path / "x.xlsx", sheet="Blad1")
    assert s.stored == 1
    df = _events(ws)
    row = df[df.customer_id == "c3"].iloc[0]
    assert row["touchpoint"] == "page_view" and row["raw_name"] == "page_view"
    assert json.loads(row["properties"]) == {"page": "/x"}
    assert df[df.customer_id == "c4"]["value"].iloc[0] == 12.5


def test_event_rules_from_mapping(ws, tmp_path):
    f = tmp_path / "raw.csv"
    f.write_text(
        "cid,ts,name,page\n"
        "c1,2026-01-01,page_view,/prijzen\n"
        "c1,2026-01-02,checkout_done,\n"
        "c1,2026-01-03,app_open,\n"
        "c1,2026-01-04,other,\n"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {customer_id: cid, timestamp: ts, event: name}\n"
        "events:\n"
        "  - {name: page_view, where: {page: /prijzen}, touchpoint: pricing, channel: web}\n"
        "  - {glob: 'checkout_*', touchpoint: purchase}\n"
        "  - {regex: '^app_(open|start)$', touchpoint: app}\n",
        encoding="utf-8",
    )
    s = ws.ingest(f, mapping=mapping)
    assert s.stored == 4
    df = ws.events.order_by("timestamp").execute()
    assert list(df["touchpoint"]) == ["pricing", "purchase", "app", "other"]
    assert list(df["channel"].fillna("-")) == ["web", "-", "-", "-"]


def test_feedback_scales(ws, tmp_path):
    f = tmp_path / "fb.csv"
    f.write_text(
        "customer_id,timestamp,touchpoint,metric,score,comment\n"
        "c1,2026-01-01,site,nps,10,great\n"
        "c1,2026-01-01,site,nps,11,\n"
        "c1,2026-01-01,site,csat,0,\n"
        "c1,2026-01-01,site,ces,7,\n"
        "c1,2026-01-01,site,emotion,6,\n"
        "c1,2026-01-01,site,mood,3,\n"
    )
    s = ws.ingest(f, kind="feedback")
    _check(s)
    assert (s.stored, s.rejected) == (2, 4)
    assert s.reasons == {"score.out_of_range": 3, "metric.unknown": 1}


def test_dry_run_stores_nothing(ws, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("customer_id,timestamp,touchpoint\nc1,2026-01-01,site\n")
    s = ws.ingest(f, dry_run=True)
    assert (s.read, s.stored) == (1, 1)
    assert ws.events.count().execute() == 0
    assert ws.ingests.count().execute() == 0


def test_fields_are_trimmed_of_spaces_like_duckdb_trim(ws, tmp_path):
    # ASCII spaces and Unicode spaces (no-break space) go; tabs stay, as with trim()
    f = tmp_path / "e.csv"
    f.write_text(
        "customer_id,timestamp,touchpoint\n"
        "  c1 ,2026-01-01, site\n"
        "\u00a0c2\u00a0,2026-01-01,shop\u2003\n"
        "\tc3,2026-01-01,é \n"
        "   ,2026-01-01,site\n",
        encoding="utf-8",
    )
    s = ws.ingest(f)
    assert (s.stored, s.rejected) == (3, 1)
    assert s.reasons == {"customer_id.missing": 1}
    df = _events(ws)
    assert list(df["customer_id"]) == ["\tc3", "c1", "c2"]
    assert list(df["touchpoint"]) == ["é", "site", "shop"]


def test_large_csv_exact_lines_and_first_row_wins(ws, tmp_path):
    # big enough for DuckDB to read it in parallel: line numbers come from file order
    n = 1_500_000
    f = tmp_path / "big.csv"
    lines = ["event_id,customer_id,timestamp,touchpoint"]
    lines += [f"e{i},c{i % 997},2026-01-01 10:00,t{i % 3}" for i in range(n)]
    bad = [7, 600_001, 1_234_567, n]  # lines (the header is line 1)
    for line in bad:
        lines[line - 1] = f"e{line},c1,not a time,t1"
    lines[1_400_000] = "e10,c-late,2026-01-02,t9"  # repeats id e10 (line 12): first wins
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = ws.ingest(f)
    assert (s.read, s.rejected, s.duplicates) == (n, 4, 1)
    assert [e["line"] for e in s.examples] == bad
    assert sorted(ws.rejects.execute()["line"]) == bad
    events = ws.events
    late = events.filter(events.event_id == "e10").execute()
    assert list(late["customer_id"]) == ["c10"]
