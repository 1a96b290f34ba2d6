"""Seeded benchmark data shared by every benchmark: the same events for every peer.

``events_parquet(n_customers)`` writes (once, cached under benchmarks/_data/) an event
log in the canonical schema: about 10 events per customer over 20 touchpoints
(tp00..tp19) that mostly move forward (so funnels, paths and attribution are
meaningful), 6 channels, timestamps over 2025 with ties, value on tp19 (purchase).
``bench_workspace(n_customers)`` is a workspace whose store holds those events.

Run ``python benchmarks/_data.py 1000000`` to build the 1M-customer set ahead of time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
CACHE = HERE / "_data"
TOUCHPOINTS = [f"tp{i:02d}" for i in range(20)]
CHANNELS = ["direct", "search", "social", "email", "store", "referral"]
SEED = 20261122


def generate(n_customers: int, seed: int = SEED, mean_events: float = 10.0) -> pa.Table:
    """The event log as an Arrow table (vectorised; no Python loop per event)."""
    rng = np.random.default_rng(seed)
    counts = rng.geometric(1.0 / mean_events, size=n_customers).astype(np.int64)
    n = int(counts.sum())
    cust = np.repeat(np.arange(n_customers, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(n, dtype=np.int64) - np.repeat(starts, counts)
    # touchpoint walk: mostly forward steps, clipped to 0..19, restarted per customer
    steps = rng.choice(np.array([-1, 0, 1, 1, 2, 3]), size=n)
    steps[pos == 0] = 0
    first = rng.integers(0, 4, size=n_customers)
    walk = np.cumsum(steps)
    walk -= np.repeat(walk[starts], counts)
    tp = np.clip(np.repeat(first, counts) + walk, 0, len(TOUCHPOINTS) - 1)
    # times: start uniform over 2025, gaps exponential (mean 1 day), rounded to the minute
    t0 = np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64)
    start = t0 + rng.integers(0, 365 * 86400, size=n_customers)
    gaps = (rng.exponential(86400.0, size=n) // 60 * 60).astype(np.int64)
    gaps[pos == 0] = 0
    csum = np.cumsum(gaps)
    csum -= np.repeat(csum[starts], counts)
    ts = np.repeat(start, counts) + csum
    channel = rng.integers(0, len(CHANNELS), size=n)
    value = np.where(tp == len(TOUCHPOINTS) - 1, np.round(rng.gamma(2.0, 40.0, size=n), 2), np.nan)
    event_id = np.char.add("e", np.char.zfill(np.arange(n).astype(str), 10))
    return pa.table(
        {
            "event_id": pa.array(event_id, pa.string()),
            "customer_id": pa.array(np.char.add("c", cust.astype(str)), pa.string()),
            "timestamp": pa.array(ts.astype("datetime64[s]"), pa.timestamp("us", tz="UTC")),
            "touchpoint": pa.DictionaryArray.from_arrays(
                pa.array(tp.astype(np.int32)), pa.array(TOUCHPOINTS)
            ).cast(pa.string()),
            "channel": pa.DictionaryArray.from_arrays(
                pa.array(channel.astype(np.int32)), pa.array(CHANNELS)
            ).cast(pa.string()),
            "value": pa.array(value, pa.float64(), from_pandas=True),
            "properties": pa.nulls(n, pa.string()),
            "raw_name": pa.nulls(n, pa.string()),
            "source": pa.array(np.full(n, "bench"), pa.string()),
            "mapped": pa.array(np.ones(n, dtype=bool)),
        }
    )


def events_parquet(n_customers: int = 1_000_000) -> Path:
    """Path of the cached Parquet file for ``n_customers`` (built on first use)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"events_{n_customers}.parquet"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        pq.write_table(generate(n_customers), tmp, row_group_size=1_000_000)
        tmp.replace(path)
    return path


def bench_workspace(n_customers: int = 1_000_000) -> Path:
    """A workspace folder (blank journey) whose store holds the benchmark events."""
    from klantreis.store import init_workspace, open_workspace

    folder = CACHE / f"ws_{n_customers}"
    if (folder / "klantreis.toml").exists():
        return folder
    source = events_parquet(n_customers)
    ws = init_workspace(folder.with_suffix(".tmp"), template="blank")
    ws.table("events")
    ws.con.con.execute("INSERT INTO events SELECT * FROM read_parquet(?)", [str(source)])
    ws.close()
    folder.with_suffix(".tmp").rename(folder)
    return open_workspace(folder).path


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t = time.perf_counter()
    print(bench_workspace(n), f"{time.perf_counter() - t:.1f}s")
