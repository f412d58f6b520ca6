"""Prometheus metrics, served at /metrics, and the middleware that times every request by route."""

import gzip
import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("feedgate_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "feedgate_request_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
HEARTBEATS = Counter("feedgate_heartbeats_total", "Slicer heartbeats received")
FAILOVERS = Counter("feedgate_failovers_total", "Active slicer switches made by the engine, by kind (failover, "
                    "failback) and cause (first_pick, silence, signal, left_group, failback)", ["kind", "cause"])
WEBHOOK_DELIVERIES = Counter("feedgate_webhook_deliveries_total", "Webhook delivery attempts by outcome "
                             "(delivered, retrying, failed: given up after 24 h)", ["outcome"])
for _outcome in ("delivered", "retrying", "failed"):  # every series from the start: increase() sees the first one
    WEBHOOK_DELIVERIES.labels(_outcome)
WEBHOOK_BACKLOG = Gauge("feedgate_webhook_backlog", "Webhook deliveries pending (new or waiting to retry), as the "
                        "engine leader last counted them")
ENGINE_LEADER = Gauge("feedgate_engine_leader", "1 while this process holds failover engine leadership")
ENGINE_LAG = Gauge("feedgate_engine_lag_seconds", "How far the control plane runs behind (event loop, instance feed): "
                   "silence is judged net of it")
FLEET_DISRUPTION = Gauge("feedgate_fleet_disruption", "1 while a fleet-wide silence is held (no failover for silence)")
ENGINE_PASS = Histogram("feedgate_engine_pass_seconds", "Time of one engine pass over the groups that were due")
ENGINE_DUE = Histogram("feedgate_engine_due_groups", "Groups evaluated in one engine pass",
                       buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000))
HEARTBEATS_FLUSHED = Counter("feedgate_heartbeats_flushed_total", "Heartbeats written to the database in batches")
HEARTBEATS_PENDING = Gauge("feedgate_heartbeats_pending", "Heartbeats waiting for the next batch write")
HEARTBEAT_FLUSH = Histogram("feedgate_heartbeat_flush_seconds", "Time of one batched heartbeat write")
DECISIONS = Counter("feedgate_decisions_total", "Playback decisions", ["outcome"])
MATCHER_REBUILDS = Counter("feedgate_matcher_rebuilds_total", "Rebuilds of the compiled decision state")
UPSTREAM_FETCHES = Counter("feedgate_upstream_fetches_total", "HLS playlists fetched from sources", ["outcome"])
UPSTREAM_FETCHES.labels("ok"), UPSTREAM_FETCHES.labels("error")
RENDITION_MISMATCHES = Counter("feedgate_rendition_mismatches_total",
                               "Sources of one channel whose renditions differ in number (first sighting each)")
VIEWER_PLAYLISTS = Counter("feedgate_viewer_playlists_total", "HLS playlists served to viewers", ["kind"])
REBUILD_FAILURES = Counter("feedgate_matcher_rebuild_failures_total", "Rebuilds of the decision state that failed "
                           "(decisions kept the previous state)")
DAMAGED_ROWS = Counter("feedgate_damaged_rows_total", "Configuration rows left out of decisions because they are "
                       "damaged (named in the log)")
MATCHER_REBUILD_SECONDS = Histogram("feedgate_matcher_rebuild_seconds", "Duration of compiled state rebuilds")


def metrics_response(accept_encoding: str = "", extra: Callable[[], str] = str) -> Response:
    """The process's metrics, then `extra` (text already in the exposition format: the fleet's series); gzip when
    the scraper takes it (Prometheus does), a tenth of the bytes for a large fleet."""
    body = generate_latest() + extra().encode()
    if "gzip" in accept_encoding:
        return Response(gzip.compress(body, compresslevel=1), media_type=CONTENT_TYPE_LATEST,
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body, media_type=CONTENT_TYPE_LATEST)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's template (/api/v4/channels/{channel_id}), never a raw path: the label set is fixed
    by the code, not by traffic. Every path that matched no route shares the label `unmatched`."""
    hot = scope.get("feedgate.route")
    if hot is not None:
        return str(hot)
    context = (scope.get("fastapi") or {}).get("effective_route_context")  # routes of included routers
    template = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the playback hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            name = route_template(scope)
            method = scope.get("method", "")
            method = method if method in METHODS else "other"
            REQUESTS.labels(method, name, str(status[0])).inc()
            LATENCY.labels(method, name).observe(time.perf_counter() - start)
