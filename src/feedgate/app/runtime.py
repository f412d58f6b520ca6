"""The runtime: every long-lived part of one `feedgate serve` process, built in one place, typed.

`build_runtime(settings)` wires the parts (who listens to whom); `start` and `stop` run them in order,
from the app's lifespan. The app keeps it as `app.state.runtime`, its only state; lower packages never
import this module, they read the one part they need through an accessor in their own package.
"""

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import anyio.to_thread

from feedgate import __version__
from feedgate.app.fleet_metrics import FLEET_METRICS, FleetMetrics
from feedgate.auth.dependencies import SignatureCheck
from feedgate.auth.service import KeyCache
from feedgate.channels.service import SourcesOf
from feedgate.console.live import ConsoleFeed
from feedgate.console.previews import Previews
from feedgate.console.router import ConsoleParts
from feedgate.console.sessions import Brake
from feedgate.failover.engine import FailoverEngine
from feedgate.failover.health import HealthTable
from feedgate.failover.policy import SilenceRule
from feedgate.failover.registry import Registry
from feedgate.failover.service import group_sources
from feedgate.kit.db import Database
from feedgate.kit.lag import LoopLag
from feedgate.kit.versions import Changes
from feedgate.kit.watch import ConfigWatcher
from feedgate.operators.service import write_audit
from feedgate.playback.state import DecisionState
from feedgate.scte224.poller import FeedPoller
from feedgate.settings import Settings
from feedgate.slicers.ingest import FeedClock, Ingest
from feedgate.stream.frozen import FrozenWatch
from feedgate.stream.service import StreamService
from feedgate.stream.upstream import Upstream
from feedgate.webhooks import outbox
from feedgate.webhooks.sender import WebhookSender

log = logging.getLogger("feedgate")


@dataclass
class Dispatcher:
    """The one after-commit path for a change committed in this process, by domain.

    Decisions: a change that can alter a decision answered now is built into the state before the writer
    gets its answer (`DecisionState.settle`), so this process's next decision sees it while readers keep
    the previous state until the swap and never wait; other changes (a new audience or rule) are left to
    the watcher's thread, coalesced. The
    fleet's change is applied to the registry as a delta (the groups and slicers it touched), which wakes
    the engine for those groups and moves their channels' sources; the engine's own switches are applied
    already. The console's live stream re-renders.
    """

    decisions: DecisionState
    registry: Registry
    watcher: ConfigWatcher
    feed: ConsoleFeed

    def __call__(self, changes: Changes) -> None:
        if changes.decisions:
            self.decisions.invalidate()
            if not (changes.decisions_in_use and self.decisions.settle()):
                self.watcher.kick()
        if changes.fleet and changes.mirrored:
            self.registry.applied(changes.fleet_version)
        elif changes.fleet:
            if changes.everything:
                self.registry.reload()
            else:
                self.registry.apply(changes.groups, changes.slicers, changes.fleet_version)
        self.feed.notify()


@dataclass
class Runtime:
    settings: Settings
    db: Database
    keys: KeyCache
    signatures: SignatureCheck
    health: HealthTable
    registry: Registry
    engine: FailoverEngine | None
    ingest: Ingest
    decisions: DecisionState
    watcher: ConfigWatcher
    upstream: Upstream
    stream: StreamService
    frozen: FrozenWatch
    sender: WebhookSender | None
    rights: FeedPoller | None
    feed: ConsoleFeed
    dispatcher: Dispatcher
    console: ConsoleParts
    channel_sources: SourcesOf
    loop_lag: LoopLag
    stopping: bool = field(default=False, init=False)

    def quiesce(self) -> None:
        """The first step of a stop, taken when the signal arrives, before the listener closes: the engine
        judges nothing more (on PostgreSQL another instance takes over), and live streams end so they do not
        hold the shutdown. Heartbeats are still taken until the listener closes; a restart is no failover."""
        if self.stopping:
            return
        self.stopping = True
        log.info("stopping: the engine judges nothing more; requests in flight get %g s", self.settings.shutdown_s)
        if self.engine is not None:
            self.engine.halt()
        self.feed.close()

    def _chain_signals(self) -> None:
        """Run `quiesce` on SIGTERM and SIGINT, then the server's own handler (which closes the listener)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)

            def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                self.quiesce()
                if callable(previous):
                    previous(signum, frame)
                elif previous == signal.SIG_DFL:
                    raise KeyboardInterrupt

            signal.signal(sig, handler)

    async def start(self) -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.settings.threads
        self.loop_lag.start()
        self.registry.reload()  # the fleet, then the decisions (which read sources from it), before any request
        self.watcher.check(force=True)
        self.watcher.start()
        self.ingest.start()
        await self.upstream.start()
        self.frozen.start()
        if self.engine is not None:
            self.engine.start()
        if self.sender is not None:
            self.sender.start()
        if self.rights is not None:
            self.rights.start()
        self._chain_signals()
        log.info("feedgate %s on %s (engine %s)", __version__,
                 self.db.engine.url.render_as_string(hide_password=True), "on" if self.engine else "off")

    async def stop(self) -> None:
        self.quiesce()
        if self.sender is not None:
            self.sender.stop()
        if self.rights is not None:
            self.rights.stop()
        if self.engine is not None:
            self.engine.stop()
        await self.frozen.stop()
        await self.upstream.stop()
        self.ingest.stop()
        self.watcher.stop()
        await self.loop_lag.stop()
        self.decisions.close()
        self.db.dispose()

    @property
    def engine_role(self) -> str:
        """Whether this process runs the failover engine: off, leader or follower."""
        if self.engine is None:
            return "off"
        return "leader" if self.engine.leadership.is_leader else "follower"


def build_runtime(settings: Settings) -> Runtime:
    db = Database(settings.database_url, settings.threads)
    keys = KeyCache()
    signatures = SignatureCheck(db, keys, settings.timestamp_window_s, settings.auth_strict, settings.workers)
    signatures.token_max_ttl_s = settings.token_max_ttl_s
    registry, health = Registry(db), HealthTable()
    decisions = DecisionState(db, settings, registry)
    loop_lag, feed_clock = LoopLag(), FeedClock()
    engine = None
    if settings.engine_enabled:
        rule = SilenceRule(settings.disruption_fraction, settings.disruption_min_slicers)
        engine = FailoverEngine(db, registry, health, settings.engine_tick_ms, rule,
                                behind=lambda now: max(loop_lag.lag_ms(now), feed_clock.lag_ms(now)),
                                disruption_max_ms=int(settings.disruption_max_s * 1000))
    # Webhooks go out, rights feeds are checked, and playlists are watched for freezing, from the process that
    # leads the engine only.
    leads = (lambda: engine.leadership.is_leader) if engine is not None else (lambda: False)
    wake = engine.wake if engine is not None else lambda _group_id: None
    health.stalled_ms = lambda a, b: max(loop_lag.stalled_ms(a, b), feed_clock.stalls.within(a, b))
    ingest = Ingest(db, registry, health, settings.heartbeat_flush_ms, wake=wake, feed=feed_clock)
    ingest.loop_lag = loop_lag.lag_ms
    ingest.allow_private, ingest.max_sources = settings.allow_private_urls, settings.max_sources_per_user
    sender = WebhookSender(db, leads, settings.allow_private_urls) if engine is not None else None
    rights = FeedPoller(db, leads, settings.allow_private_urls, settings.scte224_max_bytes) \
        if engine is not None else None
    watcher = ConfigWatcher(db, settings.config_poll_ms)
    upstream = Upstream(allow_private=settings.allow_private_urls)
    stream = StreamService(decisions, upstream, settings, registry)
    feed = ConsoleFeed()
    dispatcher = Dispatcher(decisions, registry, watcher, feed)
    _wire(db, watcher, decisions, registry, engine, feed, dispatcher)
    frozen = FrozenWatch(registry, health, upstream, db, leads, wake)
    FLEET_METRICS.use(FleetMetrics(registry, health, leads, lambda: frozen.stale_s, settings.metrics_per_slicer))
    return Runtime(
        settings=settings, db=db, keys=keys, signatures=signatures, health=health, registry=registry, engine=engine,
        ingest=ingest, decisions=decisions, watcher=watcher, upstream=upstream, stream=stream,
        frozen=frozen, sender=sender, rights=rights, feed=feed,
        dispatcher=dispatcher,
        console=ConsoleParts(db, keys, settings, signatures, decisions, stream, feed, Brake(), registry, health,
                             frozen.frozen, Previews(upstream, settings.allow_private_urls), _held(engine)),
        channel_sources=group_sources, loop_lag=loop_lag)


def _held(engine: FailoverEngine | None) -> Callable[[], set[str]]:
    def held() -> set[str]:
        found = engine.disruption if engine is not None else None
        return set(found.held) if found is not None else set()
    return held


def _wire(db: Database, watcher: ConfigWatcher, decisions: DecisionState, registry: Registry,
          engine: FailoverEngine | None, feed: ConsoleFeed, dispatcher: Dispatcher) -> None:
    """Who hears what: domain events, commits, the watcher's versions, the registry's deltas, the engine."""
    db.on_event.append(outbox.on_events)  # webhook deliveries, written in the transaction of their events
    db.on_write.append(write_audit)  # who changed what, in the transaction of the change
    db.on_commit.append(dispatcher)
    watcher.on_fleet += [registry.catch_up, feed.notify]  # other processes' changes, by delta
    watcher.on_decisions += [decisions.on_version, feed.notify]
    registry.listeners += [decisions.on_fleet, feed.notify]  # a group's new source reaches its channels
    if engine is not None:
        engine.listeners.append(feed.notify)  # health changes that move no configuration
