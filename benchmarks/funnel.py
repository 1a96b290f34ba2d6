"""Funnel benchmark: klantreis against retentioneering, plain pandas and plain DuckDB SQL.

Run: ``flock /tmp/klantreis-bench.lock .venv/bin/python benchmarks/funnel.py [n_customers]``

Data: benchmarks/_data.py (1M customers, ~10M events, touchpoints tp00..tp19).

Shared definition (what every peer supports): ordered steps, no window, a customer
reaches step k when steps 1..k occur in this order (greedy first match; ties by
event_id). klantreis runs the same definition (``window=None``) beside each peer, and the
full definition (30-day window over all attempts, strict, any-order, 20 steps) alone.
Figures are medians of ``REPEAT`` runs; peak memory is the process's maximum RSS after
the klantreis runs (before any peer loads the data into pandas).

The first call builds the workspace's timeline (events numbered per customer, once per
change of the data; see klantreis.analytics._timeline) and is printed on its own; the
per-question figures come after it. ``FUNNEL_BENCH_REBUILD=1`` drops the stored timeline
first, so the build is measured even when an earlier run left it in the workspace.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RETENTIONEERING_NO_TRACK", "1")  # offline: no usage upload
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _data import bench_workspace, events_parquet  # noqa: E402
from _timing import peak_gb, timed  # noqa: E402

REPEAT = 3  # shared definition, beside every peer
REPEAT_FULL = int(os.environ.get("FUNNEL_BENCH_REPEAT_FULL", "1"))  # full-definition runs
STEPS5 = ["tp00", "tp02", "tp04", "tp06", "tp08"]
STEPS20 = [f"tp{i:02d}" for i in range(20)]


def klantreis_runs(n: int) -> dict[str, tuple[float, list[int]]]:
    from klantreis.analytics._funnel_spec import build_spec
    from klantreis.analytics._timeline import timeline
    from klantreis.analytics.funnel import run
    from klantreis.store import open_workspace
    from klantreis.store.derived import invalidate

    ws = open_workspace(bench_workspace(n))
    if os.environ.get("FUNNEL_BENCH_REBUILD"):
        invalidate(ws.writer())
    raw = ws.connect().con
    names = "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_derived_tim')"
    before = set(raw.execute(names).fetchall())
    started = time.perf_counter()
    timeline(ws)
    build = time.perf_counter() - started
    what = "found stored" if set(raw.execute(names).fetchall()) == before else "built"
    print(f"  klantreis  timeline, first call ({what}, once per data change) {build:7.2f} s")
    out = {"timeline, first call": (build, [])}
    configs = {
        "shared: ordered, no window, 5 steps": dict(steps=STEPS5, window=None),
        "ordered 30d, all attempts, 5 steps": dict(steps=STEPS5, window="30d"),
        "strict 30d, 5 steps": dict(steps=STEPS5, window="30d", mode="strict"),
        "any-order 30d, 5 steps": dict(steps=STEPS5, window="30d", mode="any-order"),
        "ordered 30d, 20 steps": dict(steps=STEPS20, window="30d"),
    }
    for name, kw in configs.items():
        kw = dict(kw)
        spec = build_spec(kw.pop("steps"), **kw)
        repeat = REPEAT if name.startswith("shared") else REPEAT_FULL
        seconds, result = timed(lambda spec=spec: run(ws, spec, check=False), repeat)
        out[name] = (seconds, result.table["customers"].tolist())
        print(f"  klantreis  {name:<40} {seconds:7.2f} s  {out[name][1][:5]}", flush=True)
    ws.close()
    return out


def pandas_funnel(df, steps: list[str]) -> list[int]:
    """Plain pandas, greedy first match without window (idx = position in sorted order)."""
    counts = []
    prev = None
    for k, step in enumerate(steps):
        ev = df.loc[df["touchpoint"] == step, ["customer_id", "idx"]]
        if k:
            ev = ev.merge(prev, on="customer_id", suffixes=("", "_prev"))
            ev = ev[ev["idx"] > ev["idx_prev"]]
        prev = ev.groupby("customer_id", sort=False)["idx"].min().reset_index()
        prev.columns = ["customer_id", "idx_prev"]
        counts.append(len(prev))
    return counts


DUCKDB_SQL = """
WITH ev AS (
  SELECT customer_id, touchpoint,
         row_number() OVER (PARTITION BY customer_id ORDER BY timestamp, event_id) AS idx
  FROM read_parquet(?) WHERE touchpoint IN (?, ?, ?, ?, ?)
),
s1 AS (SELECT customer_id, min(idx) AS idx FROM ev WHERE touchpoint = ? GROUP BY 1),
s2 AS (SELECT e.customer_id, min(e.idx) AS idx FROM ev e JOIN s1 USING (customer_id)
       WHERE e.touchpoint = ? AND e.idx > s1.idx GROUP BY 1),
s3 AS (SELECT e.customer_id, min(e.idx) AS idx FROM ev e JOIN s2 USING (customer_id)
       WHERE e.touchpoint = ? AND e.idx > s2.idx GROUP BY 1),
s4 AS (SELECT e.customer_id, min(e.idx) AS idx FROM ev e JOIN s3 USING (customer_id)
       WHERE e.touchpoint = ? AND e.idx > s3.idx GROUP BY 1),
s5 AS (SELECT e.customer_id, min(e.idx) AS idx FROM ev e JOIN s4 USING (customer_id)
       WHERE e.touchpoint = ? AND e.idx > s4.idx GROUP BY 1)
SELECT (SELECT count(*) FROM s1), (SELECT count(*) FROM s2), (SELECT count(*) FROM s3),
       (SELECT count(*) FROM s4), (SELECT count(*) FROM s5)
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    path = events_parquet(n)
    print(f"funnel benchmark: {n:,} customers, data {path.name}; medians of {REPEAT} runs")
    ours = klantreis_runs(n)
    print(f"  klantreis peak memory (max RSS): {peak_gb():.2f} GB")
    shared_s, shared_counts = ours["shared: ordered, no window, 5 steps"]

    import duckdb
    import pandas as pd

    peers: dict[str, tuple[float, list[int]]] = {}
    con = duckdb.connect()
    params = [str(path), *STEPS5, *STEPS5]
    peers["plain DuckDB SQL"] = timed(
        lambda: list(con.execute(DUCKDB_SQL, params).fetchone()), REPEAT
    )

    df = pd.read_parquet(path, columns=["event_id", "customer_id", "timestamp", "touchpoint"])
    t = time.perf_counter()
    df = df.sort_values(["customer_id", "timestamp", "event_id"], kind="stable", ignore_index=True)
    df["idx"] = range(len(df))
    prep = time.perf_counter() - t
    peers[f"plain pandas (after a sort of {prep:.1f} s)"] = timed(
        lambda: pandas_funnel(df, STEPS5), REPEAT
    )

    try:
        from retentioneering.eventstream import Eventstream

        rdf = df.rename(columns={"customer_id": "user_id", "touchpoint": "event"})[
            ["user_id", "event", "timestamp"]
        ]
        rdf["timestamp"] = rdf["timestamp"].dt.tz_localize(None)
        t = time.perf_counter()
        stream = Eventstream(
            rdf,
            schema={"path_cols": ["user_id"], "event_col": "event", "timestamp_col": "timestamp"},
        )
        prep = time.perf_counter() - t
        seconds, data = timed(lambda: stream.funnel_data(steps=STEPS5), REPEAT)
        counts = [s["unique_paths"] for s in data["steps"]]
        peers[f"retentioneering funnel (after {prep:.1f} s building the stream)"] = (
            seconds,
            counts,
        )
    except Exception as exc:
        print(f"  retentioneering could not run: {type(exc).__name__}: {exc}")

    print("\nshared definition (ordered, no window, greedy first match), 5 steps:")
    print(f"  {'klantreis':<58} {shared_s:7.2f} s  {shared_counts}")
    for name, (seconds, counts) in peers.items():
        same = "same counts" if list(counts) == list(shared_counts) else f"counts {counts}"
        print(
            f"  {name:<58} {seconds:7.2f} s  ratio peer/klantreis {seconds / shared_s:5.2f}  {same}"
        )
    print(f"\nfull definition (klantreis only; median of {REPEAT_FULL} run(s)):")
    for name, (seconds, _) in ours.items():
        print(f"  {name:<58} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
