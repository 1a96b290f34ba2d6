"""Benchmark: the report on 10M events (target: <= 20 s end to end, file < 15 MB).

    flock /tmp/klantreis-bench.lock .venv/bin/python benchmarks/report.py [N_CUSTOMERS] [--runs 3]

Measures, on ``bench_workspace(N)`` (1M customers, about 10M events):
1. the analyses: ``klantreis.analytics.overview.run_all(ws)`` (when that module exists);
2. the rendering: ``build_report(journey, results)`` and writing the file;
3. the whole command as a user runs it: ``klantreis report -w WS -o FILE.html`` in a
   new process (start-up, journey load, analyses, rendering, writing).
The analyses and the command run on ``report_workspace(N)``: a workspace folder whose
settings point at the benchmark store and whose journey is the 20-touchpoint journey
built here over tp00..tp19 (five phases, tp19 the conversion), so every analysis of the
report runs (the blank journey of the shared benchmark workspace would skip the
funnel, timing, loops and attribution). The timeline (the derived table the path
analytics read) is built once first and timed separately. Medians of ``--runs`` runs;
peak memory (RSS) of this process. When the orchestrator is missing, step 2 also runs
on synthetic results of realistic size, to measure the rendering alone.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _data import CACHE, TOUCHPOINTS, bench_workspace  # noqa: E402
from _timing import build_timeline, timed  # noqa: E402


def bench_journey():
    from klantreis.model import Experience, Journey, Touchpoint

    phases = ["awareness", "consideration", "purchase", "service", "loyalty"]
    tps = [
        Touchpoint(
            key=key,
            name=f"Contactmoment {i}",
            phase=phases[min(i // 4, 4)],
            experience=Experience(current=1 + (i * 7) % 5, desired=5),
            conversion=key == TOUCHPOINTS[-1],
            successors=[TOUCHPOINTS[i + 1]] if i + 1 < len(TOUCHPOINTS) else [],
        )
        for i, key in enumerate(TOUCHPOINTS)
    ]
    return Journey(key="bench", name="Benchmark journey", touchpoints=tps)


def report_workspace(n_customers: int) -> Path:
    """A workspace on the benchmark store with :func:`bench_journey` as its journey."""
    from klantreis.model.io import save_journey
    from klantreis.store import init_workspace

    store = bench_workspace(n_customers) / "klantreis.duckdb"
    folder = CACHE / f"ws_report_{n_customers}"
    if not (folder / "klantreis.toml").exists():
        ws = init_workspace(folder, template="blank", lang="nl")
        for file in ws.journey_files():
            file.unlink()
        save_journey(bench_journey(), ws.journeys_dir / "bench.yaml")
        with (folder / "klantreis.toml").open("a", encoding="utf-8") as fh:
            fh.write(f'backend = "duckdb://{store.resolve()}"\n')
    return folder


def synthetic_results() -> dict:
    """Results of realistic size with the specified columns (rendering cost only)."""
    import numpy as np
    import pandas as pd

    from klantreis.result import Result

    rng = np.random.default_rng(1)
    customers = np.sort(rng.integers(1000, 1_000_000, size=20))[::-1]
    funnel = pd.DataFrame(
        {
            "step": range(1, 21),
            "name": TOUCHPOINTS,
            "customers": customers,
            "conversion_from_start": customers / customers[0],
            "conversion_from_previous": np.r_[1.0, customers[1:] / customers[:-1]],
            "dropped": np.r_[customers[:-1] - customers[1:], 0],
            "median_seconds_from_previous": rng.uniform(60, 86400, 20),
            "p90_seconds_from_previous": rng.uniform(86400, 864000, 20),
        }
    )
    attribution = pd.DataFrame(
        [
            {
                "key": k,
                "model": m,
                "conversions": float(rng.uniform(0, 1000)),
                "value": float(rng.uniform(0, 9e4)),
            }
            for m in ("first_touch", "last_touch", "linear", "markov", "shapley")
            for k in TOUCHPOINTS
        ]
    )
    transitions = pd.DataFrame(
        [
            {
                "source": a,
                "target": b,
                "transitions": int(rng.integers(1, 1e5)),
                "customers": int(rng.integers(1, 1e5)),
                "share": float(rng.uniform()),
                "median_seconds": 3600.0,
                "p90_seconds": 86400.0,
            }
            for a in TOUCHPOINTS
            for b in TOUCHPOINTS
        ]
    )
    retention = pd.DataFrame(
        [
            {
                "cohort": f"2025-{c:02d}",
                "period": p,
                "customers": 80000,
                "retained": int(80000 * 0.8**p),
                "share": 0.8**p,
            }
            for c in range(1, 13)
            for p in range(0, 13 - c)
        ]
    )
    emotion = pd.DataFrame(
        {
            "key": TOUCHPOINTS,
            "responses": 5000,
            "score": rng.uniform(1, 5, 20),
            "low": 1.0,
            "high": 5.0,
        }
    )
    return {
        "funnel": Result("funnel", funnel, "20-step funnel", {"window": "30d"}),
        "attribution": Result("attribution", attribution, "attribution", {}),
        "transitions": Result("transitions", transitions, "transitions", {}),
        "retention": Result("retention", retention, "retention", {"period": "month"}),
        "emotion": Result(
            "experience", emotion, "emotion", {"metric": "emotion", "by": "touchpoint"}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("customers", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from klantreis.render import build_report
    from klantreis.store import open_workspace

    folder = report_workspace(args.customers)
    journey = bench_journey()
    ws = open_workspace(folder)
    build_timeline(ws)
    ws.close()
    out = Path(tempfile.mkdtemp(prefix="klantreis-bench-report-"))
    print(f"workspace {folder} ({args.customers:,} customers), {args.runs} runs, medians")

    try:
        from klantreis.analytics.overview import run_all
    except ImportError:
        run_all = None
        print("analyses: klantreis.analytics.overview.run_all does not exist yet: not measured")

    results: dict = {}
    analyses_s = None
    if run_all is not None:
        each: dict[str, list[float]] = {}

        def analyses() -> dict:
            ws = open_workspace(folder)
            try:
                overview = run_all(ws)
            finally:
                ws.close()
            for name, seconds in overview.seconds.items():
                each.setdefault(name, []).append(seconds)
            return dict(overview)

        analyses_s, results = timed(analyses, args.runs)
        print(f"analyses (run_all): {analyses_s:.2f} s, {len(results)} results")
        for name, seconds in sorted(each.items(), key=lambda kv: -statistics.median(kv[1])):
            print(f"  {name:16s} {statistics.median(seconds):6.2f} s")

    def render(res: dict) -> float:
        html = build_report(journey, res, lang="nl")
        (out / "report.html").write_text(html, encoding="utf-8")
        return len(html.encode())

    render_s, size = timed(lambda: render(results), args.runs)
    print(
        f"rendering + writing ({len(results)} results): {render_s:.2f} s, file {size / 1e6:.2f} MB"
    )
    if not results:
        synth_s, synth_size = timed(lambda: render(synthetic_results()), args.runs)
        print(
            f"rendering synthetic results (5 results, 20 touchpoints): {synth_s:.2f} s, "
            f"file {synth_size / 1e6:.2f} MB"
        )
    if analyses_s is not None:
        total = analyses_s + render_s
        print(
            f"in-process end to end: {total:.2f} s "
            f"(target <= 20 s: {'ok' if total <= 20 else 'MISSED'}), file {size / 1e6:.2f} MB "
            f"(target < 15 MB: {'ok' if size < 15e6 else 'MISSED'})"
        )

    exe = Path(sys.executable).with_name("klantreis")
    cli_times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "report", "-w", str(folder), "-o", str(out / "cli.html")],
            capture_output=True,
            text=True,
        )
        cli_times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            print("klantreis report failed:", proc.stderr.strip())
            break
    cli_size = (out / "cli.html").stat().st_size if (out / "cli.html").exists() else 0
    print(
        f"'klantreis report' command end to end: {statistics.median(cli_times):.2f} s, "
        f"file {cli_size / 1e6:.2f} MB (target <= 20 s, < 15 MB)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {peak:.0f} MB, the command {peak_children:.0f} MB")


if __name__ == "__main__":
    main()
