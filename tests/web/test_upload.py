"""Uploads: accepted files are saved under data/uploads with a generated name and
ingested; too-large files and other extensions are refused with a clear message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from klantreis.web.upload import EXTENSIONS, client_extension, human_size, safe_upload_path
from tests.support import make_workspace
from tests.web.conftest import Served

LIMIT = 4_000
CSV = (
    "customer_id,timestamp,touchpoint,channel\n"
    "u1,2026-04-01T09:00:00Z,website,web\n"
    "u1,2026-04-01T10:00:00Z,trial_lesson,club\n"
    "u2,2026-04-02T09:00:00Z,website,web\n"
    "u2,2026-04-02T09:30:00Z,mystery_page,web\n"
)
NAME = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{12}\.(csv|tsv|xlsx|parquet|jsonl|ndjson)$")


@pytest.fixture(scope="module")
def upload_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from tests.web.conftest import serve

    folder = tmp_path_factory.mktemp("upload") / "ws"
    make_workspace(folder, template="fitness", lang="en").close()
    with serve(folder, max_upload_bytes=LIMIT) as served:
        yield served


def _uploads(site: Served) -> list[Path]:
    folder = site.path / "data" / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def _post(site: Served, name: str, content: bytes | str, kind: str = "events", **kw: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return site.post(
        "/upload.json", files={"file": (name, data, "text/csv")}, data={"kind": kind}, **kw
    )


def test_accepted_file_is_saved_and_ingested(upload_site: Served) -> None:
    before = set(_uploads(upload_site))
    response = _post(upload_site, "visits.csv", CSV)
    assert response.status_code == 200, response.text
    summary = response.json()["summary"]
    assert summary["original_name"] == "visits.csv" and summary["kind"] == "events"
    assert summary["read"] == 4 and summary["stored"] == 4
    assert summary["duplicates"] == 0 and summary["rejected"] == 0
    assert summary["unmapped"] == {"mystery_page": 1} and summary["unmapped_total"] == 1
    new = set(_uploads(upload_site)) - before
    assert len(new) == 1
    saved = new.pop()
    assert NAME.match(saved.name) and saved.name == summary["file"]
    assert saved.read_text() == CSV
    home = upload_site.get("/index.json").json()
    assert home["counts"]["events"] == 4
    assert home["ingests"][0]["file"] == saved.name and home["ingests"][0]["stored"] == 4
    # The same file again changes nothing.
    again = _post(upload_site, "visits.csv", CSV).json()["summary"]
    assert again["stored"] == 0 and again["read"] == again["duplicates"] + again["rejected"]
    assert upload_site.get("/index.json").json()["counts"]["events"] == 4


def test_html_summary(upload_site: Served) -> None:
    body = CSV.replace("u1", "h1").replace("u2", "h2")
    response = upload_site.post(
        "/upload", files={"file": ("more.csv", body.encode())}, data={"kind": "events"}
    )
    assert response.status_code == 200
    assert "Ingested more.csv" in response.text
    assert 'data-count="stored">4<' in response.text
    assert "mystery_page" in response.text


def test_too_large_file_is_refused(upload_site: Served) -> None:
    before = _uploads(upload_site)
    big = CSV + "u3,2026-04-03T09:00:00Z,website,web\n" * 200
    assert len(big) > LIMIT
    response = _post(upload_site, "big.csv", big)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["message"] == f"the file is larger than the limit of {human_size(LIMIT, 'en')}"
    assert "klantreis ingest" in error["hint"]
    assert _uploads(upload_site) == before
    html = upload_site.post(
        "/upload", files={"file": ("big.csv", big.encode())}, data={"kind": "events"}
    )
    assert html.status_code == 413 and "larger than the limit of 4 kB" in html.text


def test_large_declared_body_refused_before_reading(upload_site: Served) -> None:
    response = upload_site.post(
        "/upload.json",
        content=b"x" * (LIMIT + 70_000),
        headers={"content-type": "multipart/form-data; boundary=zzz"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "name", ["report.exe", "visits.csv.exe", "noextension", "shell.sh", "page.html"]
)
def test_disallowed_extension_is_refused(upload_site: Served, name: str) -> None:
    before = _uploads(upload_site)
    response = _post(upload_site, name, CSV)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "analysis.spec"
    assert "cannot be uploaded" in error["message"] and ".csv" in error["message"]
    assert _uploads(upload_site) == before


@pytest.mark.parametrize(
    "name", ["../../escape.csv", "..\\..\\escape.csv", "/etc/escape.csv", "a/../../escape.csv"]
)
def test_client_path_never_escapes_uploads(upload_site: Served, name: str) -> None:
    body = CSV.replace("u1", "p1").replace("u2", "p2")
    response = _post(upload_site, name, body)
    assert response.status_code == 200, response.text
    summary = response.json()["summary"]
    assert summary["original_name"] == "escape.csv"
    assert NAME.match(summary["file"])
    assert (upload_site.path / "data" / "uploads" / summary["file"]).is_file()
    root = upload_site.path.parent
    assert not list(root.rglob("escape.csv"))
    assert all(NAME.match(p.name) for p in _uploads(upload_site))


@pytest.mark.parametrize(
    ("data", "files", "field"),
    [
        pytest.param({"kind": "orders"}, True, "kind", id="bad-kind"),
        pytest.param({"kind": "events"}, False, "file", id="no-file"),
    ],
)
def test_bad_form_is_a_400(
    upload_site: Served, data: dict[str, str], files: bool, field: str
) -> None:
    kw: dict[str, Any] = {"data": data}
    if files:
        kw["files"] = {"file": ("x.csv", CSV.encode())}
    else:
        kw["files"] = {"other": ("", b"")}
    response = upload_site.post("/upload.json", **kw)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{field}:")


def test_unreadable_file_is_a_400_and_not_kept(upload_site: Served) -> None:
    before = _uploads(upload_site)
    response = _post(upload_site, "broken.parquet", b"this is not parquet")
    assert response.status_code == 400
    assert response.json()["error"]["code"].startswith("data")
    assert _uploads(upload_site) == before


def test_safe_names(tmp_path: Path) -> None:
    assert client_extension("C:\\Users\\x\\Data.CSV") == ".csv"
    assert client_extension("../../a.JSONL") == ".jsonl"
    with pytest.raises(Exception, match="cannot be uploaded"):
        client_extension("a.csv/../b.exe")
    paths = {safe_upload_path(tmp_path / "uploads", ".csv") for _ in range(20)}
    assert len(paths) == 20 and all(p.parent == (tmp_path / "uploads").resolve() for p in paths)
    assert EXTENSIONS == (".csv", ".tsv", ".xlsx", ".parquet", ".jsonl", ".ndjson")
    assert human_size(100_000_000, "nl") == "100 MB" and human_size(1_500, "nl") == "1,5 kB"


def test_server_leaves_the_store_free_between_requests(upload_site: Served) -> None:
    """Another process (``klantreis ingest``) can open the store read-write."""
    import subprocess
    import sys

    assert upload_site.get("/index.json").status_code == 200
    store = upload_site.path / "klantreis.duckdb"
    code = f"import duckdb; duckdb.connect({str(store)!r}).close(); print('free')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "free"
    assert upload_site.get("/index.json").status_code == 200
