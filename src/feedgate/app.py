"""The FastAPI application: /api/v4 (signed), /healthz, /metrics, /openapi.json, /docs."""

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from sqlalchemy import text

from feedgate import __version__
from feedgate.audiences.router import router as audiences_router
from feedgate.auth.dependencies import SignatureCheck, authenticated_owner
from feedgate.auth.service import KeyCache
from feedgate.blackouts.router import router as blackouts_router
from feedgate.channels.router import router as channels_router
from feedgate.failover.engine import FailoverEngine
from feedgate.failover.health import HealthTable
from feedgate.failover.registry import Registry
from feedgate.failover.router import router as failover_router
from feedgate.kit.db import Database
from feedgate.kit.deps import SessionCloser
from feedgate.kit.errors import FeedgateError, database_trouble, error_response, install_error_handlers
from feedgate.kit.hotpath import BodyLimit, HotRoutes, HttpManners, JsonBodies, MsgParams
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

log = logging.getLogger("feedgate")


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
    watcher = ConfigWatcher(db, settings.config_poll_ms)
    watcher.listeners.append(decisions.on_version)

    def reload_registry(version: int) -> None:
        if version != registry.current.version or not registry.fresh:
            registry.reload()

    watcher.listeners.append(reload_registry)

    def config_changed(kind: str) -> None:
        # The one after-commit path for a change made in this process: decisions and the fleet registry
        # read it before they answer again; the watcher reloads them (and so wakes the engine) at once.
        # The engine's own switches are mirrored in the registry already, and a registration or join
        # changes no other slicer's answer: for those, heartbeats stay on the fast path.
        decisions.invalidate()
        if kind == "config":
            registry.invalidate()
        watcher.kick()

    db.on_config_change.append(config_changed)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        watcher.check(force=True)  # decisions and the registry are loaded before the first request
        watcher.start()
        ingest.start()
        if engine is not None:
            engine.start()
        log.info("feedgate %s on %s (engine %s)", __version__, db.engine.url.render_as_string(hide_password=True),
                 "on" if engine else "off")
        yield
        if engine is not None:
            engine.stop()
        ingest.stop()
        watcher.stop()
        decisions.close()
        db.dispose()

    app = FastAPI(title="feedgate", version=__version__, lifespan=lifespan,
                  description="Live Slicer failover and per-viewer blackouts; v4 API compatible.")
    app.state.settings = settings
    app.state.db = db
    app.state.key_cache = KeyCache()
    app.state.signatures = SignatureCheck(db, app.state.key_cache, settings.timestamp_window_s,
                                          settings.auth_strict, settings.workers)
    app.state.decisions = decisions
    app.state.engine = engine
    app.state.ingest = ingest
    install_error_handlers(app)
    app.add_middleware(SessionCloser)
    app.add_middleware(HotRoutes, routes=[hot_heartbeat(app.state), hot_playback(app.state)])
    app.add_middleware(MsgParams)
    app.add_middleware(HttpManners, routes=lambda: app.routes)
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit)
    app.add_middleware(MetricsMiddleware)

    api = APIRouter(prefix="/api/v4", dependencies=[Depends(authenticated_owner)])
    for router in (failover_router, channels_router, slicers_router, audiences_router, rules_router,
                   blackouts_router, programs_router):
        api.include_router(router)
    app.include_router(api)
    # The viewer decision also takes a playback token (players hold no API key): its own auth dependency.
    viewer_api = APIRouter(prefix="/api/v4")
    viewer_api.include_router(playback_router)
    app.include_router(viewer_api)

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

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", include_in_schema=False)
    def metrics() -> Any:
        return metrics_response()

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            # FastAPI documents 422 for validation errors; this API answers 400 with the Error body.
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    if "422" in responses:
                        responses["400"] = {"description": "Invalid request (the description names the field)",
                                            **{k: v for k, v in responses.pop("422").items() if k != "description"}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
