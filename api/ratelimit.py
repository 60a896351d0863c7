"""Per-key rate limits: a token bucket per key, in this process.

Each key's bucket holds up to ``rate_per_minute`` tokens and refills at ``rate_per_minute / 60`` tokens a
second; a request takes one token or is refused (429). The state lives in the API process only: with
several worker processes each enforces the limit on its own share (a shared store would be needed for a
global limit).
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Token buckets by key name."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name → (tokens, last refill time)
        self._lock = threading.Lock()

    def allow(self, name: str, rate_per_minute: int) -> bool:
        """Take one token from ``name``'s bucket; False when it is empty."""
        capacity = float(max(rate_per_minute, 1))
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(name, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * capacity / 60.0)
            allowed = tokens >= 1.0
            self._buckets[name] = (tokens - 1.0 if allowed else tokens, now)
        return allowed
