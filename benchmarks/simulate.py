"""Benchmark: simulate 1M customers (about 10M events) in the canonical schema.

Target (issue 7): <= 15 s and peak memory < 4 GB on the 2-core machine, medians of 3
runs. Each run is a fresh subprocess (so peak RSS is that run's own). Reported:

* ``walk``: the numpy walk (customers, steps, times, touchpoints, channels, values);
* ``simulate``: walk + feedback + Arrow tables with string ids (what ``simulate()``
  returns), the figure the target is about;
* ``write``: writing the three Parquet files with the fixed options;
* a per-customer Python loop (the obvious way to write a simulator, with
  ``random.Random``) on 20,000 customers, scaled to 1M, for the ratio.

No peer package simulates journeys (retentioneering, pm4py and channelattribution
analyse logs; pm4py's play-out generates traces from Petri nets, not personas with
calendars, channels and feedback), so the loop is the baseline.

    flock /tmp/klantreis-bench.lock .venv/bin/python benchmarks/simulate.py [customers]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = 3
N_TP = 20


def bench_journey():
    """20 touchpoints, mostly forward with a few loops: about 10 events per customer."""
    from klantreis.model import Channel, Journey, Touchpoint, TouchpointWalk, Trigger

    keys = [f"tp{i:02d}" for i in range(N_TP)]
    channels = ["direct", "search", "social", "email", "store", "referral"]
    tps = []
    for i, key in enumerate(keys):
        nxt: dict[str, float] = {}
        if i + 1 < N_TP:
            nxt[keys[i + 1]] = 0.82
        if i + 3 < N_TP:
            nxt[keys[i + 3]] = 0.04
        if i >= 2:
            nxt[keys[i - 2]] = 0.08
        tps.append(
            Touchpoint(
                key=key,
                phase="purchase" if i == N_TP - 1 else "consideration",
                conversion=i == N_TP - 1,
                walk=TouchpointWalk(
                    next=nxt,
                    delay="6h",
                    spread=1.0,
                    channels={c: 1 / len(channels) for c in channels},
                    value=80.0 if i == N_TP - 1 else None,
                ),
            )
        )
    return Journey(
        key="bench",
        channels=[Channel(key=c) for c in channels],
        touchpoints=tps,
        triggers=[Trigger(key="start", touchpoint=keys[0])],
    )


def one_run(customers: int) -> dict[str, float]:
    import resource

    t0 = time.perf_counter()
    from klantreis.simulate import journey_model, simulate
    from klantreis.simulate.engine import walk

    imported = time.perf_counter() - t0
    journey = bench_journey()
    simulate(journey, 100, seed=0)  # warm up: first calls into pyarrow.compute and scipy
    t = time.perf_counter()
    w = walk(journey_model(journey), customers=customers, seed=1)
    walk_s = time.perf_counter() - t
    events = w.events
    del w
    t, cpu = time.perf_counter(), time.process_time()
    sim = simulate(journey, customers, seed=1)
    simulate_s, simulate_cpu = time.perf_counter() - t, time.process_time() - cpu
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        sim.write(Path(tmp) / "sim.parquet")
        write_s = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    return {
        "import_s": imported,
        "walk_s": walk_s,
        "simulate_s": simulate_s,
        "simulate_cpu_s": simulate_cpu,
        "write_s": write_s,
        "events": float(events),
        "feedback": float(sim.feedback.num_rows),
        "peak_mb": peak,
    }


def python_loop(customers: int) -> float:
    """Seconds for a plain per-customer loop producing the same walk (no ids, no Arrow)."""
    import random

    from klantreis.simulate import journey_model

    m = journey_model(bench_journey())
    w = m.groups[0].walk
    rows = [[(t, float(p)) for t, p in enumerate(row) if p > 0] for row in w.moves]
    rng = random.Random(1)
    start = time.perf_counter()
    out = []
    for c in range(customers):
        t = rng.uniform(0, 365 * 86400)
        s = 0
        out.append((c, t, s, rng.randrange(6)))
        for _ in range(200):
            u, acc, nxt = rng.random(), 0.0, None
            for tp, p in rows[s]:
                acc += p
                if u < acc:
                    nxt = tp
                    break
            if nxt is None:
                break
            t += rng.lognormvariate(10.0, 1.0)
            s = nxt
            out.append((c, t, s, rng.randrange(6)))
    return time.perf_counter() - start


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if len(sys.argv) > 2 and sys.argv[2] == "--child":
        print(json.dumps(one_run(customers)))
        return
    runs = []
    for _ in range(RUNS):
        proc = subprocess.run(
            [sys.executable, __file__, str(customers), "--child"],
            check=True,
            capture_output=True,
            text=True,
            cwd=HERE.parent,
        )
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    loop_n = 20_000
    loop_s = python_loop(loop_n) * customers / loop_n

    def each(key: str, digits: int = 2) -> list[float]:
        return [round(r[key], digits) for r in runs]

    counts = f"{med['events']:,.0f} events, {med['feedback']:,.0f} answers"
    print(f"simulate: {customers:,} customers, {counts}")
    print(f"  walk (numpy)           median {med['walk_s']:6.2f} s   runs {each('walk_s')}")
    print(f"  simulate() to Arrow    median {med['simulate_s']:6.2f} s   runs {each('simulate_s')}")
    cpu = med["simulate_cpu_s"]
    print(f"  simulate() CPU time    median {cpu:6.2f} s   runs {each('simulate_cpu_s')}")
    print(f"  write 3 Parquet files  median {med['write_s']:6.2f} s   runs {each('write_s')}")
    print(f"  peak memory            median {med['peak_mb']:6.0f} MB  runs {each('peak_mb', 0)}")
    print(
        f"  target: simulate <= 15 s: {'ok' if med['simulate_s'] <= 15 else 'MISSED'}; "
        f"peak < 4096 MB: {'ok' if med['peak_mb'] < 4096 else 'MISSED'}"
    )
    print(
        f"  per-customer Python loop (walk only, scaled from {loop_n:,}): {loop_s:6.1f} s "
        f"-> numpy walk is {loop_s / med['walk_s']:.0f}x faster"
    )


if __name__ == "__main__":
    main()
