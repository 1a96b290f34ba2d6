"""Benchmark: klantreis transitions against pm4py, retentioneering, pandas and plain DuckDB.

All tools compute the directly-follows transitions of the same event log
(``benchmarks/_data.py``: 1M customers, about 10M events, 20 touchpoints). klantreis
and the pandas peer compute the full table (transitions, unique customers, share,
median and p90 gap); the plain DuckDB window query the same in one SQL statement;
pm4py its directly-follows graph (counts); retentioneering its transition graph data
(count matrix), plus the time to build its event stream. The transition counts of
klantreis are checked equal to pm4py's. Each figure is the median of ``--runs`` runs
(slow peers: ``--slow-runs``). Peak memory of klantreis is the process's peak RSS
measured before any peer is loaded.

Run with the lock so only one benchmark uses the machine at a time::

    flock /tmp/klantreis-bench.lock .venv/bin/python benchmarks/transitions.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("RETENTIONEERING_NO_TRACK", "1")

from _data import bench_workspace, events_parquet
from _timing import build_timeline, fmt, peak_gb, timed_runs

PLAIN_SQL = """
WITH s AS (
  SELECT customer_id, touchpoint AS src,
         lead(touchpoint) OVER w AS tgt,
         (epoch_us(lead(timestamp) OVER w) - epoch_us(timestamp)) / 1e6 AS gap
  FROM events
  WINDOW w AS (PARTITION BY customer_id ORDER BY timestamp, event_id)
)
SELECT src, tgt, count(*) AS transitions, count(DISTINCT customer_id) AS customers,
       quantile_cont(gap, [0.5, 0.9]) AS q
FROM s WHERE tgt IS NOT NULL GROUP BY ALL
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slow-runs", type=int, default=1, help="runs of peers slower than 10 s")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="peers to skip: pm4py retentioneering pandas"
    )
    args = parser.parse_args()

    from klantreis.analytics.transitions import transitions
    from klantreis.store import open_workspace

    ws = open_workspace(bench_workspace(args.customers))
    n_events = ws.con.con.execute("SELECT count(*) FROM events").fetchone()[0]
    print(
        f"data: {n_events:,} events, {args.customers:,} customers; cores: {os.cpu_count()}; "
        f"load average: {_load()}"
    )
    build_timeline(ws)
    transitions(ws)  # warm-up (connection, catalog)
    k_med, k_times, result = timed_runs(lambda: transitions(ws), args.runs)
    k_peak = peak_gb()
    print(
        f"klantreis transitions    median {k_med:6.2f} s  runs {fmt(k_times)}"
        f"  peak RSS {k_peak:.2f} GB"
    )
    rows: dict[str, float] = {}

    d_med, d_times, _ = timed_runs(lambda: ws.con.con.execute(PLAIN_SQL).fetchall(), args.runs)
    rows["plain DuckDB window query"] = d_med
    print(f"plain DuckDB window SQL  median {d_med:6.2f} s  runs {fmt(d_times)}")
    ws.close()

    import pandas as pd
    import pyarrow.parquet as pq

    started = time.perf_counter()
    df = pq.read_table(
        events_parquet(args.customers),
        columns=["customer_id", "timestamp", "event_id", "touchpoint"],
    ).to_pandas()
    print(f"(load into pandas: {time.perf_counter() - started:.2f} s, not counted)")

    def pandas_transitions() -> pd.DataFrame:
        s = df.sort_values(["customer_id", "timestamp", "event_id"], kind="stable")
        same = s["customer_id"].shift(-1) == s["customer_id"]
        pairs = pd.DataFrame(
            {
                "customer_id": s["customer_id"].to_numpy(),
                "src": s["touchpoint"].to_numpy(),
                "tgt": s["touchpoint"].shift(-1).to_numpy(),
                "gap": (s["timestamp"].shift(-1) - s["timestamp"]).dt.total_seconds().to_numpy(),
            }
        )[same.to_numpy()]
        g = pairs.groupby(["src", "tgt"])
        out = g.agg(
            transitions=("gap", "size"),
            customers=("customer_id", "nunique"),
            median_seconds=("gap", "median"),
            p90_seconds=("gap", lambda x: x.quantile(0.9)),
        )
        out["share"] = out["transitions"] / out.groupby(level=0)["transitions"].transform("sum")
        return out

    if "pandas" not in args.skip:
        runs = args.runs if not rows or min(rows.values()) < 10 else args.slow_runs
        p_med, p_times, _ = timed_runs(pandas_transitions, min(runs, 3))
        rows["pandas sort + groupby"] = p_med
        print(f"pandas sort + groupby    median {p_med:6.2f} s  runs {fmt(p_times)}")

    if "pm4py" not in args.skip:
        import pm4py

        ordered = df.sort_values(["customer_id", "timestamp", "event_id"], kind="stable")
        m_med, m_times, dfg = timed_runs(
            lambda: pm4py.discover_dfg(
                ordered,
                case_id_key="customer_id",
                activity_key="touchpoint",
                timestamp_key="timestamp",
            ),
            args.slow_runs,
        )
        rows["pm4py discover_dfg"] = m_med
        print(f"pm4py discover_dfg       median {m_med:6.2f} s  runs {fmt(m_times)}")
        ours = {
            (r.source, r.target): int(r.transitions) for r in result.table.itertuples(index=False)
        }
        theirs = {k: int(v) for k, v in dfg[0].items()}
        same = ours == theirs
        print(
            f"transition counts equal to pm4py's: {same} "
            f"({len(ours)} pairs, {sum(ours.values()):,} transitions; pm4py {len(theirs)} pairs, "
            f"{sum(theirs.values()):,})"
        )
        if not same:
            diff = {
                k: (ours.get(k), theirs.get(k))
                for k in ours.keys() | theirs.keys()
                if ours.get(k) != theirs.get(k)
            }
            print("  differences (klantreis, pm4py):", dict(list(diff.items())[:10]))

    if "retentioneering" not in args.skip:
        from retentioneering.eventstream import Eventstream

        schema = {
            "path_cols": ["customer_id"],
            "event_col": "touchpoint",
            "timestamp_col": "timestamp",
        }
        b_med, b_times, stream = timed_runs(lambda: Eventstream(df, schema=schema), args.slow_runs)
        r_med, r_times, _ = timed_runs(
            lambda: stream.transition_graph_data(edge_weight="count"), args.slow_runs
        )
        rows["retentioneering transition_graph_data"] = r_med
        rows["retentioneering incl. building the event stream"] = r_med + b_med
        print(f"retentioneering stream   median {b_med:6.2f} s  runs {fmt(b_times)}")
        print(f"retentioneering graph    median {r_med:6.2f} s  runs {fmt(r_times)}")

    print()
    print(f"{'peer':52s} {'seconds':>8s} {'x klantreis':>12s}")
    print(f"{'klantreis transitions':52s} {k_med:8.2f} {1:12.1f}")
    for name, secs in sorted(rows.items(), key=lambda kv: kv[1]):
        print(f"{name:52s} {secs:8.2f} {secs / k_med:12.1f}")
    python_peers = {k: v for k, v in rows.items() if "DuckDB" not in k}
    if python_peers:
        fastest = min(python_peers, key=python_peers.get)
        ratio = python_peers[fastest] / k_med
        print(f"\nfastest Python peer: {fastest} ({ratio:.1f}x slower than klantreis; goal >= 5x)")
    print(f"load average at the end: {_load()}")
    print(
        f"target <= 1.5 s: {'met' if k_med <= 1.5 else 'NOT met'} ({k_med:.2f} s); peak < 4 GB: "
        f"{'met' if k_peak < 4 else 'NOT met'} ({k_peak:.2f} GB)"
    )


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
