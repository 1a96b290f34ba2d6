"""Settings: flag > environment > file > default; checked values; secrets never print."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from klantreis.errors import ConfigError
from klantreis.settings import CONFIG_FILE, SETTINGS, Secret, Settings, write_settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_the_dataclass_and_the_list_agree() -> None:
    assert [f.name for f in fields(Settings)] == [s.name for s in SETTINGS]
    defaults = Settings()
    for s in SETTINGS:
        assert getattr(defaults, s.name) == s.default, s.name
        assert s.env == f"KLANTREIS_{s.name.upper()}"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = re.findall(r"^## `([a-z_]+)`$", text, flags=re.M)
    assert documented == [s.name for s in SETTINGS]
    for s in SETTINGS:
        section = text.split(f"## `{s.name}`", 1)[1].split("\n## ", 1)[0]
        assert f"Environment: `{s.env}`" in section, s.name
        assert f"Default: `{json.dumps(s.default)}`" in section, s.name
        assert ("Secret: yes" in section) == s.secret, s.name


@pytest.mark.parametrize(
    ("flag", "env", "file", "expected"),
    [
        pytest.param("nl", "en", "en", "nl", id="flag-wins"),
        pytest.param(None, "nl", "en", "nl", id="env-over-file"),
        pytest.param(None, None, "nl", "nl", id="file-over-default"),
        pytest.param(None, None, None, "en", id="default"),
    ],
)
def test_precedence(flag: str | None, env: str | None, file: str | None, expected: str) -> None:
    settings = Settings.resolve(
        {"language": file} if file else {},
        flags={"language": flag},
        env={"KLANTREIS_LANGUAGE": env} if env else {},
    )
    assert settings.language == expected


def test_precedence_through_the_file_and_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_settings(tmp_path, {"language": "nl", "timezone": "UTC", "session_gap_minutes": 45})
    assert Settings.load(tmp_path).as_dict() == {
        "language": "nl",
        "timezone": "UTC",
        "backend": "***",
        "journey": "",
        "session_gap_minutes": 45,
    }
    monkeypatch.setenv("KLANTREIS_TIMEZONE", "Europe/London")
    monkeypatch.setenv("KLANTREIS_SESSION_GAP_MINUTES", "10")
    loaded = Settings.load(tmp_path, {"language": "en"})
    assert (loaded.language, loaded.timezone, loaded.session_gap_minutes) == (
        "en",
        "Europe/London",
        10,
    )


def test_values_are_checked() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.resolve({"timezone": "Europe/Amsterdm"}, env={})
    assert str(info.value) == (
        "setting 'timezone': unknown time zone 'Europe/Amsterdm' "
        "(use an IANA name such as Europe/Amsterdam)"
    )
    assert info.value.key == "timezone"
    with pytest.raises(ConfigError, match=r"setting 'session_gap_minutes': 'half' is not a whole"):
        Settings.resolve({}, env={"KLANTREIS_SESSION_GAP_MINUTES": "half"})
    with pytest.raises(ConfigError, match=r"setting 'session_gap_minutes': 0 must be positive"):
        Settings.resolve({"session_gap_minutes": 0}, env={})
    with pytest.raises(ConfigError, match=r"setting 'language': language 'fr' is not supported"):
        Settings.resolve({}, flags={"language": "fr"}, env={})
    assert Settings.resolve({"language": "nl_NL"}, env={}).language == "nl"


def test_unknown_key_in_the_file_gets_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text('langauge = "nl"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    assert str(info.value) == (
        f"unknown setting 'langauge' in {tmp_path / CONFIG_FILE} (did you mean 'language'?)"
    )


def test_bad_toml(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("language = nl\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"klantreis.toml: not valid TOML"):
        Settings.load(tmp_path)


def test_write_settings_round_trips_awkward_strings(tmp_path: Path) -> None:
    value = 'duckdb://C:\\data\\"x".duckdb'
    write_settings(tmp_path, {"backend": value, "journey": "fitness"})
    loaded = Settings.load(tmp_path)
    assert loaded.backend.reveal() == value
    assert loaded.journey == "fitness"


def test_secrets_do_not_print(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgres://ann:hunter2@db.example/klantreis"
    settings = Settings.resolve({}, env={"KLANTREIS_BACKEND": url})
    assert isinstance(settings.backend, Secret)
    print(settings, settings.backend, f"{settings.backend}", "%s" % settings.backend)  # noqa: UP031
    print(repr(settings), settings.as_dict(), json.dumps(settings.as_dict()))
    with pytest.raises(TypeError):  # never serialised as its value by accident
        json.dumps({"backend": settings.backend})
    out = capsys.readouterr().out
    assert "hunter2" not in out and "***" in out
    assert settings.backend.reveal() == url
    assert settings.as_dict(reveal=True)["backend"] == url
    assert not isinstance(settings.as_dict(reveal=True)["backend"], Secret)
