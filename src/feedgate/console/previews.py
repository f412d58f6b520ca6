"""A standby's picture when its slicer announces no `thumb_url`: one frame of its newest segment.

The playlist comes through the viewers' upstream cache and the segment through the outbound policy (the
address guard on every hop, a total deadline, a size cap), so ffmpeg never opens a URL itself: it reads
the bytes on stdin. One frame per slicer at most every 10 s (cached), two ffmpeg at a time.
"""

import asyncio
import time
from dataclasses import dataclass, field

from feedgate.kit.outbound import Outbound
from feedgate.stream.upstream import Upstream, origin

FRESH_S = 10.0
SEGMENT_BYTES = 16 * 1024 * 1024
FFMPEG_S = 10.0


@dataclass
class Previews:
    upstream: Upstream
    allow_private: bool
    ffmpeg: str = "ffmpeg"
    _cache: dict[str, tuple[float, bytes | None]] = field(default_factory=dict)
    _slots: asyncio.Semaphore | None = None
    _client: Outbound | None = None

    async def frame(self, key: str, hls_url: str) -> bytes | None:
        """A JPEG of the slicer's newest segment (320 px wide), or None when there is none to take."""
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < FRESH_S:
            return cached[1]
        if self._slots is None:
            self._slots = asyncio.Semaphore(2)
            self._client = Outbound(FFMPEG_S, SEGMENT_BYTES, 2, self.allow_private)
        async with self._slots:
            image = await self._take(hls_url)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic(), image)
        return image

    async def _take(self, hls_url: str) -> bytes | None:
        media = await self.upstream.media(hls_url, 0)
        if media is None or not media.segments or media.segments[-1].map or media.segments[-1].key:
            return None  # nothing yet, or fMP4 / encrypted segments: no frame from the bytes alone
        assert self._client is not None
        url = media.segments[-1].uri
        outcome = await self._client.request(origin(url), "GET", url)
        if outcome.status != 200 or not outcome.body:
            return None
        try:
            proc = await asyncio.create_subprocess_exec(
                self.ffmpeg, "-loglevel", "error", "-i", "pipe:0", "-frames:v", "1", "-vf", "scale=320:-2",
                "-f", "image2", "-c:v", "mjpeg", "pipe:1",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        except OSError:  # no ffmpeg on this machine: no previews, nothing else lost
            return None
        try:
            out, _ = await asyncio.wait_for(proc.communicate(outcome.body), FFMPEG_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return None
        return out if proc.returncode == 0 and out.startswith(b"\xff\xd8") else None
