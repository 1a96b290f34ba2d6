"""The app factory: ``create_app(workspace_path)`` returns a FastAPI app for one workspace.

Nothing happens at import time; the workspace is opened on the first request. Pages
are listed in :mod:`klantreis.web.routes`, links are built by
:class:`klantreis.web.urls.Urls`, each page's data is a dataclass from
:mod:`klantreis.web.context` rendered by a Jinja2 template (autoescape on) or, for
``.json`` / ``?format=json``, returned as JSON. Errors become an error page with the
status from :func:`klantreis.web.errors.status_for`.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from klantreis.errors import InvalidSpec, KlantreisError
from klantreis.i18n import DEFAULT_LANGUAGE, format_number, format_percent, t
from klantreis.web.context import ErrorContext, to_json
from klantreis.web.errors import status_for
from klantreis.web.pages import Page, Query, problem_row
from klantreis.web.routes import ROUTES, Route
from klantreis.web.state import DEFAULT_MAX_UPLOAD_BYTES, AppState
from klantreis.web.upload import check_length, human_size
from klantreis.web.urls import Urls, json_twin

__all__ = ["create_app"]

_HERE = Path(__file__).parent


def create_app(
    workspace_path: str | os.PathLike[str],
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> FastAPI:
    """A web app for the workspace at ``workspace_path`` (opened on first request).

    ``max_upload_bytes``: the largest file the upload page accepts.
    """
    state = AppState(Path(workspace_path).expanduser(), max_upload_bytes=max_upload_bytes)
    urls = Urls()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        with state.lock:
            state.close()

    app = FastAPI(
        title="Klantreis", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.klantreis = state
    app.state.urls = urls

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return Response(
            _plotlyjs(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    for route in ROUTES:
        methods = list(route.methods)
        app.add_api_route(
            route.path, _endpoint(route, state, urls, None), methods=methods, name=route.name
        )
        app.add_api_route(
            json_twin(route.path),
            _endpoint(route, state, urls, "json"),
            methods=methods,
            name=f"{route.name}.json",
        )

    async def klantreis_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KlantreisError)
        problems = [problem_row(p) for p in getattr(exc, "problems", [])]
        context = ErrorContext(status_for(exc), exc.code, exc.message, exc.hint, problems)
        return await run_in_threadpool(_error_response, request, context, state, urls)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        lang = await run_in_threadpool(_known_lang, state)
        if exc.status_code == 404:
            message = t("web.error.not_found", lang, path=request.url.path)
        else:
            message = t("web.error.bad_request", lang, detail=str(exc.detail))
        context = ErrorContext(exc.status_code, "http", message)
        return await run_in_threadpool(_error_response, request, context, state, urls)

    app.add_exception_handler(KlantreisError, klantreis_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    return app


@functools.cache
def _plotlyjs() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _endpoint(
    route: Route, state: AppState, urls: Urls, fixed: str | None
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        fmt = fixed or request.query_params.get("format") or "html"
        if fmt not in ("html", "json"):
            lang = await run_in_threadpool(_known_lang, state)
            raise InvalidSpec(
                "format", t("web.error.format", lang, value=fmt), allowed=["html", "json"]
            )
        values = {k: request.query_params.getlist(k) for k in request.query_params}
        files: dict[str, Any] = {}
        form = None
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            lang = await run_in_threadpool(_known_lang, state)
            check_length(state, int(length) if length.isdigit() else None, lang)
            form = await request.form(max_files=1, max_fields=20)
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = value
                else:
                    values.setdefault(key, []).append(value)
        query = Query(path=dict(request.path_params), values=values, files=files, fmt=fmt)

        def run() -> tuple[Page, str]:
            with state.lock:
                try:
                    return route.endpoint(state, query, urls), state.lang
                finally:
                    state.release()

        try:
            page, lang = await run_in_threadpool(run)
        finally:
            if form is not None:
                await form.close()
        if fmt == "json":
            return _json(to_json(page.context), page.status)
        html = await run_in_threadpool(_html, page, request, lang, urls)
        return HTMLResponse(html, status_code=page.status)

    endpoint.__name__ = f"{route.name}_{fixed or 'page'}"
    return endpoint


def _json(data: Any, status: int) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json")


def _known_lang(state: AppState) -> str:
    """The workspace's language, or the default when the workspace cannot be opened."""
    try:
        with state.lock:
            return state.lang  # settings only: no store connection is opened
    except KlantreisError:
        return DEFAULT_LANGUAGE


def _wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json") or request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _error_response(
    request: Request, context: ErrorContext, state: AppState, urls: Urls
) -> Response:
    if _wants_json(request):
        return _json({"error": to_json(context)}, context.status)
    lang = _known_lang(state)
    page = Page(context, template="error.html.j2", title=t("web.error.title", lang))
    return HTMLResponse(_html(page, request, lang, urls), status_code=context.status)


# -- HTML ------------------------------------------------------------------------------
@functools.cache
def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _nav(page: Page, request: Request, lang: str, urls: Urls) -> list[tuple[str, str, bool]]:
    here = request.url.path
    links = [(t("web.nav.home", lang), urls.home())]
    journey = getattr(page.context, "journey", None)
    if isinstance(journey, str):
        links += [
            (t("web.nav.map", lang), urls.journey_map(journey)),
            (t("web.nav.report", lang), urls.report(journey)),
            (t("web.nav.funnel", lang), urls.funnel(journey)),
        ]
    links += [
        (t("web.nav.validate", lang), urls.validate()),
        (t("web.nav.upload", lang), urls.upload()),
    ]
    return [(label, url, url == here) for label, url in links]


def _html(page: Page, request: Request, lang: str, urls: Urls) -> str:
    query = request.url.query
    json_url = json_twin(request.url.path) + (f"?{query}" if query else "")
    if request.url.path == "/" and not query:
        json_url = urls.home(fmt="json")
    values: dict[str, Any] = {
        "page": page.context,
        "title": page.title,
        "lang": lang,
        "urls": urls,
        "nav": _nav(page, request, lang, urls),
        "json_url": json_url,
        "t": lambda key, **kw: t(key, lang, **kw),
        "num": lambda v, digits=None: "–" if v is None else format_number(v, lang, digits=digits),
        "pct": lambda v: "–" if v is None else format_percent(v, lang),
        "seconds": _seconds(lang),
        "size": lambda n: human_size(n, lang),
    }
    env = _env()
    if page.template is not None:
        return str(env.get_template(page.template).render(**values))
    toolbar = env.get_template("_toolbar.html.j2").render(**values)
    head = f'<link rel="stylesheet" href="{urls.static("klantreis.css")}">' + page.head
    return _inject(page.html or "", head, toolbar)


def _seconds(lang: str) -> Callable[[Any], str]:
    from klantreis.render.journey_map import format_seconds

    def fmt(value: Any) -> str:
        if value is None or value != value:
            return "–"
        return str(format_seconds(float(value), lang))

    return fmt


def _inject(page: str, head: str, body: str) -> str:
    """Put our stylesheet/scripts in a library page's head and our toolbar atop its body."""
    end = page.find("</head>")
    if end >= 0:
        page = page[:end] + head + page[end:]
    match = re.search(r"<body[^>]*>", page)
    cut = match.end() if match else 0
    return page[:cut] + body + page[cut:]
