"""A lean heartbeat fleet for benchmarks: raw asyncio HTTP/1.1 keep-alive connections, pre-signed requests.

httpx costs more CPU per request than the server now spends on a heartbeat, and the load generator
shares the machine's two cores with the servers; this client keeps its own share small. Each slicer
beats every `interval_s` at its own phase; beats go round-robin over the given servers.
"""

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from feedgate.auth.signing import signed_params

RESIGN_S = 60.0  # a signature stays valid for the ±300 s window


@dataclass
class Slicer:
    slicer_id: str
    group_id: str
    phase: float
    alive: bool = True
    last_sent: float = 0.0  # wall time of the send of its last acknowledged beat
    longest_gap: float = 0.0  # the longest time between two acknowledged beats while alive (load generator lag)
    sent: int = 0
    errors: int = 0
    request: bytes = b""
    signed_at: float = 0.0


@dataclass
class BeatFleet:
    servers: list[str]
    user_id: str
    api_key: str
    interval_s: float = 1.0
    connections_per_server: int = 16
    slicers: dict[str, Slicer] = field(default_factory=dict)
    _stop: asyncio.Event | None = None

    def add(self, slicer_id: str, group_id: str) -> Slicer:
        slicer = Slicer(slicer_id, group_id, phase=random.random() * self.interval_s)
        self.slicers[slicer_id] = slicer
        return slicer

    def _request(self, slicer: Slicer, host: str) -> bytes:
        now = time.time()
        if not slicer.request or now - slicer.signed_at > RESIGN_S:
            body = json.dumps({"hostname": f"{slicer.slicer_id}.bench", "failover_group_id": slicer.group_id,
                               "signals": {"input_loss_ms": 0}}).encode()
            query = urlencode(signed_params(self.user_id, self.api_key))
            slicer.request = (f"PUT /api/v4/slicers/{slicer.slicer_id}/status?{query} HTTP/1.1\r\nHost: {host}\r\n"
                              f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
            slicer.signed_at = now
        return slicer.request

    async def _connection(self, url: str, queue: "asyncio.Queue[Slicer]") -> None:
        parts = urlsplit(url)
        host = parts.netloc
        reader = writer = None
        while True:
            slicer = await queue.get()
            for _attempt in range(2):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                    assert reader is not None
                    sent_at = time.time()
                    writer.write(self._request(slicer, host))
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head[9:12])
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    await reader.readexactly(length)
                    if status == 200:
                        slicer.sent += 1
                        if slicer.last_sent and slicer.alive:
                            slicer.longest_gap = max(slicer.longest_gap, sent_at - slicer.last_sent)
                        slicer.last_sent = max(slicer.last_sent, sent_at)
                    else:
                        slicer.errors += 1
                    break
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
            else:
                slicer.errors += 1

    async def run(self, duration_s: float) -> None:
        self._stop = asyncio.Event()
        queues: list[asyncio.Queue[Slicer]] = [asyncio.Queue() for _ in self.servers]
        workers = [asyncio.create_task(self._connection(url, queues[i]))
                   for i, url in enumerate(self.servers) for _ in range(self.connections_per_server)]
        started = time.monotonic()
        turn = 0
        order = sorted(self.slicers.values(), key=lambda s: s.phase)
        cycle = 0
        while time.monotonic() - started < duration_s and not self._stop.is_set():
            cycle_start = started + cycle * self.interval_s
            for slicer in order:
                delay = cycle_start + slicer.phase - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if slicer.alive:
                    queues[turn % len(queues)].put_nowait(slicer)
                    turn += 1
            cycle += 1
        for worker in workers:
            worker.cancel()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
