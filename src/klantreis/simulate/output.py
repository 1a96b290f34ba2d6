"""Simulated customers, events and feedback in the canonical schema, and their files.

Identifiers are deterministic and sort in walk order: ``s{seed}-{n}`` for customers,
``s{seed}-e{n}`` for events (customer, then step) and ``s{seed}-f{n}`` for feedback,
zero-padded. Files are written with fixed options (Parquet: zstd level 3, dictionary
pages, statistics, 1Mi-row groups; CSV: header, ISO timestamps to the second), so the
same seed gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from klantreis.errors import InvalidSpec
from klantreis.simulate import _random as R
from klantreis.simulate.engine import Walked
from klantreis.simulate.feedback import METRICS, answers

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Simulation", "sidecar_paths", "to_tables"]

_TS = pa.timestamp("us", tz="UTC")
EVENTS_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("timestamp", _TS),
        pa.field("touchpoint", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("properties", pa.string()),
        pa.field("raw_name", pa.string()),
        pa.field("source", pa.string()),
        pa.field("mapped", pa.bool_()),
    ]
)
FEEDBACK_SCHEMA = pa.schema(
    [
        pa.field("feedback_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("timestamp", _TS),
        pa.field("touchpoint", pa.string()),
        pa.field("metric", pa.string()),
        pa.field("score", pa.float64()),
        pa.field("comment", pa.string()),
        pa.field("source", pa.string()),
    ]
)
CUSTOMERS_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("segment", pa.string()),
        pa.field("persona", pa.string()),
        pa.field("attributes", pa.string()),
        pa.field("source", pa.string()),
    ]
)
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 1 << 20,
    "version": "2.6",
    "data_page_version": "1.0",
}


def _fixed_width(chars: np.ndarray) -> pa.Array:
    """A string array from an (n, L) uint8 matrix of ASCII characters (one row per string)."""
    n, width = chars.shape
    data = pa.py_buffer(np.ascontiguousarray(chars))
    if n * width < 2**31:
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), data)
    offsets64 = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets64), data).cast(pa.string())


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` + 0, 1, ... n-1 zero-padded to ``width`` digits (built digit by digit)."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    chars = np.empty((n, len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    for k in range(width):  # digit k from the right repeats in runs of 10**k
        period = 10**k
        runs = -(-n // period)
        digit = (np.arange(runs, dtype=np.int64) % 10 + 48).astype(np.uint8)
        chars[:, len(head) + width - 1 - k] = np.repeat(digit, period)[:n]
    return _fixed_width(chars)


def _constant(text: str, n: int) -> pa.Array:
    """The same string ``n`` times."""
    row = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return _fixed_width(np.broadcast_to(row, (n, len(row))))


def _coded(codes: np.ndarray, labels: list[str | None] | tuple[str, ...]) -> pa.Array:
    """A string column from integer codes (negative: null) into ``labels``."""
    codes = np.asarray(codes)
    mask = codes < 0
    indices = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None)
    dictionary = pa.array(list(labels) if len(labels) else [""], pa.string())
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _time(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, type=_TS)


def to_tables(w: Walked) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(events, feedback, customers) as Arrow tables in the canonical schema."""
    m = w.model
    seed = w.seed
    source = f"simulate:seed={seed}"
    N, E = w.customers, w.events
    cwidth = max(7, len(str(max(N - 1, 0))))
    customer_ids = _ids(f"s{seed}-", N, cwidth)

    # customers
    personas = [g.key for g in m.groups]
    segments = [g.segment for g in m.groups]
    attributes = json.dumps({"simulated": True, "seed": seed, "journey": m.journey}, sort_keys=True)
    customers = pa.table(
        [
            customer_ids,
            _coded(w.group if any(s is not None for s in segments) else np.full(N, -1), segments),
            _coded(w.group if any(p is not None for p in personas) else np.full(N, -1), personas),
            _constant(attributes, N),
            _constant(source, N),
        ],
        schema=CUSTOMERS_SCHEMA,
    )

    # events
    trig_labels: list[str] = []
    base = np.full(len(m.touchpoints), -1, dtype=np.int64)
    count = np.zeros(len(m.touchpoints), dtype=np.int64)
    for i, names in enumerate(m.triggers):
        if names:
            base[i] = len(trig_labels)
            count[i] = len(names)
            trig_labels += [json.dumps({"trigger": n}) for n in names]
    props = np.full(E, -1, dtype=np.int64)
    starts = (w.step == 0) & (base[w.touchpoint] >= 0) if len(base) else np.zeros(E, dtype=bool)
    if starts.any():
        u = R.uniform(seed, R.STREAM_TRIGGER, 0, w.cust[starts])
        tps = w.touchpoint[starts]
        props[starts] = base[tps] + np.minimum((u * count[tps]).astype(np.int64), count[tps] - 1)
    touchpoint = _coded(w.touchpoint, m.touchpoints)
    events = pa.table(
        [
            _ids(f"s{seed}-e", E, max(9, len(str(max(E - 1, 0))))),
            customer_ids.take(pa.array(w.cust)),
            _time(w.time_s),
            touchpoint,
            _coded(w.channel, m.channels),
            pa.array(w.value, pa.float64(), from_pandas=True),
            _coded(props, trig_labels),
            touchpoint,  # raw_name: simulated events are named by their touchpoint
            _constant(source, E),
            pa.array(np.ones(E, dtype=bool)),
        ],
        schema=EVENTS_SCHEMA,
    )

    # feedback
    a = answers(w)
    F = len(a.cust)
    feedback = pa.table(
        [
            _ids(f"s{seed}-f", F, max(9, len(str(max(F - 1, 0))))),
            customer_ids.take(pa.array(a.cust)),
            _time(a.time_s),
            _coded(a.touchpoint, m.touchpoints),
            _coded(a.metric, METRICS),
            pa.array(a.score, pa.float64()),
            pa.nulls(F, pa.string()),
            _constant(source, F),
        ],
        schema=FEEDBACK_SCHEMA,
    )
    return events, feedback, customers


def sidecar_paths(path: str | Path) -> dict[str, Path]:
    """Where ``write`` puts each table: events at ``path``, the others beside it.

    >>> [p.name for p in sidecar_paths("out/sim.parquet").values()]
    ['sim.parquet', 'sim.feedback.parquet', 'sim.customers.parquet']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InvalidSpec("output", "must end in .parquet or .csv", value=str(path))
    stem = path.with_suffix("")
    return {
        "events": path,
        "feedback": stem.with_name(f"{stem.name}.feedback{path.suffix}"),
        "customers": stem.with_name(f"{stem.name}.customers{path.suffix}"),
    }


def write_table(table: pa.Table, path: Path) -> None:
    """Write one table as Parquet or CSV (by suffix) with fixed options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        import pyarrow.csv as pcsv

        cols = {}
        for name in table.column_names:
            col = table[name]
            if pa.types.is_timestamp(col.type):
                col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
                col = pc.utf8_slice_codeunits(col, 0, 19)
                col = pc.binary_join_element_wise(col, "Z", "")
            cols[name] = col
        pcsv.write_csv(pa.table(cols), path, pcsv.WriteOptions(include_header=True))
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, path, **PARQUET_OPTIONS)


@dataclass(eq=False)
class Simulation:
    """Simulated data: ``events``, ``feedback`` and ``customers`` as Arrow tables."""

    events: pa.Table
    feedback: pa.Table
    customers: pa.Table
    params: dict[str, Any] = field(default_factory=dict)
    walked: Walked | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"<Simulation customers={self.customers.num_rows} events={self.events.num_rows} "
            f"feedback={self.feedback.num_rows} params={self.params}>"
        )

    def to_pandas(self) -> dict[str, pd.DataFrame]:
        return {
            "events": self.events.to_pandas(),
            "feedback": self.feedback.to_pandas(),
            "customers": self.customers.to_pandas(),
        }

    def tables(self) -> dict[str, pa.Table]:
        return {"events": self.events, "feedback": self.feedback, "customers": self.customers}

    def write(self, path: str | Path) -> dict[str, Path]:
        """Write events to ``path`` (.parquet or .csv) and the other tables beside it."""
        paths = sidecar_paths(path)
        for kind, target in paths.items():
            write_table(self.tables()[kind], target)
        return paths

    def ingest(self, ws: Any) -> dict[str, Any]:
        """Ingest the three tables into workspace ``ws`` (customers, events, feedback).

        Writes canonical Parquet files to a temporary folder and hands each to
        ``ws.ingest``; returns the ingest summaries by kind.
        """
        import tempfile

        seed = self.params.get("seed", 0)
        out: dict[str, Any] = {}
        with tempfile.TemporaryDirectory(prefix="klantreis-simulate-") as tmp:
            for kind in ("customers", "events", "feedback"):
                path = Path(tmp) / f"simulate-s{seed}.{kind}.parquet"
                write_table(self.tables()[kind], path)
                out[kind] = ws.ingest(path, kind=kind)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts a person reads first: customers, events, converted, revenue, answers."""
        w = self.walked
        out: dict[str, Any] = {
            "customers": self.customers.num_rows,
            "events": self.events.num_rows,
            "feedback": self.feedback.num_rows,
        }
        if w is not None:
            conv = w.model.conversion[w.touchpoint]
            out["converted"] = int((np.bincount(w.cust[conv], minlength=w.customers) > 0).sum())
            out["revenue"] = float(np.nansum(w.value))
        return out
