"""``klantreis serve`` starts the app; ``import klantreis`` does not load the web stack;
the context dataclasses are what the JSON twins show."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from klantreis.web import context as ctx
from klantreis.web.urls import Urls, json_twin
from tests.support import make_workspace
from tests.web.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_import_klantreis_does_not_load_the_web_stack() -> None:
    done = _python(
        "import sys, klantreis, klantreis.cli.web, klantreis.web\n"
        "bad = [m for m in ('fastapi', 'jinja2', 'starlette', 'uvicorn') if m in sys.modules]\n"
        "print(bad)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_serve_starts_the_app(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    make_workspace(folder, template="fitness", lang="en").close()
    port = free_port()
    code = (
        "import sys\nfrom klantreis.cli import main, web\n"
        f"sys.exit(main(['serve', '--workspace', {str(folder)!r}, '--port', '{port}']))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/index.json", timeout=5)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else ""
                    ) from None
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["journeys"][0]["key"] == "fitness"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out.decode()


def test_serve_without_a_workspace_fails_clearly(tmp_path: Path) -> None:
    done = _python(
        "import sys\nfrom klantreis.cli import main, web\n"
        f"sys.exit(main(['serve', '--workspace', {str(tmp_path / 'none')!r}]))"
    )
    assert done.returncode == 1
    assert "is not a Klantreis workspace" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "cls",
    [
        ctx.HomeContext,
        ctx.MapContext,
        ctx.ReportContext,
        ctx.FunnelContext,
        ctx.ValidationContext,
        ctx.UploadContext,
        ctx.ErrorContext,
    ],
)
def test_context_classes_are_typed_frozen_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen
    for f in dataclasses.fields(cls):
        assert f.type not in ("Any", "object"), f"{cls.__name__}.{f.name} needs a real type"


def test_to_json_drops_template_only_fields_and_nan() -> None:
    page = ctx.FunnelContext(
        journey="j",
        name="J",
        touchpoints=[ctx.Option("a", "A")],
        modes=[],
        steps=["a", "b"],
        window="30d",
        mode="ordered",
        slots=6,
        result={"rows": [{"x": float("nan")}]},
        figure="{}",
    )
    data = ctx.to_json(page)
    assert "figure" not in data
    assert data["touchpoints"] == [{"value": "a", "label": "A"}]
    assert data["result"] == {"rows": [{"x": None}]}
    assert set(data) == {f.name for f in dataclasses.fields(page)} - {"figure"}


def test_urls() -> None:
    urls = Urls()
    assert urls.home() == "/" and urls.home(fmt="json") == "/index.json"
    assert urls.journey_map("a b") == "/journeys/a%20b/map"
    assert urls.report("j", persona="p", fmt="json") == "/journeys/j/report.json?persona=p"
    assert urls.validate(fmt="json") == "/validate.json" and urls.upload() == "/upload"
    assert json_twin("/x/y") == "/x/y.json"
    assert Urls("/app/").static("a.css") == "/app/static/a.css"


def test_route_table_is_complete() -> None:
    from klantreis.web import create_app
    from klantreis.web.routes import ROUTES

    assert [r.name for r in ROUTES] == ["home", "map", "report", "funnel", "validate", "upload"]
    app = create_app("/nonexistent")  # nothing is opened before the first request
    paths = {getattr(r, "path", None) for r in app.routes}
    for route in ROUTES:
        assert route.path in paths and json_twin(route.path) in paths
