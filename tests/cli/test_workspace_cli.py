"""`klantreis init`, `validate` and `show`: through Typer's runner, main() and a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from klantreis.cli import app, main

runner = CliRunner()


def line_of(path: Path, text: str) -> int:
    """1-based number of the first line of ``path`` that contains ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


@pytest.fixture(scope="module")
def fitness_nl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ws") / "fitness"
    result = runner.invoke(app, ["init", str(folder), "--template", "fitness", "--lang", "nl"])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def misspelled(tmp_path: Path) -> Path:
    """A Dutch fitness workspace whose website touchpoint has phase 'consideraton'."""
    folder = tmp_path / "ws"
    assert main(["init", str(folder), "-t", "fitness", "--lang", "nl"]) == 0
    path = folder / "journeys" / "fitness.yaml"
    text = path.read_text(encoding="utf-8")
    marker = "  - key: website\n    name: {nl: Website, en: Website}\n    phase: consideration\n"
    assert marker in text
    path.write_text(text.replace(marker, marker.replace("consideration", "consideraton")))
    return folder


def test_init_creates_a_valid_workspace(fitness_nl: Path) -> None:
    assert sorted(p.name for p in fitness_nl.iterdir()) == ["data", "journeys", "klantreis.toml"]
    assert (fitness_nl / "journeys" / "fitness.yaml").is_file()
    assert 'language = "nl"' in (fitness_nl / "klantreis.toml").read_text()
    result = runner.invoke(app, ["validate", "-w", str(fitness_nl)])
    assert result.exit_code == 0
    assert result.output == "1 klantreisbestand(en) geldig.\n"


def test_init_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "w"), "-t", "retail"])
    assert result.exit_code == 0
    assert result.output.startswith(f"Created workspace {tmp_path / 'w'} from template 'retail'.")


def test_validate_names_file_line_and_field(misspelled: Path) -> None:
    path = misspelled / "journeys" / "fitness.yaml"
    line = line_of(path, "phase: consideraton")
    result = runner.invoke(app, ["validate", "--workspace", str(misspelled)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{path.resolve()}:{line}:5 [touchpoints[website].phase]: fout: onbekende fase "
        "'consideraton' (bedoelde je 'consideration'?)\n"
        "1 fout(en) en 0 waarschuwing(en) in 1 klantreisbestand(en).\n"
    )


def test_validate_through_main_returns_exit_code_1(
    misspelled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "-w", str(misspelled)]) == 1
    err = capsys.readouterr().err
    assert "[touchpoints[website].phase]: fout: onbekende fase 'consideraton'" in err
    assert "Traceback" not in err


def test_validate_as_a_real_process(misspelled: Path) -> None:
    path = misspelled / "journeys" / "fitness.yaml"
    line = line_of(path, "phase: consideraton")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLANTREIS_")}
    env["KLANTREIS_WORKSPACE"] = str(misspelled)
    done = subprocess.run(
        [sys.executable, "-m", "klantreis", "validate"],
        capture_output=True,
        text=True,
        env=env | {"COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 1
    assert (
        f"fitness.yaml:{line}:5 [touchpoints[website].phase]: fout: onbekende fase "
        "'consideraton' (bedoelde je 'consideration'?)"
    ) in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_json(misspelled: Path) -> None:
    result = runner.invoke(app, ["validate", "-w", str(misspelled), "--json"])
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)
    assert problem["code"] == "unknown"
    assert problem["field"] == "touchpoints[website].phase"
    assert problem["severity"] == "error"
    assert problem["line"] == line_of(misspelled / "journeys" / "fitness.yaml", "consideraton")


def test_validate_a_file_given_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "j.yaml"
    path.write_text(
        "key: j\ntouchpoints:\n  - {key: a, phase: awareness, successors: [b]}\n"
        "  - {key: b, phase: purchase, conversion: true}\n  - {key: c, phase: loyalty}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", "-w", str(tmp_path), str(path)])
    assert result.exit_code == 0  # a warning does not fail validation
    assert result.stdout == (
        f"{path}:5:6 [touchpoints[c].key]: warning: touchpoint 'c' is not connected to any "
        "other touchpoint (add predecessors or successors)\n"
        "0 error(s) and 1 warning(s) in 1 journey file(s).\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["-t", "gym"],
            "klantreis: template: unknown template (got 'gym'); allowed: blank, fitness, retail\n",
            id="unknown-template",
        ),
        pytest.param(
            ["--timezone", "Mars/Olympus"],
            "klantreis: setting 'timezone': unknown time zone 'Mars/Olympus' (use an IANA name "
            "such as Europe/Amsterdam)\n",
            id="bad-timezone",
        ),
        pytest.param(
            ["--lang", "de"],
            "klantreis: language 'de' is not supported (use 'nl' or 'en')\n",
            id="unknown-language",
        ),
    ],
)
def test_init_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "new"
    assert main(["init", str(folder), *args]) == 1
    assert capsys.readouterr().err == message
    assert not (folder / "klantreis.toml").exists()


def test_init_on_an_existing_workspace(
    fitness_nl: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (fitness_nl / "journeys" / "fitness.yaml").read_text(encoding="utf-8")
    assert main(["init", str(fitness_nl), "-t", "retail"]) == 1
    assert capsys.readouterr().err == (
        f"klantreis: {fitness_nl} is already a workspace (choose another folder, or remove its "
        "klantreis.toml to start over)\n"
    )
    assert (fitness_nl / "journeys" / "fitness.yaml").read_text(encoding="utf-8") == before
    assert not (fitness_nl / "journeys" / "retail.yaml").exists()


def test_init_on_an_existing_workspace_says_so_in_dutch(
    fitness_nl: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(fitness_nl), "-t", "retail", "--lang", "nl"]) == 1
    assert capsys.readouterr().err == (
        f"klantreis: {fitness_nl} is al een werkruimte (kies een andere map, of verwijder de "
        "klantreis.toml daarin om opnieuw te beginnen)\n"
    )


def test_a_workspace_without_journeys_says_so_in_its_language(tmp_path: Path) -> None:
    from klantreis.errors import WorkspaceError
    from klantreis.store import init_workspace

    ws = init_workspace(tmp_path / "ws", template="blank", lang="nl")
    for file in ws.journey_files():
        file.unlink()
    with pytest.raises(WorkspaceError) as err:
        ws.journey()
    assert str(err.value) == (
        f"werkruimte {ws.path} heeft geen reisbestanden in journeys/ "
        "(voer 'klantreis init' uit of voeg een YAML-bestand met een reis toe)"
    )


def test_validate_outside_a_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-w", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"klantreis: {tmp_path / 'nothing'} is not a Klantreis workspace")
    assert err.count("\n") == 1


def show(folder: Path, *args: str) -> str:
    result = runner.invoke(app, ["show", "-w", str(folder), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_show_outline_in_dutch(fitness_nl: Path) -> None:
    out = show(fitness_nl)
    for text in (
        "Klantreis fitnessclub",
        "Doelstelling: Meer proeflessen omzetten in een lidmaatschap",
        "conversion_trial_to_contract: van 38% naar 50% vóór 30 jun 2027",
        "Bewustwording · koopreis",
        "Loyaliteit · gebruiksreis",
        "Behoefte ontstaat",
        "Vrienden (mond-tot-mondreclame)",
        "Proefles",
        "Rondleiding",
        "Contract getekend ★",
        "Intakegesprek",
        "Groepslessen",
        "Vriend aanbrengen ♥",
        "Opzegging ✕",
        "Club (balie en zaal)",
        "[hoog] Geen opvolging na de proefles",
        "Sanne de starter",
        "segment=student",
        "Goede voornemens",
        "Heldere prijspagina",
        "★ conversie  ♥ aanbeveling  ✕ einde klantrelatie",
        "14 contactmomenten, 8 kanalen, 3 persona's, 5 triggers, 4 verbeterpunten",
    ):
        assert text in out, text
    assert "Opvolgmail na proefles" not in out  # a to-be touchpoint


def test_show_the_to_be_map(fitness_nl: Path) -> None:
    out = show(fitness_nl, "--state", "to-be")
    assert "Opvolgmail na proefles" in out
    assert "gewenste situatie (to-be)" in out
    assert "[hoog] Geen opvolging na de proefles" not in out  # solved in the to-be map


def test_show_in_english(tmp_path: Path) -> None:
    folder = tmp_path / "retail"
    assert main(["init", str(folder), "-t", "retail", "--lang", "en"]) == 0
    out = show(folder)
    for text in ("Sports shop customer journey", "Webshop checkout ★", "Store checkout ★"):
        assert text in out, text
    assert "Ambassador ♥" in out and "Account closed ✕" in out


def test_show_a_blank_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "blank"
    assert main(["init", str(folder)]) == 0
    out = show(folder)
    assert "My customer journey" in out
    assert "0 touchpoints, 0 channels, 0 personas, 0 triggers, 0 improvements" in out


def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-w", str(tmp_path), str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{tmp_path / 'nope.yaml'}: error: journey file {tmp_path / 'nope.yaml'} does not exist\n"
    )


def test_validate_two_journeys_with_one_key(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    assert main(["init", str(folder), "-t", "fitness"]) == 0
    first = folder / "journeys" / "fitness.yaml"
    second = folder / "journeys" / "kopie.yaml"
    second.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["validate", "-w", str(folder)])
    assert result.exit_code == 1
    assert f"{second.resolve()}: error: journey key 'fitness' is also used by " in result.stderr
