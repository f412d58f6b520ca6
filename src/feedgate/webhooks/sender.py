"""Delivering the outbox: at least once, from the engine leader only, never in the way of failover.

A pass claims due deliveries and, in the same transaction, moves their next attempt past the send's
timeout (so a restart in the middle re-sends at most once, later: receivers de-duplicate on the
delivery ID). Sends run concurrently on their own event loop under the outbound policy
(`kit/outbound.py`): a total deadline of 5 s, the answer read up to 64 KiB and discarded, at most
PER_TENANT sends at a time for one user and PER_WEBHOOK for one receiver, any failure recorded on the
delivery. A slow, huge or broken receiver delays nobody else, and neither the engine nor the API wait
for any of it. Any 2xx is delivered; anything else is tried again after 1 s, 2 s,
4 s … (capped at an hour, with jitter) until 24 h have passed, then marked failed.
"""

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from feedgate import __version__
from feedgate.auth.signing import webhook_signature
from feedgate.kit.backoff import backoff_s
from feedgate.kit.db import Database
from feedgate.kit.metrics import WEBHOOK_BACKLOG, WEBHOOK_DELIVERIES
from feedgate.kit.outbound import Outbound
from feedgate.kit.time import now_ms
from feedgate.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger("feedgate.webhooks")
TIMEOUT_S = 5.0
PER_WEBHOOK = 4
PER_TENANT = 16
ANSWER_BYTES = 64 * 1024
BATCH = 100
GIVE_UP_MS = 24 * 3600 * 1000
POLL_S = 0.2
KEEP_MS = 7 * 24 * 3600 * 1000  # delivered and failed deliveries are listed for a week, then removed
PRUNE_EVERY_S = 600
COUNT_EVERY_S = 5  # the backlog gauge: one count query this often


def backoff_ms(attempts: int, rng: random.Random) -> int:
    """After the n-th failed attempt: 2^(n-1) s, at most an hour, ±20 % so receivers are not stampeded."""
    return int(backoff_s(attempts, 1.0, 3600.0, (0.8, 1.2), rng) * 1000)


@dataclass(frozen=True)
class Claimed:
    id: str
    webhook_id: str
    owner: str
    event: str
    url: str
    secret: str
    body: bytes


class WebhookSender:
    def __init__(self, db: Database, is_leader: Callable[[], bool], allow_private: bool = False) -> None:
        self.db = db
        self.is_leader = is_leader
        self.allow_private = allow_private
        self.rng = random.Random()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="webhooks", daemon=True)
        self._in_flight: set[str] = set()
        self._limits: dict[str, asyncio.Semaphore] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_S + 2)

    async def _run(self) -> None:
        headers = {"User-Agent": f"feedgate/{__version__} (webhooks)", "Content-Type": "application/json"}
        client = Outbound(TIMEOUT_S, ANSWER_BYTES, PER_TENANT, self.allow_private, headers, keep_body=False)
        try:
            tasks: set[asyncio.Task[None]] = set()
            next_prune = next_count = 0.0
            while not self._stop.is_set():
                try:
                    if self.is_leader() and time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + PRUNE_EVERY_S
                        await asyncio.to_thread(self.prune)
                    if self.is_leader() and time.monotonic() >= next_count:
                        next_count = time.monotonic() + COUNT_EVERY_S
                        WEBHOOK_BACKLOG.set(await asyncio.to_thread(self.backlog))
                    if self.is_leader():
                        for claimed in await asyncio.to_thread(self._claim):
                            task = asyncio.create_task(self._send(client, claimed))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                except Exception as exc:  # the database is away: try again at the next pass
                    log.warning("webhook pass failed (%s)", exc.__class__.__name__)
                await asyncio.sleep(POLL_S)
            if tasks:
                await asyncio.wait(tasks, timeout=TIMEOUT_S)
        finally:
            await client.aclose()

    def prune(self, now: int | None = None) -> int:
        """Forget finished deliveries older than a week (the table would otherwise grow for ever)."""
        cutoff = (now_ms() if now is None else now) - KEEP_MS
        with self.db.sessions() as session, session.begin():
            result = session.execute(delete(WebhookDelivery).where(
                WebhookDelivery.state.in_(("delivered", "failed")), WebhookDelivery.created_ms < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def backlog(self) -> int:
        """Deliveries not delivered yet and not given up: what the backlog alert watches."""
        with self.db.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(WebhookDelivery)
                                    .where(WebhookDelivery.state == "pending")).scalar() or 0)

    def _claim(self) -> list[Claimed]:
        now = now_ms()
        with self.db.reading() as conn:  # the usual answer, "nothing due", without taking the writer lock
            due = conn.execute(select(WebhookDelivery.id).where(
                WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_ms <= now).limit(1)).first()
        if due is None:
            return []
        with self.db.sessions() as session, session.begin():
            stmt = (select(WebhookDelivery, Webhook.url, Webhook.secret, Webhook.owner)
                    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                    .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_ms <= now)
                    .order_by(WebhookDelivery.next_attempt_ms).limit(BATCH))
            if self.db.is_postgres:
                stmt = stmt.with_for_update(of=WebhookDelivery, skip_locked=True)
            claimed = []
            for delivery, url, secret, owner in session.execute(stmt):
                if delivery.id in self._in_flight:
                    continue
                delivery.attempts += 1
                # Marked before it is sent: a crash mid-send retries once, after the timeout.
                delivery.next_attempt_ms = now + int(TIMEOUT_S * 1000) + backoff_ms(delivery.attempts, self.rng)
                claimed.append(Claimed(delivery.id, delivery.webhook_id, owner, delivery.event, url, secret,
                                       delivery.body.encode()))
                self._in_flight.add(delivery.id)
        return claimed

    async def _send(self, client: Outbound, claimed: Claimed) -> None:
        limit = self._limits.setdefault(claimed.webhook_id, asyncio.Semaphore(PER_WEBHOOK))
        status: int | None = None
        error = ""
        try:
            async with limit:
                headers = {"Feedgate-Signature": webhook_signature(claimed.secret, claimed.body, int(time.time())),
                           "Feedgate-Delivery": claimed.id, "Feedgate-Event": claimed.event}
                outcome = await client.request(claimed.owner, "POST", claimed.url, claimed.body, headers)
                status, error = outcome.status, outcome.error
            await asyncio.to_thread(self._record, claimed, status, error)
        except Exception as exc:  # recording failed (the database is away): the claim retries after its timeout
            log.warning("webhook delivery %s not recorded (%s)", claimed.id, exc.__class__.__name__)
        finally:
            self._in_flight.discard(claimed.id)

    def _record(self, claimed: Claimed, status: int | None, error: str) -> None:
        now = now_ms()
        with self.db.sessions() as session, session.begin():
            delivery = session.get(WebhookDelivery, claimed.id)
            if delivery is None:  # its webhook was deleted meanwhile
                return
            delivery.last_status, delivery.last_error = status, error
            if status is not None and 200 <= status < 300:
                delivery.state, delivery.delivered_ms = "delivered", now
            elif now - delivery.created_ms >= GIVE_UP_MS:
                delivery.state = "failed"
                log.warning("webhook delivery %s failed for 24 h; giving up", claimed.id)
            else:
                delivery.next_attempt_ms = now + backoff_ms(delivery.attempts, self.rng)
            outcome = "retrying" if delivery.state == "pending" else delivery.state
        WEBHOOK_DELIVERIES.labels(outcome).inc()
