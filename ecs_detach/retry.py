"""Retry decisions, as pure functions: which failures are retried, and after how long.

* Throttling (any method) and 5xx replies to reads: retried with exponential backoff and full jitter,
  honouring the server's ``x-acs-retry-after`` (milliseconds, as the official SDK reads it) or ``Retry-After``
  (seconds).
* A mutation is retried only when the service certainly did not act on it: a throttling reply, or a
  connection that never sent the request. Anything else (a timeout after sending, a reset, any 5xx: a 503 or
  a gateway's HTML page may come after the service applied the call) raises at once, saying the outcome is
  unknown, so the workflow reconciles by reading the resource before anything is sent again.
* Transport errors are retried for reads only. Everything is bounded (``max_attempts``, ``max_delay``).

The drivers (``EcsClient`` / ``AsyncEcsClient``) only send, call :func:`decide`, and sleep for the delay.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ecs_detach.errors import EcsError, ServerError, ThrottledError, TransportError

__all__ = ["NO_RETRY", "RetryDecision", "RetryPolicy", "backoff_delay", "decide", "parse_retry_after"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first attempt; delays are seconds."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    retry_transport_errors: bool = True
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 20:
            raise ValueError("max_attempts must be between 1 and 20")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("retry delays cannot be negative")

    def new_rng(self) -> random.Random:
        """A random source for the jitter; seeded, it makes every delay reproducible."""
        return random.Random(self.seed)


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True, slots=True)
class RetryDecision:
    retry: bool
    delay: float = 0.0
    reason: str = ""


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Full jitter: uniform in ``[0, min(max_delay, base_delay * 2 ** (attempt - 1))]``."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** max(0, attempt - 1)))
    return rng.uniform(0.0, ceiling)


def parse_retry_after(headers: dict[str, str]) -> float | None:
    """Seconds to wait, from ``x-acs-retry-after`` (ms) or ``Retry-After`` (s); None if absent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw = lowered.get("x-acs-retry-after")
    scale = 1000.0
    if raw is None:
        raw, scale = lowered.get("retry-after"), 1.0
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value / scale if value > 0 else None


def decide(
    policy: RetryPolicy, *, attempt: int, mutating: bool, error: EcsError, rng: random.Random
) -> RetryDecision:
    """Whether to try again after ``attempt`` (1-based) failed with ``error``, and how long to wait first."""
    if attempt >= policy.max_attempts:
        return RetryDecision(False, reason=f"gave up after {attempt} attempt(s)")
    if isinstance(error, ThrottledError):
        if error.retry_after is not None:
            return RetryDecision(
                True, min(error.retry_after, policy.max_retry_after), "throttled (server hint)"
            )
        return RetryDecision(True, backoff_delay(policy, attempt, rng), "throttled")
    if isinstance(error, ServerError):
        if mutating:  # a 5xx may come after the service applied the call (a gateway, a replay)
            return RetryDecision(False, reason="the outcome of a mutation is unknown: never re-sent blindly")
        delay = backoff_delay(policy, attempt, rng)
        if error.retry_after is not None:
            delay = min(error.retry_after, policy.max_retry_after)
        return RetryDecision(True, delay, "server error")
    if isinstance(error, TransportError):
        if not policy.retry_transport_errors:
            return RetryDecision(False, reason="transport retries are off")
        if error.outcome_unknown:
            return RetryDecision(False, reason="the outcome of a mutation is unknown: never re-sent blindly")
        return RetryDecision(True, backoff_delay(policy, attempt, rng), "transport error")
    return RetryDecision(False, reason="not retryable")
