"""Benchmark: klantreis retention and NPS against plain pandas and plain DuckDB.

Data: ``benchmarks/_data.py`` (1M customers, about 10M events over 2025) plus 1M NPS
answers built here (seeded: customers, touchpoints tp00..tp19, times over 2025, scores
0-10), loaded as a temporary table so the shared workspace is not changed.

- **30-day cohort retention**: daily cohorts by first event, returns on days 1-30
  (``retention(ws, period="day", periods=30)``), days in the workspace time zone;
  the same with pandas (groupby) and one plain DuckDB SQL statement; the retained
  counts are checked equal across the three.
- **NPS per touchpoint** on the 1M answers: ``experience(ws, "nps", "touchpoint")``
  (with its 95% intervals) against a pandas groupby and a plain DuckDB GROUP BY.

Each figure is the median of ``--runs`` runs. Peak memory of klantreis is the
process's peak RSS measured before pandas loads any data.

    flock /tmp/klantreis-bench.lock .venv/bin/python benchmarks/retention.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import SEED, TOUCHPOINTS, bench_workspace, events_parquet
from _timing import build_timeline, fmt, peak_gb, timed_runs

RETENTION_SQL = """
WITH e AS (SELECT customer_id, CAST(timestamp AS DATE) AS d FROM events),
f AS (SELECT customer_id, min(d) AS cohort FROM e GROUP BY customer_id),
r AS (
  SELECT DISTINCT e.customer_id, f.cohort, date_diff('day', f.cohort, e.d) AS period
  FROM e JOIN f USING (customer_id)
)
SELECT cohort, period, count(*) AS retained FROM r
WHERE period BETWEEN 1 AND 30 GROUP BY ALL
"""

NPS_SQL = """
SELECT touchpoint, count(*) AS n,
       100.0 * (count(*) FILTER (score >= 9) - count(*) FILTER (score <= 6)) / count(*) AS nps
FROM bench_feedback WHERE metric = 'nps' AND score BETWEEN 0 AND 10 GROUP BY touchpoint
"""


def feedback_table(n: int, n_customers: int) -> Any:
    """``n`` seeded NPS answers in the canonical feedback schema (Arrow)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(SEED + 5)
    t0 = np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64)
    ts = t0 + rng.integers(0, 365 * 86400, size=n)
    score = rng.choice(
        11, size=n, p=[0.03, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.15, 0.2, 0.2, 0.15]
    )
    tp = rng.integers(0, len(TOUCHPOINTS), size=n)
    return pa.table(
        {
            "feedback_id": pa.array(np.char.add("f", np.arange(n).astype(str))),
            "customer_id": pa.array(
                np.char.add("c", rng.integers(0, n_customers, size=n).astype(str))
            ),
            "timestamp": pa.array(ts.astype("datetime64[s]"), pa.timestamp("us", tz="UTC")),
            "touchpoint": pa.DictionaryArray.from_arrays(
                pa.array(tp.astype(np.int32)), pa.array(TOUCHPOINTS)
            ).cast(pa.string()),
            "metric": pa.array(np.full(n, "nps")),
            "score": pa.array(score.astype(np.float64)),
            "comment": pa.nulls(n, pa.string()),
            "source": pa.array(np.full(n, "bench")),
        }
    )


class BenchWorkspace:
    """The benchmark workspace with the temporary feedback table as ``feedback``."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    @property
    def feedback(self) -> Any:
        return self._ws.con.table("bench_feedback")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--feedback", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from klantreis.analytics.experience import experience
    from klantreis.analytics.retention import retention
    from klantreis.store import open_workspace

    ws = open_workspace(bench_workspace(args.customers))
    build_timeline(ws)
    raw = ws.con.con
    n_events = raw.execute("SELECT count(*) FROM events").fetchone()[0]
    tz = raw.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    fb = feedback_table(args.feedback, args.customers)
    raw.register("bench_feedback_arrow", fb)
    raw.execute("CREATE TEMP TABLE bench_feedback AS SELECT * FROM bench_feedback_arrow")
    raw.unregister("bench_feedback_arrow")
    bws = BenchWorkspace(ws)
    print(
        f"data: {n_events:,} events, {args.customers:,} customers, {args.feedback:,} NPS answers;"
        f" cores: {os.cpu_count()}; time zone {tz}; read-only store: {ws.read_only}"
    )

    retention(bws, period="day", periods=30)  # warm-up (connection, catalog)
    r_med, r_times, r_result = timed_runs(
        lambda: retention(bws, period="day", periods=30), args.runs
    )
    experience(bws, "nps", "touchpoint")
    n_med, n_times, n_result = timed_runs(lambda: experience(bws, "nps", "touchpoint"), args.runs)
    k_peak = peak_gb()
    print(f"klantreis retention 30d  median {r_med:6.2f} s  runs {fmt(r_times)}  (goal <= 2 s)")
    print(f"klantreis NPS/touchpoint median {n_med:6.2f} s  runs {fmt(n_times)}  (goal <= 0.5 s)")
    print(f"klantreis peak RSS {k_peak:.2f} GB (goal < 4 GB)")

    d_med, d_times, d_out = timed_runs(lambda: raw.execute(RETENTION_SQL).fetch_df(), args.runs)
    dn_med, dn_times, dn_out = timed_runs(lambda: raw.execute(NPS_SQL).fetch_df(), args.runs)
    print(f"plain DuckDB retention   median {d_med:6.2f} s  runs {fmt(d_times)}")
    print(f"plain DuckDB NPS         median {dn_med:6.2f} s  runs {fmt(dn_times)}")

    k_retained = int(r_result.table.loc[r_result.table.period > 0, "retained"].sum())
    assert k_retained == int(d_out.retained.sum()), (k_retained, int(d_out.retained.sum()))
    k_nps = dict(zip(n_result.table.key, n_result.table.score, strict=True))
    for tp, value in zip(dn_out.touchpoint, dn_out.nps, strict=True):
        assert abs(k_nps[tp] - value) < 1e-9, (tp, k_nps[tp], value)
    print(
        f"check: retained counts equal to plain DuckDB ({k_retained:,}); NPS equal per touchpoint"
    )
    fb_pd = fb.to_pandas()
    ws.close()

    import pandas as pd
    import pyarrow.parquet as pq

    started = time.perf_counter()
    df = pq.read_table(
        events_parquet(args.customers), columns=["customer_id", "timestamp"]
    ).to_pandas()
    print(f"(load events into pandas: {time.perf_counter() - started:.2f} s, not counted)")

    def pandas_retention() -> pd.DataFrame:
        day = df["timestamp"].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
        frame = pd.DataFrame({"customer_id": df["customer_id"], "day": day})
        cohort = frame.groupby("customer_id")["day"].transform("min")
        frame["cohort"] = cohort
        frame["period"] = (frame["day"] - cohort).dt.days
        frame = frame[(frame.period >= 1) & (frame.period <= 30)].drop_duplicates(
            ["customer_id", "period"]
        )
        return frame.groupby(["cohort", "period"]).size().rename("retained").reset_index()

    def pandas_nps() -> pd.DataFrame:
        f = fb_pd[(fb_pd.metric == "nps") & fb_pd.score.between(0, 10)]
        g = f.assign(p=f.score >= 9, d=f.score <= 6).groupby("touchpoint")
        out = g.agg(n=("score", "size"), p=("p", "sum"), d=("d", "sum"))
        out["nps"] = 100.0 * (out.p - out.d) / out.n
        return out

    p_med, p_times, p_out = timed_runs(pandas_retention, min(args.runs, 3))
    pn_med, pn_times, _ = timed_runs(pandas_nps, args.runs)
    assert int(p_out.retained.sum()) == k_retained
    print(f"pandas retention         median {p_med:6.2f} s  runs {fmt(p_times)}")
    print(f"pandas NPS               median {pn_med:6.2f} s  runs {fmt(pn_times)}")
    print()
    print("ratios (peer time / klantreis time; > 1 means klantreis is faster):")
    print(f"  retention: plain DuckDB {d_med / r_med:5.2f}x   pandas {p_med / r_med:5.2f}x")
    print(f"  NPS:       plain DuckDB {dn_med / n_med:5.2f}x   pandas {pn_med / n_med:5.2f}x")


if __name__ == "__main__":
    main()
