"""The heartbeat's own parsing and rendering, in process: pydantic vs msgspec, stdlib json vs orjson.

Decides what the hot route uses. The body is a typical heartbeat; the answer a typical reply.

Usage: python benchmarks/codecs.py
"""

import json
import platform
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
import orjson

from feedgate.slicers.schemas import Heartbeat

BODY = json.dumps({"hostname": "news01.example", "failover_group_id": "3f2a" * 8,
                   "thumb_url": "https://example.com/t.jpg",
                   "signals": {"input_loss_ms": 0, "video_black_ms": 0, "upload_queue_s": 1.5}}).encode()
ANSWER = {"role": "active", "active": True, "failover_group_id": "3f2a" * 8, "heartbeat_interval_ms": 1000}


class Signals(msgspec.Struct, forbid_unknown_fields=False):
    input_loss_ms: float | None = None
    video_black_ms: float | None = None
    audio_silence_ms: float | None = None
    dropped_frames_pct: float | None = None
    upload_queue_s: float | None = None


class Beat(msgspec.Struct, forbid_unknown_fields=False):
    hostname: str
    failover_group_id: str | None = None
    thumb_url: str = ""
    signals: Signals = msgspec.field(default_factory=Signals)


def per_call_us(fn, number: int = 100_000) -> float:  # type: ignore[no-untyped-def]
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    decoder = msgspec.json.Decoder(Beat)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    rows = [
        ("validate body: pydantic model_validate_json", per_call_us(lambda: Heartbeat.model_validate_json(BODY))),
        ("validate body: msgspec Struct decode", per_call_us(lambda: decoder.decode(BODY))),
        ("render answer: json.dumps", per_call_us(lambda: json.dumps(ANSWER).encode())),
        ("render answer: orjson.dumps", per_call_us(lambda: orjson.dumps(ANSWER))),
    ]
    for name, us in rows:
        print(f"  {name:<46} {us:6.2f} µs")


if __name__ == "__main__":
    main()
