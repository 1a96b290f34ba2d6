"""The loyalty and experience commands (table, csv, json) and the figures."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from klantreis.analytics.compare import compare
from klantreis.analytics.drivers import drivers
from klantreis.analytics.experience import ambassadors, experience
from klantreis.analytics.gap import gap
from klantreis.analytics.lifecycle import churn, lifecycle
from klantreis.analytics.loops import loops, repeat_purchase
from klantreis.analytics.retention import retention
from klantreis.cli import app, main
from tests.analytics.loyalty._journey import use_journey
from tests.analytics.loyalty.conftest import ev, fb
from tests.support import make_workspace

runner = CliRunner()

EVENTS = [
    ev("a", "2026-01-01T10:00:00Z", "ad"),
    ev("a", "2026-01-02T10:00:00Z", "buy"),
    ev("a", "2026-02-03T10:00:00Z", "support"),
    ev("b", "2026-01-01T10:00:00Z", "buy"),
    ev("b", "2026-02-02T10:00:00Z", "refer"),
    ev("c", "2026-01-01T10:00:00Z", "support"),
    ev("c", "2026-01-05T10:00:00Z", "zz", "mail"),
]
FEEDBACK = [
    fb("a", "buy", "nps", 10),
    fb("b", "buy", "nps", 9),
    fb("c", "buy", "nps", 7),
    fb("a", "site", "emotion", 2),
]
CUSTOMERS = [
    {"customer_id": "a", "segment": "budget"},
    {"customer_id": "b", "segment": "lux"},
    {"customer_id": "c", "segment": "lux"},
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "ws"
    ws = make_workspace(path, events=EVENTS, feedback=FEEDBACK, customers=CUSTOMERS)
    use_journey(ws).close()
    return path


def run(folder, *args):
    result = runner.invoke(app, [*args, "-w", str(folder)])
    assert result.exit_code == 0, result.output
    return result.output


def test_retention_csv_exact(folder):
    out = run(folder, "retention", "--format", "csv")
    assert out.splitlines() == [
        "cohort,period,customers,retained,share",
        "2026-01-01,0,3,3,1.0",
        "2026-01-01,1,3,2,0.6666666666666666",
    ]


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["retention", "--mode", "on-or-after", "--period", "week"], "retention"),
        (["lifecycle"], "lifecycle"),
        (["churn", "--inactive", "30d"], "churn"),
        (["loops"], "loops"),
        (["loops", "--repeat"], "repeat_purchase"),
        (["experience", "--metric", "nps", "--by", "touchpoint"], "experience"),
        (["gap"], "gap"),
        (["ambassadors"], "ambassadors"),
        (["compare", "retention", "--by", "segment"], "compare"),
        (["drivers", "--min-support", "1"], "drivers"),
    ],
)
def test_json_and_table(folder, args, name):
    data = json.loads(run(folder, *args, "--format", "json"))
    assert data["name"] == name and data["definition"] and data["rows"]
    table = run(folder, *args)
    assert name in table


def test_experience_json_values(folder):
    data = json.loads(run(folder, "experience", "-f", "json"))
    assert data["rows"][0] == {
        "key": "buy",
        "responses": 3,
        "score": pytest.approx(66.66666666666667),
        "low": data["rows"][0]["low"],
        "high": 100.0,
        "promoters": 2,
        "passives": 1,
        "detractors": 0,
        "mapped": True,
    }


def test_user_errors_exit_1(folder, capsys):
    assert main(["retention", "--period", "year", "-w", str(folder)]) == 1
    assert (
        "period: unknown period (got 'year'); allowed: day, week, month" in capsys.readouterr().err
    )
    assert main(["experience", "--metric", "nsp", "-w", str(folder)]) == 1
    assert main(["compare", "loops", "--rate", "x", "-w", str(folder)]) == 1
    assert "NUMERATOR,DENOMINATOR" in capsys.readouterr().err


def test_csv_reads_back(folder):
    frame = pd.read_csv(io.StringIO(run(folder, "drivers", "--min-support", "1", "-f", "csv")))
    assert list(frame.columns)[:4] == ["kind", "value", "mapped", "customers"]


# -- figures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results(folder):
    from klantreis.store import open_workspace

    ws = open_workspace(folder)
    out = {
        "retention": retention(ws),
        "lifecycle": lifecycle(ws),
        "experience": experience(ws),
        "gap": gap(ws),
        "compare": compare(ws, "retention", by="segment"),
        "drivers": drivers(ws, min_support=1),
        "churn": churn(ws, inactive="30d"),
        "loops": loops(ws),
        "repeat_purchase": repeat_purchase(ws),
        "ambassadors": ambassadors(ws),
    }
    ws.close()
    return out


def test_retention_heatmap(results):
    fig = results["retention"].figure()
    heat = fig.data[0]
    assert heat.type == "heatmap"
    assert [list(row) for row in heat.z] == [[1.0, pytest.approx(2 / 3)]]
    assert list(heat.y) == ["2026-01-01"]


def test_lifecycle_bars_dormant_negative(results):
    fig = results["lifecycle"].figure(lang="nl")
    names = [trace.name for trace in fig.data]
    assert names == ["nieuw", "terugkerend", "herleefd", "slapend"]
    assert list(fig.data[3].y) == [0, -1]
    assert fig.layout.barmode == "relative"


def test_experience_and_gap_and_drivers_figures(results):
    exp = results["experience"].figure()
    assert exp.data[0].type == "bar" and "NPS" in exp.layout.title.text
    gap_fig = results["gap"].figure()
    assert gap_fig.data[0].y[-1] == results["gap"].table.touchpoint.iloc[0]  # top bar on top
    forest = results["drivers"].figure()
    assert forest.layout.xaxis.type == "log"
    assert len(forest.data[0].x) == len(results["drivers"].table)


def test_compare_figure(results):
    fig = results["compare"].figure()
    assert [trace.name for trace in fig.data] == ["budget", "lux"]
    assert list(fig.data[1].y) == [1.0, 0.5]


def test_churn_figure_equals_the_result(results):
    result = results["churn"]
    fig = result.figure(lang="nl")
    bar = fig.data[0]
    table = result.table.iloc[::-1]  # active on top
    assert list(bar.y) == ["relatie beëindigd", "inactief", "actief"]
    assert list(bar.x) == table.customers.tolist()
    assert list(bar.customdata) == table.share.tolist()
    assert "Klantverloop" in fig.layout.title.text and "30d" in fig.layout.title.text


def test_loops_figure_equals_the_result(results):
    result = results["loops"]
    fig = result.figure()
    share, cycles = fig.data
    table = result.table
    assert list(share.x) == ["purchase process", "service loop", "loyalty loop"]
    assert list(share.y) == table.share.tolist()
    assert list(share.error_y.array) == pytest.approx((table.high - table.share).tolist())
    assert list(share.error_y.arrayminus) == pytest.approx((table.share - table.low).tolist())
    assert list(cycles.y) == pytest.approx(table.cycles_per_customer.tolist(), nan_ok=True)
    assert list(cycles.customdata) == table.cycles.tolist()
    entered = table.set_index("loop").loc["purchase"]
    assert share.text[0].endswith(f"({int(entered.entered)}/{int(entered.buyers)})")


def test_repeat_purchase_figure_equals_the_result(results):
    result = results["repeat_purchase"]
    row = result.table.iloc[0]
    fig = result.figure(lang="nl")
    once, again = fig.data
    assert (once.x[0], again.x[0]) == (row.buyers - row.repeat_buyers, row.repeat_buyers)
    assert [once.name, again.name] == ["één keer gekocht", "opnieuw gekocht"]
    assert fig.layout.barmode == "stack"
    assert fig.layout.title.text.startswith("Herhaalaankopen: ")


def test_ambassadors_figure_equals_the_result(results):
    result = results["ambassadors"]
    counts = dict(zip(result.table.kind, result.table.customers, strict=True))
    shares = dict(zip(result.table.kind, result.table.share, strict=True))
    fig = result.figure()
    by_name = {trace.name: trace for trace in fig.data}
    assert by_name["promoters"].y[0] == counts["promoters"]
    prompted, spontaneous = by_name["prompted (after a request)"], by_name["spontaneous"]
    assert prompted.y[0] + spontaneous.y[0] == counts["ambassadors"]
    assert (prompted.y[0], spontaneous.y[0]) == (counts["prompted"], counts["spontaneous"])
    assert prompted.x == spontaneous.x == ("ambassadors",)
    assert spontaneous.customdata[0] == shares["spontaneous"]
    assert fig.layout.barmode == "stack"
