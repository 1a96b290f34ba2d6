"""The package surface: light import, a sorted and complete __all__, `python -m klantreis`."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

import klantreis

HEAVY = ("fastapi", "typer", "jinja2", "click", "uvicorn")


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_import_does_not_load_web_or_cli_frameworks() -> None:
    code = (
        "import sys, klantreis\n"
        "from klantreis import load_journey, Journey, KlantreisError\n"
        "import klantreis.model, klantreis.settings, klantreis.i18n, klantreis.errors\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert run_python(code) == "[]"


def test_simulate_depends_on_the_model_only() -> None:
    """The layering rule: simulation (what-if included) loads no store, analytics,
    render, web or CLI module of Klantreis."""
    code = (
        "import sys\n"
        "import klantreis.simulate, klantreis.simulate.whatif, klantreis.simulate.run\n"
        "stages = ('store', 'analytics', 'render', 'web', 'cli')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] in "
        "[['klantreis', s] for s in stages]))"
    )
    assert run_python(code) == "[]"


def test_all_is_sorted_and_resolves() -> None:
    assert klantreis.__all__ == sorted(klantreis.__all__)
    assert len(set(klantreis.__all__)) == len(klantreis.__all__)
    for name in klantreis.__all__:
        assert getattr(klantreis, name) is not None, name
    assert set(klantreis.__all__) <= set(dir(klantreis))


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        klantreis.nope  # noqa: B018


def test_version_matches_the_installed_metadata() -> None:
    assert klantreis.__version__ == importlib.metadata.version("klantreis")


def test_model_all_resolves() -> None:
    import klantreis.model as model

    assert len(set(model.__all__)) == len(model.__all__)
    for name in model.__all__:
        assert getattr(model, name) is not None, name


def test_python_m_klantreis() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "klantreis", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    for command in ("init", "validate", "show"):
        assert command in done.stdout
