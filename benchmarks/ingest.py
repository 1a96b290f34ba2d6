"""Ingest benchmark: 10M event rows from Parquet and from CSV into a fresh workspace.

Prints rows/s and peak memory (max RSS of the process doing the ingest) per run, the
median over runs, and the ratio to DuckDB's own floor: a plain
``INSERT INTO events SELECT * FROM read_parquet/read_csv`` with no validation, dedupe,
rejects or mapping. Targets on a 2-core machine: >= 2M rows/s (Parquet), >= 500k rows/s
(CSV), peak memory < 2 GB.

    flock /tmp/klantreis-bench.lock .venv/bin/python benchmarks/ingest.py [--runs 3] [--formats csv]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_RUN = """
import json, resource, sys, time
from klantreis.store import init_workspace
ws = init_workspace(sys.argv[1])
t = time.perf_counter()
if sys.argv[3] == "klantreis":
    s = ws.ingest(sys.argv[2])
    rows = s.stored
else:  # DuckDB floor: the same table, no checks
    con = ws.writer()
    fn = "read_parquet(?)" if sys.argv[2].endswith(".parquet") else "read_csv(?, header = true)"
    rows = con.execute(f"INSERT INTO events SELECT * FROM {fn}", [sys.argv[2]]).fetchone()[0]
seconds = time.perf_counter() - t
print(json.dumps({"rows": rows, "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def csv_file(parquet: Path) -> Path:
    out = parquet.with_suffix(".csv")
    if not out.exists():
        import duckdb

        tmp = out.with_suffix(".tmp")
        duckdb.connect().execute(
            "COPY (SELECT * FROM read_parquet(?)) TO '"
            + str(tmp).replace("'", "''")
            + "' (HEADER)",
            [str(parquet)],
        )
        tmp.rename(out)
    return out


def run(file: Path, engine: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=HERE / "_data") as tmp:
        out = subprocess.run(
            [sys.executable, "-c", _RUN, str(Path(tmp) / "ws"), str(file), engine],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from _data import events_parquet

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet,csv")
    args = ap.parse_args()
    parquet = events_parquet(args.customers)
    files = {"parquet": parquet, "csv": csv_file(parquet)}
    files = {k: v for k, v in files.items() if k in args.formats.split(",")}
    targets = {"parquet": 2_000_000, "csv": 500_000}
    for name, file in files.items():
        results = {}
        for engine in ("klantreis", "duckdb-floor"):
            runs = [run(file, engine) for _ in range(args.runs)]
            rate = statistics.median(r["rows"] / r["seconds"] for r in runs)
            peak = max(r["peak_mb"] for r in runs)
            results[engine] = rate
            secs = ", ".join(f"{r['seconds']:.1f}s" for r in runs)
            print(
                f"{name:8s} {engine:13s} rows={runs[0]['rows']:,} runs=[{secs}] "
                f"median {rate:,.0f} rows/s  peak {peak:,.0f} MB",
                flush=True,
            )
        print(
            f"{name:8s} klantreis/floor = {results['klantreis'] / results['duckdb-floor']:.2f}  "
            f"target {targets[name]:,} rows/s: "
            f"{'met' if results['klantreis'] >= targets[name] else 'NOT met'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
