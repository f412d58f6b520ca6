"""Runtime settings, read from ``FEEDGATE_*`` environment variables."""

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEEDGATE_", extra="ignore")

    database_url: str = "sqlite:///./feedgate.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # Signed requests older or newer than this many seconds are refused (replay window).
    timestamp_window_s: int = 300
    # Refuse signed requests that are not bound to their method, path, body and a nonce (docs/security.md).
    auth_strict: bool = False
    # The failover engine runs in every `feedgate serve`; only the leader acts.
    engine_enabled: bool = True
    engine_tick_ms: int = 100
    # A fleet-wide silence (docs/design.md): at least this fraction of the slicers that were on the fleet, and
    # at least this many, silent at once in groups where nothing beats, is held instead of failed over.
    disruption_fraction: float = Field(0.5, gt=0, le=1)
    disruption_min_slicers: int = Field(10, ge=1)
    # A disruption held this long is a real outage: judging resumes (failovers where possible, no_candidate).
    disruption_max_s: float = Field(600.0, gt=0)
    # Steady-state heartbeats are written to the database in one batch this often (at most 100 ms).
    heartbeat_flush_ms: int = Field(50, ge=5, le=100)
    # Worker threads for blocking work (database sessions); the pools are sized from it. Few, on purpose:
    # the work is CPU-bound Python under one GIL, and more threads only make a burst slower (measured).
    threads: int = Field(8, ge=2, le=256)
    # Server processes (`feedgate serve --workers N`). They share the database; on SQLite one of them runs
    # the engine and they hear each other's heartbeats over Unix datagrams (kit/peers.py).
    workers: int = Field(1, ge=1, le=64)
    # How often each process checks whether compiled blackout state is stale.
    config_poll_ms: int = 250
    # HTTP limits (docs/reliability.md): open connections (default: the fd limit less 256, at most 10,000),
    # seconds for a request's headers, for its body, and for an idle keep-alive connection.
    max_connections: int | None = Field(None, ge=1)
    header_timeout_s: float = Field(10.0, gt=0)
    body_timeout_s: float = Field(30.0, gt=0)
    keep_alive_s: float = Field(5.0, gt=0)
    # A stop (SIGTERM, SIGINT) waits at most this long for requests in flight before it closes them; the engine
    # stops judging at once, before the listener closes (docs/operations.md).
    shutdown_s: float = Field(10.0, gt=0, le=300)
    # Console sign-in: session lifetime in hours; Secure cookies even behind a TLS-terminating proxy.
    console_session_h: float = Field(8.0, gt=0, le=24 * 30)
    console_secure_cookie: bool = False
    # Outbound URLs (webhook receivers, slicers' hls_url) on loopback or private addresses (your own network) are
    # refused unless set; link-local and cloud-metadata addresses always are. FEEDGATE_WEBHOOK_ALLOW_PRIVATE is
    # the older name, still read.
    allow_private_urls: bool = Field(False, validation_alias=AliasChoices("FEEDGATE_ALLOW_PRIVATE_URLS",
                                                                          "FEEDGATE_WEBHOOK_ALLOW_PRIVATE"))
    # Per user: webhooks, and slicers with an hls_url (each one is fetched about once a second).
    max_webhooks_per_user: int = Field(50, ge=1)
    max_sources_per_user: int = Field(1000, ge=1)
    # SCTE 224 documents (a POST to /api/v4/scte224, or a rights feed's answer) may be this large: a league's
    # document lists tens of thousands of zips per audience, far past the 1 MiB every other body may have.
    scte224_max_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024)
    max_feeds_per_user: int = Field(20, ge=1)
    # Playback tokens may not live longer than this (seconds).
    token_max_ttl_s: int = Field(24 * 3600, ge=60)
    # The viewer's stream (/channel/{id}.m3u8): a blackout's `asset` alternate is this template with `{id}`
    # filled in (a VOD playlist); slate is this URL, or the slate feedgate ships when it is not set.
    asset_url: str | None = Field(None, pattern=r"^https?://.*\{id\}")
    slate_url: str | None = Field(None, pattern=r"^https?://")
    geoip_db: str | None = None
    unlocated: Literal["deny", "allow"] = "deny"
    log_level: str = "info"
    # /metrics: three series per slicer (health, heartbeat age, playlist staleness); off for very large fleets,
    # the per-group series stay (docs/operations.md).
    metrics_per_slicer: bool = True
    # Proxies whose X-Forwarded-For / -Proto are believed (comma-separated addresses, or "*"); none unless
    # set, so a client cannot pick the address the console's sign-in brake counts.
    trusted_proxies: str | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
