"""The FastAPI application: /api/v4 (signed), /healthz, /metrics, /openapi.json, /docs."""

import importlib.util
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from feedgate import __version__
from feedgate.audiences.router import router as audiences_router
from feedgate.auth.dependencies import SignatureCheck, authenticated_owner
from feedgate.auth.msg_params import MsgParams
from feedgate.auth.service import KeyCache
from feedgate.blackouts.router import router as blackouts_router
from feedgate.channels.router import router as channels_router
from feedgate.console.live import ConsoleFeed
from feedgate.console.router import router as console_router
from feedgate.console.sessions import Brake
from feedgate.failover.engine import FailoverEngine
from feedgate.failover.health import HealthTable
from feedgate.failover.registry import Registry
from feedgate.failover.router import router as failover_router
from feedgate.kit.db import Database
from feedgate.kit.deps import SessionCloser
from feedgate.kit.errors import FeedgateError, database_trouble, error_response, install_error_handlers
from feedgate.kit.hotpath import BodyLimit, HotRoutes, HttpManners, JsonBodies
from feedgate.kit.metrics import MetricsMiddleware, metrics_response
from feedgate.kit.watch import ConfigWatcher
from feedgate.playback.router import hot_playback
from feedgate.playback.router import router as playback_router
from feedgate.playback.state import DecisionState
from feedgate.programs.router import router as programs_router
from feedgate.rules.router import router as rules_router
from feedgate.settings import Settings, get_settings
from feedgate.slicers.ingest import Ingest
from feedgate.slicers.router import hot_heartbeat
from feedgate.slicers.router import router as slicers_router
from feedgate.stream.frozen import FrozenWatch
from feedgate.stream.router import hot_playlists
from feedgate.stream.router import router as stream_router
from feedgate.stream.service import StreamService
from feedgate.stream.upstream import Upstream
from feedgate.webhooks.router import router as webhooks_router
from feedgate.webhooks.sender import WebhookSender

log = logging.getLogger("feedgate")


def swagger_ui_dir() -> str:
    """swagger-ui-py's copy of swagger-ui-dist, found without importing the package (it loads adapters)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "static")


ERROR_SCHEMA = {"type": "object", "required": ["@type", "status", "error", "description"], "properties": {
    "@type": {"type": "string", "const": "Error"}, "status": {"type": "integer"},
    "error": {"type": "string", "description": "The HTTP reason phrase"},
    "description": {"type": "string", "description": "One sentence naming the field or ID at fault"}}}
ERRORS = {
    "400": "Invalid request: the description names the field",
    "401": "Not signed, or signed wrongly, out of the time window, or replayed: the description says which",
    "404": "No such resource for this user (another user's resources are 404 too)",
    "405": "Method not allowed here (the Allow header lists the ones that are)",
    "409": "Conflicts with the current state (a duplicate external_id, a channel in another group …)",
    "413": "The body is larger than 1 MiB",
    "503": "The database is unavailable or busy; nothing was changed: try again",
}


def document_errors(schema: dict[str, Any]) -> None:
    """Every status a route can answer, with the one Error body (FastAPI would document 422 only)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            codes = ["503"]
            if path.startswith("/api/v4/"):
                codes += ["400", "405"]
                if "msg" in {p.get("name") for p in operation.get("parameters", [])}:
                    codes.append("401")
                if "{" in path:
                    codes.append("404")
                if method in ("post", "put", "patch", "delete"):
                    codes.append("409")
                if "requestBody" in operation:
                    codes.append("413")
            for code in sorted(codes):
                responses.setdefault(code, {"description": ERRORS[code], "content": error})


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # A worker process (`--workers N`) starts with bare logging: the same format as `feedgate serve`.
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    db = Database(settings.database_url, settings.threads)
    decisions = DecisionState(db, settings)
    registry = Registry(db)
    health = HealthTable()
    engine = FailoverEngine(db, registry, health, settings.engine_tick_ms) if settings.engine_enabled else None
    ingest = Ingest(db, registry, health, settings.heartbeat_flush_ms,
                    wake=engine.wake if engine is not None else lambda _group_id: None)
    # Webhooks go out from the process that leads the engine, so two instances never both send.
    sender = WebhookSender(db, lambda: engine.leadership.is_leader) if engine is not None else None
    watcher = ConfigWatcher(db, settings.config_poll_ms)
    upstream = Upstream()
    stream = StreamService(decisions, upstream, settings)
    frozen = FrozenWatch(registry, health, upstream)
    watcher.listeners.append(decisions.on_version)

    def reload_registry(version: int) -> None:
        if version != registry.current.version or not registry.fresh:
            registry.reload()

    watcher.listeners.append(reload_registry)

    console_feed = ConsoleFeed()
    watcher.listeners.append(console_feed.notify)  # changes other processes made

    def config_changed(kind: str) -> None:
        # The one after-commit path for a change made in this process: decisions and the fleet registry
        # read it before they answer again; the watcher reloads them (and so wakes the engine) at once.
        # The engine's own switches are mirrored in the registry already, and a registration or join
        # changes no other slicer's answer: for those, heartbeats stay on the fast path.
        decisions.invalidate()
        if kind == "config":
            registry.invalidate()
        watcher.kick()
        console_feed.notify()  # the console's live stream re-renders now

    db.on_config_change.append(config_changed)
    if engine is not None:
        engine.listeners.append(console_feed.notify)  # health changes that move no configuration

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        watcher.check(force=True)  # decisions and the registry are loaded before the first request
        watcher.start()
        ingest.start()
        await upstream.start()
        frozen.start()
        if engine is not None:
            engine.start()
        if sender is not None:
            sender.start()
        log.info("feedgate %s on %s (engine %s)", __version__, db.engine.url.render_as_string(hide_password=True),
                 "on" if engine else "off")
        yield
        if sender is not None:
            sender.stop()
        if engine is not None:
            engine.stop()
        await frozen.stop()
        await upstream.stop()
        ingest.stop()
        watcher.stop()
        decisions.close()
        db.dispose()

    app = FastAPI(title="feedgate", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Live Slicer failover and per-viewer blackouts; v4 API compatible.")
    app.state.settings = settings
    app.state.db = db
    app.state.key_cache = KeyCache()
    app.state.signatures = SignatureCheck(db, app.state.key_cache, settings.timestamp_window_s,
                                          settings.auth_strict, settings.workers)
    app.state.decisions = decisions
    app.state.console_feed = console_feed
    app.state.console_brake = Brake()
    app.state.engine = engine
    app.state.ingest = ingest
    app.state.stream = stream
    install_error_handlers(app)
    app.add_middleware(SessionCloser)
    app.add_middleware(HotRoutes, routes=[hot_heartbeat(app.state), hot_playback(app.state)])
    app.add_middleware(MsgParams)
    app.add_middleware(HttpManners, routes=lambda: app.routes)
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit)
    # Viewers' playlists are GETs with a token and no body: nothing the layers above do concerns them.
    app.add_middleware(HotRoutes, routes=hot_playlists(app.state))
    app.add_middleware(MetricsMiddleware)

    api = APIRouter(prefix="/api/v4", dependencies=[Depends(authenticated_owner)])
    for router in (failover_router, channels_router, slicers_router, audiences_router, rules_router,
                   blackouts_router, programs_router, webhooks_router):
        api.include_router(router)
    app.include_router(api)
    # The viewer decision also takes a playback token (players hold no API key): its own auth dependency.
    viewer_api = APIRouter(prefix="/api/v4")
    viewer_api.include_router(playback_router)
    app.include_router(viewer_api)
    app.include_router(console_router)
    app.include_router(stream_router)

    @app.get("/healthz", tags=["service"], summary="Liveness: the database answers")
    def healthz(request: Request) -> Any:
        try:
            with request.app.state.db.reading() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            trouble = database_trouble(exc)
            log.warning("health check failed: %s", trouble)
            return error_response(FeedgateError(503, f"The database does not answer: {trouble}."))
        # Which process answered (of `--workers N`) and whether it runs the failover engine.
        engine = request.app.state.engine
        role = "off" if engine is None else "leader" if engine.leadership.is_leader else "follower"
        return {"status": "ok", "process": os.getpid(), "engine": role}

    # Swagger UI from the installed package (swagger-ui-py ships swagger-ui-dist with its licence), not a
    # CDN: /docs works on a network with no way out, as broadcast facilities often are.
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")
    # hls.js for the console's watch page, shipped in the package with its licence (console/static/README).
    app.mount("/console/static", StaticFiles(directory=str(Path(__file__).parent / "console" / "static")),
              name="console-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="feedgate API",
                                   swagger_js_url="/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/static/swagger-ui.css",
                                   swagger_favicon_url="/docs/static/favicon-32x32.png")

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", include_in_schema=False)
    def metrics() -> Any:
        return metrics_response()

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            document_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
