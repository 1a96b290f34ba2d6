from __future__ import annotations

import csv
import io
import json

import pytest

from klantreis.analytics.paths import paths, sankey
from klantreis.analytics.timing import timing
from klantreis.analytics.transitions import transitions
from klantreis.cli import main
from tests.analytics.paths.helpers import replace_rows


def ev(customer, ts, tp, eid):
    return {
        "customer_id": customer,
        "timestamp": f"2025-01-01T{ts}Z",
        "touchpoint": tp,
        "event_id": eid,
    }


EVENTS = [
    ev("a", "00:00:00", "ad", "e1"),
    ev("a", "00:10:00", "site", "e2"),
    ev("a", "01:10:00", "buy", "e3"),
    ev("b", "00:00:00", "site", "e4"),
    ev("b", "00:20:00", "buy", "e5"),
    ev("c", "00:00:00", "zzz", "e6"),
    ev("c", "00:01:00", "site", "e7"),
]


@pytest.fixture
def loaded(ws):
    replace_rows(ws, "events", EVENTS)
    replace_rows(ws, "customers", [{"customer_id": "a", "persona": "p1"}])
    ws.close()  # the CLI opens the store itself
    return ws


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_transitions_csv(loaded, capsys):
    code, out, _ = run(capsys, "transitions", "-w", str(loaded.path), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["source"], r["target"], r["transitions"], r["mapped"]) for r in rows] == [
        ("site", "buy", "2", "True"),
        ("ad", "site", "1", "True"),
        ("zzz", "site", "1", "False"),
    ]
    assert list(rows[0]) == [
        "source",
        "target",
        "transitions",
        "customers",
        "share",
        "median_seconds",
        "p90_seconds",
        "mapped",
    ]


def test_transitions_options_json(loaded, capsys):
    code, out, _ = run(
        capsys,
        "transitions",
        "-w",
        str(loaded.path),
        "-f",
        "json",
        "--session-gap",
        "15",
        "--collapse",
    )
    assert code == 0
    data = json.loads(out)
    assert data["params"]["session_gap_minutes"] == 15 and data["params"]["collapse"] is True
    assert [(r["source"], r["target"]) for r in data["rows"]] == [("ad", "site"), ("zzz", "site")]
    assert "15 minutes" in data["definition"]


def test_paths_commands(loaded, capsys):
    code, out, _ = run(capsys, "paths", "-w", str(loaded.path), "-f", "csv", "--top", "1")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["path"], r["customers"]) for r in rows] == [("ad > site", "1"), ("(other)", "2")]
    code, out, _ = run(
        capsys, "paths", "-w", str(loaded.path), "-f", "json", "--from", "site", "-d", "1"
    )
    data = json.loads(out)
    assert data["name"] == "sankey"
    assert [(r["source"], r["target"], r["transitions"]) for r in data["rows"]] == [
        ("site", "buy", 2),
        ("site", "(end)", 1),
    ]
    assert data["extras"]["nodes"][0] == {"level": 0, "node": "site", "visits": 3, "customers": 3}
    code, out, _ = run(capsys, "paths", "-w", str(loaded.path), "--kind", "design")
    assert code == 0 and "never_taken" in out


def test_time_command(loaded, capsys):
    code, out, _ = run(capsys, "time", "-w", str(loaded.path), "-f", "csv", "--by", "persona")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["group"], r["customers"], r["converted"], r["median_seconds"]) for r in rows] == [
        ("(none)", "2", "1", "1200.0"),
        ("p1", "1", "1", "4200.0"),
    ]
    code, out, _ = run(
        capsys, "time", "-w", str(loaded.path), "-f", "csv", "--kind", "phase", "--rule", "entry"
    )
    assert code == 0 and out.splitlines()[0] == (
        "group,phase,customers,measured,open,median_seconds,p90_seconds,mean_seconds"
    )


def test_user_errors_are_one_line(loaded, capsys):
    code, _, err = run(capsys, "paths", "-w", str(loaded.path), "--from", "sitee")
    assert code == 1
    assert err.strip() == "klantreis: unknown touchpoint 'sitee' (did you mean 'site'?)"
    code, _, err = run(capsys, "paths", "-w", str(loaded.path), "--from", "site", "--to", "buy")
    assert code == 1 and "give --from or --to, not both" in err
    code, _, err = run(capsys, "transitions", "-w", str(loaded.path), "--phase", "purchse")
    assert code == 1 and "did you mean 'purchase'" in err


def test_figures(ws):
    replace_rows(ws, "events", EVENTS)
    fig = transitions(ws).figure()
    assert fig.layout.title.text == "Transitions between touchpoints (3/3)"
    assert len(fig.layout.annotations) == 3
    assert list(fig.data[0].text) == ["ad", "buy", "site", "zzz"]
    s = sankey(ws, start="site", depth=2).figure(value="customers")
    assert s.data[0].type == "sankey"
    assert list(s.data[0].node.label) == ["site", "buy", "(end)", "(end)"]
    assert sum(s.data[0].link.value) == 5
    for kind in ("variants", "outcome", "design"):
        assert paths(ws, kind=kind).figure().data
    conv = timing(ws).figure()
    assert [d.name for d in conv.data] == ["(all)"]
    phase = timing(ws, kind="phase", rule="entry").figure(lang="nl")
    assert phase.layout.title.text == "Tijd per fase"
