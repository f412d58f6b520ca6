"""Checking rights feeds: from the engine leader only, on its own thread and event loop, never in the way of
failover or the API.

A pass claims the feeds that are due (`feeds.claim`) and checks each one with a conditional GET
(If-None-Match, If-Modified-Since) under the outbound policy (`kit/outbound.py`): the address guard on
every hop, a total deadline, a size cap, and per-user slots, so one tenant's slow or huge feed delays
nobody else's. A changed document is imported as if it had been posted (`feeds.settle`).
"""

import asyncio
import logging
import threading
from collections.abc import Callable

from feedgate import __version__
from feedgate.kit.db import Database
from feedgate.kit.outbound import Outbound
from feedgate.scte224.feeds import Answer, Due, claim, settle

log = logging.getLogger("feedgate.scte224")
DEADLINE_S = 30.0
PER_TENANT = 2
POLL_S = 1.0
BATCH = 20
HOLD_MS = int(DEADLINE_S * 1000) + 120_000  # a claimed check not settled by then (a crash) is tried again


class FeedPoller:
    def __init__(self, db: Database, is_leader: Callable[[], bool], allow_private: bool, max_bytes: int) -> None:
        self.db, self.is_leader = db, is_leader
        self.allow_private, self.max_bytes = allow_private, max_bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="scte224-feeds", daemon=True)
        self._in_flight: set[str] = set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=DEADLINE_S + 2)

    async def _run(self) -> None:
        headers = {"User-Agent": f"feedgate/{__version__} (scte224 feeds)"}
        client = Outbound(DEADLINE_S, self.max_bytes, PER_TENANT, self.allow_private, headers)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not self._stop.is_set():
                try:
                    if self.is_leader():
                        for due in await asyncio.to_thread(claim, self.db, BATCH, HOLD_MS):
                            if due.id in self._in_flight:
                                continue
                            self._in_flight.add(due.id)
                            task = asyncio.create_task(self._check(client, due))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                except Exception as exc:  # the database is away: try again at the next pass
                    log.warning("feed pass failed (%s)", exc.__class__.__name__)
                await asyncio.sleep(POLL_S)
            if tasks:
                await asyncio.wait(tasks, timeout=DEADLINE_S)
        finally:
            await client.aclose()

    async def _check(self, client: Outbound, due: Due) -> None:
        try:
            outcome = await client.request(due.owner, "GET", due.url, headers=due.conditional())
            answer = Answer(outcome.status, outcome.body, outcome.error, outcome.headers)
            state = await asyncio.to_thread(settle, self.db, due, answer)
            log.info("feed %s checked: %s", due.id, state)
        except Exception as exc:  # recording failed (the database is away): the claim retries after its hold
            log.warning("feed %s check not recorded (%s)", due.id, exc.__class__.__name__)
        finally:
            self._in_flight.discard(due.id)
