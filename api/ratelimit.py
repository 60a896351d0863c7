"""Rate limits: a token bucket per API key (writes) and per client IP (anonymous reads), in this process.

Each key's bucket holds up to ``rate_per_minute`` tokens and refills at ``rate_per_minute / 60`` tokens a
second; a request takes one token or is refused (429). The state lives in the API process only: with
several worker processes each enforces the limit on its own share (a shared store would be needed for a
global limit). Anonymous GETs share one bucket per client address (``anonymous:<ip>``), of
:data:`ANONYMOUS_PER_MINUTE` unless the application is given another rate.
"""

from __future__ import annotations

import threading
import time

#: Anonymous GET requests a client IP may make a minute (bursts up to this many).
ANONYMOUS_PER_MINUTE = 600


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

    def allow_anonymous(self, client_ip: str, rate_per_minute: int = ANONYMOUS_PER_MINUTE) -> bool:
        """Take one token from the bucket of an anonymous client address; False when it is empty."""
        return self.allow(f"anonymous:{client_ip}", rate_per_minute)
