"""Retry delays: what each retrier promises (docs and docstrings), for any failure count."""

import random

from hypothesis import given
from hypothesis import strategies as st

from feedgate.cli.agent import Backoff
from feedgate.webhooks.sender import backoff_ms


@given(st.integers(1, 10_000), st.integers(50, 60_000), st.randoms(use_true_random=False))
def test_the_agent_never_waits_longer_than_its_heartbeat_interval(failures: int, interval_ms: int,
                                                                  rng: random.Random) -> None:
    retry = Backoff(failures=failures - 1, rng=rng)
    delay = retry.next(interval_ms)
    assert 0 < delay <= interval_ms / 1000
    assert delay >= min(0.1, interval_ms / 2000)  # at least half of its step: a fleet spreads, never hammers


def test_the_agent_starts_fast_and_resets() -> None:
    retry = Backoff(rng=random.Random(1))
    first = [retry.next(60_000) for _ in range(3)]
    assert first[0] <= 0.2 and first[2] > first[0]  # 100-200 ms, then growing
    retry.reset()
    assert retry.next(60_000) <= 0.2


@given(st.integers(1, 10_000), st.randoms(use_true_random=False))
def test_webhook_retries_double_from_a_second_up_to_an_hour(attempts: int, rng: random.Random) -> None:
    delay = backoff_ms(attempts, rng)
    step = min(3600.0, 2.0 ** (attempts - 1)) if attempts < 64 else 3600.0
    assert 0.8 * step * 1000 - 1 <= delay <= 1.2 * step * 1000
