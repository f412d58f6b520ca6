"""Heartbeating slicers: one agent for a real Live Slicer, or a fleet of simulated ones in one process.

The fleet is asyncio + httpx, so one process can drive a thousand slicers; `feedgate simulate`,
`feedgate demo` and benchmarks/failover_latency.py all use it.
"""

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from feedgate.auth.signing import bound_params
from feedgate.failover.policy import SIGNALS


@dataclass
class SimulatedSlicer:
    slicer_id: str
    group_id: str | None
    alive: bool = True
    signals: dict[str, float] = field(default_factory=dict)
    hls_url: str | None = None
    last_sent_ms: int = 0
    last_ack_ms: int = 0  # the send time of its last acknowledged heartbeat
    role: str = "?"
    sent: int = 0
    acknowledged: int = 0
    errors: int = 0


class Fleet:
    """Sends a heartbeat for every live slicer each `interval_ms`, spread over the interval."""

    def __init__(self, base_url: str, user_id: str, api_key: str, interval_ms: int = 1000,
                 on_answer: Callable[[SimulatedSlicer, dict[str, Any]], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.api_key = api_key
        self.interval_s = interval_ms / 1000
        self.slicers: dict[str, SimulatedSlicer] = {}
        self.on_answer = on_answer
        self._stop = asyncio.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, slicer_id: str, group_id: str | None, hls_url: str | None = None) -> SimulatedSlicer:
        slicer = SimulatedSlicer(slicer_id, group_id, hls_url=hls_url)
        self.slicers[slicer_id] = slicer
        return slicer

    async def _beat(self, client: httpx.AsyncClient, slicer: SimulatedSlicer) -> None:
        if not slicer.alive:  # killed after this round was planned
            return
        body: dict[str, Any] = {"hostname": f"{slicer.slicer_id}.sim", "signals": slicer.signals}
        if slicer.group_id:
            body["failover_group_id"] = slicer.group_id
        if slicer.hls_url:
            body["hls_url"] = slicer.hls_url
        sent_ms = slicer.last_sent_ms = int(time.time() * 1000)
        path = f"/api/v4/slicers/{slicer.slicer_id}/status"
        content = json.dumps(body).encode()
        slicer.sent += 1
        try:
            r = await client.put(path, content=content, headers={"Content-Type": "application/json"},
                                 params=bound_params(self.user_id, self.api_key, "PUT", path, content))
        except httpx.HTTPError:
            slicer.errors += 1
            return
        if r.status_code == 200:
            slicer.acknowledged += 1
            slicer.last_ack_ms = max(slicer.last_ack_ms, sent_ms)
            answer = r.json()
            slicer.role = answer["role"]
            if self.on_answer:
                self.on_answer(slicer, answer)
        else:
            slicer.errors += 1

    async def run(self, duration_s: float | None = None) -> None:
        self._stop = asyncio.Event()
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10, limits=limits) as client:
            started = time.monotonic()
            while not self._stop.is_set() and (duration_s is None or time.monotonic() - started < duration_s):
                tick = time.monotonic()
                live = [s for s in self.slicers.values() if s.alive]
                gap = self.interval_s / max(1, len(live))
                tasks = []
                for i, slicer in enumerate(live):
                    delay = tick + i * gap - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(self._beat(client, slicer)))
                await asyncio.gather(*tasks)
                rest = self.interval_s - (time.monotonic() - tick)
                if rest > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), rest)

    def start_background(self) -> None:
        def target() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.run())

        self._thread = threading.Thread(target=target, name="slicer-fleet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)


def probe_signals(url: str, last_ok_ms: int) -> tuple[dict[str, float], bool]:
    """Signals from a Live Slicer's local status API: our five names at the top level or under "signals".

    An unreachable probe is reported as input loss since the last good answer, so failover still happens.
    """
    try:
        data = httpx.get(url, timeout=1).json()
    except (httpx.HTTPError, ValueError):
        return {"input_loss_ms": float(int(time.time() * 1000) - last_ok_ms)}, False
    source = data.get("signals", data) if isinstance(data, dict) else {}
    return {k: float(v) for k, v in source.items() if k in SIGNALS and isinstance(v, int | float)}, True
