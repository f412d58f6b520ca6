"""Wall-clock helpers. Stored instants are UTC; the API shows ISO 8601 with milliseconds or Unix ms."""

import time
from datetime import UTC, datetime, timedelta

from feedgate.kit.errors import bad_request


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


# Instants a client may send: 1970-01-01 to 9999-12-31 (both databases store them as 64-bit integers).
MAX_INSTANT_MS = 253_402_300_799_999


def instant_ms(value: str | None, field: str) -> int:
    """Unix ms from an ISO 8601 instant or ASCII-digit Unix milliseconds; now when absent; 400 naming `field`."""
    if value is None:
        return now_ms()
    if value.isascii() and value.isdigit():
        ms = int(value) if len(value) <= 16 else MAX_INSTANT_MS + 1
    else:
        try:
            ms = datetime_to_ms(parse_iso(value))
        except (ValueError, OverflowError):
            raise bad_request(f"Field '{field}' is invalid: '{value[:64]}' is not an ISO 8601 instant "
                              "(2024-01-08T20:31:11.510Z) or Unix milliseconds.") from None
    if not 0 <= ms <= MAX_INSTANT_MS:
        raise bad_request(f"Field '{field}' is out of range: an instant must be between 1970-01-01 and "
                          "9999-12-31 (Unix milliseconds 0 to 253402300799999).")
    return ms
