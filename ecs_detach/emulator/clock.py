"""Clocks for the emulator: virtual time decides when a detach, attach, stop or start finishes."""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

# 2026-01-01T00:00:00Z: a fixed, readable start for manual clocks.
DEFAULT_START = 1_767_225_600.0


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> float`` (epoch seconds)."""

    def now(self) -> float: ...


class ManualClock:
    """Time moves only when told: ``advance(seconds)``. Tests use it; nothing ever sleeps on real time."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if not seconds >= 0:
            raise ValueError("a clock cannot go backwards: seconds must be >= 0")
        if seconds == float("inf"):
            raise ValueError("seconds must be a finite number")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r})"


class ScaledClock:
    """Virtual time that starts at the real time and runs ``scale`` times as fast.

    ``ScaledClock(60)``: a minute of virtual time per real second.
    """

    def __init__(self, scale: float = 1.0) -> None:
        if not scale > 0:
            raise ValueError("the time scale must be a positive number")
        self.scale = float(scale)
        self._start_wall = time.time()
        self._start_mono = time.monotonic()

    def now(self) -> float:
        return self._start_wall + (time.monotonic() - self._start_mono) * self.scale

    def __repr__(self) -> str:
        return f"ScaledClock(scale={self.scale!r})"


class SystemClock(ScaledClock):
    """Real time."""

    def __init__(self) -> None:
        super().__init__(1.0)


class ImmediateClock:
    """Real time, but every transition is due at once: it has finished by the next call."""

    immediate = True

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "ImmediateClock()"


def is_immediate(clock: Clock) -> bool:
    return bool(getattr(clock, "immediate", False))


def iso_time(epoch: float) -> str:
    """The API's time format: ``2026-01-01T00:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
