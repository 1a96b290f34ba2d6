"""The web app under a real uvicorn server on 127.0.0.1 (a free port, a background
thread), driven with httpx; small fitness workspaces with known numbers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import make_workspace

#: Ten customers on the fitness journey: all feel the need and see the website, seven
#: take a trial lesson, four sign; one event on a touchpoint the journey does not know.
EVENTS: list[dict[str, Any]] = []
for _i in range(10):
    _c = f"c{_i}"
    EVENTS.append(
        dict(
            customer_id=_c,
            timestamp=f"2026-03-0{1 + _i % 9}T08:00:00Z",
            touchpoint="need_triggered",
            channel="social",
        )
    )
    EVENTS.append(
        dict(
            customer_id=_c,
            timestamp=f"2026-03-0{1 + _i % 9}T09:00:00Z",
            touchpoint="website",
            channel="web",
        )
    )
    if _i < 7:
        EVENTS.append(
            dict(
                customer_id=_c,
                timestamp=f"2026-03-0{1 + _i % 9}T10:00:00Z",
                touchpoint="trial_lesson",
                channel="club",
            )
        )
    if _i < 4:
        EVENTS.append(
            dict(
                customer_id=_c,
                timestamp=f"2026-03-0{1 + _i % 9}T12:00:00Z",
                touchpoint="contract_signed",
                channel="club",
            )
        )
EVENTS.append(
    dict(
        customer_id="c9",
        timestamp="2026-03-09T13:00:00Z",
        touchpoint="mystery",
        channel="web",
        mapped=False,
    )
)
FEEDBACK = [
    dict(
        customer_id=f"c{i}",
        timestamp="2026-03-10T09:00:00Z",
        touchpoint="trial_lesson",
        metric="nps",
        score=float(s),
    )
    for i, s in enumerate([10, 9, 8, 6, 3])
]
CUSTOMERS = [
    dict(
        customer_id=f"c{i}",
        segment="a" if i < 5 else "b",
        persona="starter" if i < 5 else "student",
    )
    for i in range(10)
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    path: Path
    client: httpx.Client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(self.url + path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.post(self.url + path, **kw)


@contextlib.contextmanager
def serve(path: Path, **options: Any) -> Iterator[Served]:
    """Run ``create_app(path, **options)`` under uvicorn until the block ends."""
    import uvicorn

    from klantreis.web import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(path, **options),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        with httpx.Client(timeout=60, follow_redirects=False) as client:
            yield Served(f"http://127.0.0.1:{port}", path, client)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def fitness_workspace(folder: Path) -> Path:
    ws = make_workspace(
        folder, template="fitness", lang="nl", events=EVENTS, feedback=FEEDBACK, customers=CUSTOMERS
    )
    ws.close()
    return folder


@pytest.fixture(scope="session")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the library computes on the shared workspace (before any server runs)."""
    from klantreis.analytics.funnel import funnel
    from klantreis.analytics.overview import run_all
    from klantreis.render import map_metrics_from_results
    from klantreis.store import open_workspace

    folder = fitness_workspace(tmp_path_factory.mktemp("web") / "ws")
    with open_workspace(folder) as ws:
        journey = ws.journey("fitness")
        overview = run_all(ws, journey="fitness")
        out = {
            "path": folder,
            "journey": journey,
            "overview": overview,
            "metrics": map_metrics_from_results(overview, journey),
            "funnel": funnel(
                ws,
                steps=["website", "trial_lesson", "contract_signed"],
                window="7d",
                mode="ordered",
                lang="nl",
            ),
        }
    return out


@pytest.fixture(scope="session")
def site(expected: dict[str, Any]) -> Iterator[Served]:
    with serve(expected["path"]) as served:
        yield served


@pytest.fixture
def serve_factory() -> Callable[..., Any]:
    return serve
