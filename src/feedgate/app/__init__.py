"""The FastAPI application: /api/v4 (signed), the viewer's stream, the console, /healthz, /metrics, /docs."""

import importlib.util
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from feedgate import __version__
from feedgate.app.errors import error_response, install_error_handlers
from feedgate.app.fleet_metrics import FLEET_METRICS
from feedgate.app.middleware import BodyLimit, HttpManners, JsonBodies, Outermost
from feedgate.app.openapi import install_openapi
from feedgate.app.runtime import Runtime, build_runtime
from feedgate.audiences.router import router as audiences_router
from feedgate.auth.dependencies import authenticated_owner
from feedgate.auth.msg_params import MsgParams
from feedgate.blackouts.router import router as blackouts_router
from feedgate.channels.router import router as channels_router
from feedgate.console.router import router as console_router
from feedgate.failover.disruption import open_disruption
from feedgate.failover.router import router as failover_router
from feedgate.failover.service import owns_slicer
from feedgate.kit.deps import SessionCloser
from feedgate.kit.errors import FeedgateError, database_trouble
from feedgate.kit.hotpath import HotRoutes
from feedgate.kit.metrics import MetricsMiddleware, metrics_response
from feedgate.operators.router import router as operators_router
from feedgate.playback.router import hot_playback
from feedgate.playback.router import router as playback_router
from feedgate.programs.router import router as programs_router
from feedgate.rules import service as rules_service
from feedgate.rules.router import router as rules_router
from feedgate.scte224.router import router as scte224_router
from feedgate.settings import Settings, get_settings
from feedgate.slicers.router import hot_heartbeat
from feedgate.slicers.router import router as slicers_router
from feedgate.stream.router import hot_playlists
from feedgate.stream.router import router as stream_router
from feedgate.webhooks.router import router as webhooks_router

log = logging.getLogger("feedgate")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
PACKAGE = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # A worker process (`--workers N`) starts with bare logging: the same format as `feedgate serve`.
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    runtime = build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        yield
        await runtime.stop()

    app = FastAPI(title="feedgate", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Live Slicer failover and per-viewer blackouts; v4 API compatible.")
    app.state.runtime = runtime
    rules_service.CONTENT_CHECKS["slicer"] = owns_slicer  # handed down: rules sit beside failover
    install_error_handlers(app)
    _middleware(app, runtime)
    _routes(app)
    _service_routes(app)
    install_openapi(app)
    return app


def _middleware(app: FastAPI, runtime: Runtime) -> None:
    """Outermost last. Viewers' playlists are GETs with a token and no body: nothing the layers inside
    them do concerns them, so their hot route comes first, right after the metrics."""
    app.add_middleware(SessionCloser)
    app.add_middleware(HotRoutes, routes=[hot_heartbeat(runtime.ingest, runtime.signatures, runtime.db),
                                          hot_playback(runtime.decisions, runtime.signatures)])
    app.add_middleware(MsgParams)
    app.add_middleware(HttpManners, routes=lambda: app.routes)
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit, larger={"/api/v4/scte224": runtime.settings.scte224_max_bytes})
    app.add_middleware(HotRoutes, routes=hot_playlists(runtime.signatures, runtime.stream))
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(Outermost)


async def settled(request: Request) -> None:
    """Joins by heartbeat are written with the next batch (at most 100 ms later); an API request first has
    them written, so a script that reads or edits a group right after its slicers joined sees them."""
    ingest = request.app.state.runtime.ingest
    if ingest.admitting:
        await run_in_threadpool(ingest.settle)


def _routes(app: FastAPI) -> None:
    api = APIRouter(prefix="/api/v4", dependencies=[Depends(authenticated_owner), Depends(settled)])
    for router in (failover_router, channels_router, slicers_router, audiences_router, rules_router,
                   blackouts_router, programs_router, webhooks_router, scte224_router, operators_router):
        api.include_router(router)
    app.include_router(api)
    # The viewer decision also takes a playback token (players hold no API key): its own auth dependency.
    viewer_api = APIRouter(prefix="/api/v4")
    viewer_api.include_router(playback_router)
    app.include_router(viewer_api)
    app.include_router(console_router)
    app.include_router(stream_router)


def swagger_ui_dir() -> str:
    """swagger-ui-py's copy of swagger-ui-dist, found without importing the package (it loads adapters)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "static")


def _service_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["service"], summary="Liveness: the database answers")
    def healthz(request: Request) -> Any:
        runtime: Runtime = request.app.state.runtime
        try:
            held = open_disruption(runtime.db)
        except Exception as exc:
            trouble = database_trouble(exc)
            log.warning("health check failed: %s", trouble)
            return error_response(FeedgateError(503, f"The database does not answer: {trouble}."))
        # Which process answered (of `--workers N`), whether it runs the failover engine, and a fleet-wide
        # silence being held (still "ok": the service is up, and says what it is holding).
        body: dict[str, Any] = {"status": "ok", "process": os.getpid(), "engine": runtime.engine_role}
        if held is not None:
            body["disruption"] = held
        return body

    # Swagger UI from the installed package (swagger-ui-py ships swagger-ui-dist with its licence), not a
    # CDN: /docs works on a network with no way out, as broadcast facilities often are.
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")
    # hls.js for the console's watch page, shipped in the package with its licence (console/static/README).
    app.mount("/console/static", StaticFiles(directory=str(PACKAGE / "console" / "static")), name="console-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="feedgate API",
                                   swagger_js_url="/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/static/swagger-ui.css",
                                   swagger_favicon_url="/docs/static/favicon-32x32.png")

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", include_in_schema=False)
    def metrics(request: Request) -> Any:
        return metrics_response(request.headers.get("accept-encoding", ""), FLEET_METRICS.render)
