"""The analytics on PySpark (local mode) give the same tables as on DuckDB.

One local SparkSession for the module (2 threads, 2 shuffle partitions, no UI, bound to
127.0.0.1). A seeded dataset (200 customers, about 2,000 events over the retail
journey, ties in time, identities, NPS/CSAT/emotion answers, personas and segments) is
written into a DuckDB workspace and into the canonical Spark tables of a workspace whose
``klantreis.toml`` says ``backend = "pyspark://"``; every analytic must answer the same
on both. Ingest writes to DuckDB only, so the Spark tables are loaded through Ibis here,
as a user would load them from the DuckDB store or from their own pipeline.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip(
    "pyspark", reason="PySpark is not installed (install the 'spark' extra: uv sync --extra spark)"
)

from klantreis import analytics as ka  # noqa: E402
from klantreis.analytics.attribution import MODELS  # noqa: E402
from klantreis.settings import write_settings  # noqa: E402
from klantreis.store import init_workspace, open_workspace  # noqa: E402
from klantreis.store.schema import CANONICAL, TABLES  # noqa: E402
from tests.support import canonical_frame, make_workspace  # noqa: E402

pytestmark = [
    pytest.mark.spark,
    # py4j (the Python-Java bridge) lets the garbage collector close its sockets
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
    # PySpark's toPandas passes copy=False, which pandas 3 deprecates
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]

SEED = 20260301
N_CUSTOMERS = 200
PERSONAS = ["comparer", "store_lover", "trend_follower", None]
SEGMENTS = ["new", "loyal"]
AWARENESS = ["search_engine", "social_media"]
CONSIDERATION = ["youtube_demo", "comparison_sites", "whatsapp_chat", "store_visit"]
CHECKOUT = ["webshop_checkout", "store_checkout"]
CHANNEL = {
    "search_engine": "search",
    "social_media": "social",
    "youtube_demo": "youtube",
    "comparison_sites": "comparison",
    "whatsapp_chat": "whatsapp",
    "store_visit": "store",
    "webshop_checkout": "webshop",
    "store_checkout": "store",
    "order_tracking": "whatsapp",
    "delivery": "carrier",
    "returns": "webshop",
    "review_request": "email",
    "ambassador": "social",
    "account_closed": "email",
    "newsletter_click": "email",  # not in the journey: kept unmapped
}


# -- the dataset -------------------------------------------------------------------------
def _walk(rng: np.random.Generator, start: datetime) -> list[tuple[datetime, str, float | None]]:
    """One customer's events: awareness, consideration, maybe purchases, service, loyalty."""
    out: list[tuple[datetime, str, float | None]] = []
    now = start

    def add(tp: str, value: float | None = None) -> None:
        nonlocal now
        if not out or rng.random() < 0.15:
            pass  # the first event at the start; else a tie: the previous event's instant
        else:
            now += timedelta(seconds=int(rng.choice([30, 600, 3_600, 86_400, 5 * 86_400])))
            now += timedelta(seconds=int(rng.integers(0, 3_600)))
        out.append((now, tp, value))

    for tp in rng.choice(AWARENESS, size=int(rng.integers(1, 4))):
        add(str(tp))
    for _cycle in range(int(rng.integers(1, 4))):
        for tp in rng.choice(CONSIDERATION, size=int(rng.integers(1, 4))):
            add(str(tp))
        if rng.random() < 0.1:
            add("newsletter_click")
        if rng.random() > 0.6:
            break
        add(str(rng.choice(CHECKOUT)), float(rng.integers(20, 200)))
        add("order_tracking")
        add("delivery")
        if rng.random() < 0.2:
            add("returns")
        if rng.random() < 0.5:
            add("review_request")
        if rng.random() < 0.2:
            add("ambassador")
        now += timedelta(days=int(rng.integers(5, 60)))
    if rng.random() < 0.05:
        add("account_closed")
    return out


def _month_end(when: datetime) -> datetime:
    """22:30 UTC on the last day of ``when``'s month (00:30 the next day in Amsterdam)."""
    first_next = (datetime(when.year, when.month, 1, tzinfo=UTC) + timedelta(days=32)).replace(
        day=1
    )
    return first_next - timedelta(minutes=90)


def dataset() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    customers, events, feedback = [], [], []
    base = datetime(2026, 1, 10, tzinfo=UTC)
    for i in range(N_CUSTOMERS):
        cid = f"c{i:04d}"
        customers.append(
            {
                "customer_id": cid,
                "persona": PERSONAS[int(rng.integers(0, len(PERSONAS)))],
                "segment": SEGMENTS[int(rng.integers(0, len(SEGMENTS)))],
            }
        )
        # starts spread over the year, across both daylight-saving changes; some on the
        # last evening of a month in UTC, which is the next month in Amsterdam
        start = base + timedelta(days=int(rng.integers(0, 300)), hours=int(rng.integers(0, 24)))
        if rng.random() < 0.2:
            start = _month_end(start)
        for ts, tp, value in _walk(rng, start):
            events.append(
                {
                    "event_id": f"h{rng.integers(0, 2**62):024x}",  # ties broken by this id
                    "customer_id": cid,
                    "timestamp": ts,
                    "touchpoint": tp,
                    "channel": CHANNEL[tp],
                    "value": value,
                    "mapped": tp != "newsletter_click",
                }
            )
        if rng.random() < 0.7:
            tp = str(rng.choice(CHECKOUT + CONSIDERATION))
            when = start + timedelta(days=int(rng.integers(0, 40)))
            if rng.random() < 0.3:
                when = _month_end(when)
            feedback.append(
                {
                    "customer_id": cid,
                    "timestamp": when,
                    "touchpoint": tp,
                    "metric": "nps",
                    "score": float(rng.integers(0, 11)),
                }
            )
            feedback.append(
                {
                    "customer_id": cid,
                    "timestamp": when,
                    "touchpoint": tp,
                    "metric": "csat",
                    "score": float(rng.integers(1, 6)),
                }
            )
            feedback.append(
                {
                    "customer_id": cid,
                    "timestamp": when,
                    "touchpoint": tp,
                    "metric": "emotion",
                    "score": float(rng.integers(1, 6)),
                }
            )
    # anonymous visitors later linked to a customer (identities applied on both backends)
    identities, n_events = [], len(events)
    for k in range(10):
        alias, owner = f"anon{k}", f"c{int(rng.integers(0, N_CUSTOMERS)):04d}"
        identities.append({"alias_id": alias, "customer_id": owner, "kind": "cookie"})
        first = next(e for e in events if e["customer_id"] == owner)
        events.append(
            {
                "event_id": f"h{rng.integers(0, 2**62):024x}",
                "customer_id": alias,
                "timestamp": first["timestamp"] - timedelta(hours=2),
                "touchpoint": "social_media",
                "channel": "social",
                "value": None,
                "mapped": True,
            }
        )
    assert len(events) > n_events
    return {
        "events": canonical_frame("events", events),
        "feedback": canonical_frame("feedback", feedback),
        "customers": canonical_frame("customers", customers),
        "identities": canonical_frame("identities", identities),
    }


# -- the two workspaces ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no network: loopback only
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("klantreis-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return dataset()


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory, data: dict[str, pd.DataFrame]) -> Any:
    return make_workspace(tmp_path_factory.mktemp("duck") / "ws", template="retail", **data)


@pytest.fixture(scope="module")
def sws(tmp_path_factory: pytest.TempPathFactory, spark: Any, data: dict[str, pd.DataFrame]) -> Any:
    """A workspace on the running SparkSession (``backend = "pyspark://"`` in its settings)."""
    folder = tmp_path_factory.mktemp("spark") / "ws"
    init_workspace(folder, template="retail")
    write_settings(folder, {"language": "en", "backend": "pyspark://"})
    ws = open_workspace(folder)
    assert ws.con.name == "pyspark"
    assert ws.con._session is spark  # the running session, not a new one
    for name in CANONICAL:  # opening the workspace created the tables (empty)
        load_spark_table(spark, name, data[name])
    return ws


def load_spark_table(spark: Any, name: str, rows: pd.DataFrame) -> None:
    """Append canonical rows to a Spark table, through Arrow.

    Not through ``ibis.memtable``: Ibis hands a memtable to Spark as a pandas frame, and
    with pandas 3 a missing string arrives as the text 'NaN'.
    """
    import pyarrow as pa

    table = pa.Table.from_pandas(rows, schema=TABLES[name].to_pyarrow(), preserve_index=False)
    spark.createDataFrame(table).write.insertInto(name)


def test_the_spark_workspace_holds_the_rows(sws: Any, duck: Any, data: dict[str, pd.DataFrame]):
    for name in CANONICAL:
        assert int(sws.table(name).count().execute()) == len(data[name]) > 0
    got = sws.events.execute().sort_values("event_id").reset_index(drop=True)
    want = duck.events.execute().sort_values("event_id").reset_index(drop=True)
    assert got.customer_id.tolist() == want.customer_id.tolist()  # identities applied
    assert _utc(got.timestamp).tolist() == _utc(want.timestamp).tolist()


# -- comparing results --------------------------------------------------------------------------
def _utc(col: pd.Series) -> pd.Series:
    """Timestamps as naive UTC (Spark hands back naive UTC, DuckDB zone-aware)."""
    if getattr(col.dtype, "tz", None) is not None:
        return col.dt.tz_convert("UTC").dt.tz_localize(None)
    return col


def _normal(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index(drop=True).copy()
    for name in df.columns:
        col = df[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            df[name] = _utc(col).astype("datetime64[us]")
        elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            df[name] = col.astype("float64")
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            df[name] = col.astype(object).where(col.notna(), None)
    return df


def assert_same(spark_result: Any, duck_result: Any) -> None:
    got, want = _normal(spark_result.table), _normal(duck_result.table)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want), (got, want)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9, atol=1e-9)
    assert spark_result.params == duck_result.params


FUNNEL = ["search_engine|social_media", "youtube_demo|comparison_sites", "webshop_checkout"]

CASES: dict[str, Any] = {
    "funnel_ordered": lambda ws: ka.funnel(ws, FUNNEL, window="30d"),
    "funnel_strict": lambda ws: ka.funnel(ws, FUNNEL, window="30d", mode="strict"),
    "funnel_any_order": lambda ws: ka.funnel(ws, FUNNEL, window="30d", mode="any-order"),
    "funnel_any_order_options": lambda ws: ka.funnel(
        ws,
        FUNNEL,
        window="30d",
        mode="any-order",
        optional=[2],
        step_windows={3: "7d"},
        min_gaps={2: "1h"},
        exclude=["whatsapp_chat:1:3"],
    ),
    "funnel_any_order_walk_no_window": lambda ws: ka.funnel(
        ws, FUNNEL, window=None, mode="any-order", step_windows={3: "7d"}
    ),
    "funnel_skew": lambda ws: ka.funnel(ws, FUNNEL, window="30d", skew="1h"),
    "funnel_skew_no_window": lambda ws: ka.funnel(
        ws, FUNNEL, window=None, skew="1h", step_windows={3: "14d"}
    ),
    "phase_funnel": lambda ws: ka.phase_funnel(ws, window="90d"),
    "dropoff": lambda ws: ka.dropoff(ws, FUNNEL, at=2, window="30d"),
    "transitions": lambda ws: ka.transitions(ws),
    "paths_variants": lambda ws: ka.paths(ws, top=15),
    "paths_outcome": lambda ws: ka.paths(ws, kind="outcome", top=10),
    "timing_convert": lambda ws: ka.timing(ws),
    "retention_month": lambda ws: ka.retention(ws, "month"),
    "retention_week": lambda ws: ka.retention(ws, "week", mode="on"),
    "lifecycle": lambda ws: ka.lifecycle(ws, "month"),
    "loops": lambda ws: ka.loops(ws),
    "experience_nps": lambda ws: ka.experience(ws, "nps"),
    "experience_csat_persona": lambda ws: ka.experience(ws, "csat", by="persona"),
    "experience_nps_month": lambda ws: ka.experience(ws, "nps", by="month"),
    "gap": lambda ws: ka.gap(ws, "emotion"),
    "attribution": lambda ws: ka.attribution(
        ws, models=[m for m in MODELS if m != "shapley"], lookback="30d"
    ),
    "attribution_repeat": lambda ws: ka.attribution(
        ws, models=["first_touch", "linear", "time_decay", "markov"], repeat=True
    ),
    "drivers": lambda ws: ka.drivers(ws, min_support=1),
    "compare_funnel": lambda ws: ka.compare(ws, "funnel", by="segment", steps=FUNNEL),
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_answer_as_duckdb(case: str, sws: Any, duck: Any):
    want = CASES[case](duck)
    got = CASES[case](sws)
    assert len(want.table) > 0
    assert_same(got, want)
    if case == "attribution":
        assert not math.isnan(float(got.table.select_dtypes("number").sum().sum()))
