"""Wall-clock helpers. Stored instants are UTC; the API shows ISO 8601 with milliseconds or Unix ms."""

import time
from datetime import UTC, datetime, timedelta


def now_ms() -> int:
    return int(time.time() * 1000)


# The engine's clock: monotonic (a wall-clock jump moves neither heartbeat ages nor deadlines), anchored
# to the wall clock once at start so the instants it records (failover_time, blacklist_until) read as
# Unix milliseconds.
_ANCHOR_MS = time.time_ns() // 1_000_000 - time.monotonic_ns() // 1_000_000


def clock_ms() -> int:
    return _ANCHOR_MS + time.monotonic_ns() // 1_000_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_ms(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{as_utc(value).microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 instant; a value without zone is taken as UTC. Raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(text))


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def datetime_to_ms(value: datetime) -> int:
    return int(as_utc(value).timestamp() * 1000)


RECENT_WINDOW = timedelta(minutes=10)
