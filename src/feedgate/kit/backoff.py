"""Retry delays, one rule for every retrier (the slicer agent, webhook deliveries): exponential, capped,
jittered, so that many retriers failing together do not come back in lockstep."""

import random


def backoff_s(failures: int, first_s: float, cap_s: float, spread: tuple[float, float], rng: random.Random) -> float:
    """The wait after the n-th failure in a row: `first_s` * 2^(n-1), at most `cap_s`, times a random factor
    within `spread`."""
    base = min(cap_s, first_s * 2.0 ** min(max(0, failures - 1), 62))
    return base * rng.uniform(*spread)
