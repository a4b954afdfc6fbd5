"""The platform facts a run checks against: given, called for, or read from an emulator (in-process, or
served elsewhere: its control API)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ecs_detach.preconditions import PlatformFacts, facts_from_fleet

FactsSource = PlatformFacts | Callable[[], PlatformFacts] | None


class _EmulatorFacts:
    """PlatformFacts read from an in-process emulator's state each time they are called for, plus the knob
    the API hides that a bulk run paces by (`rate_limit`)."""

    def __init__(self, emulator: Any) -> None:
        self._emulator = emulator

    def __call__(self) -> PlatformFacts:
        return facts_from_fleet(self._emulator.state())

    def rate_limit(self, action: str) -> float | None:
        """Calls per second the emulator allows for `action` (None: no limit set)."""
        section = self._emulator.state().get("Emulator") or {}
        return rate_from_section(section, action)


def rate_from_section(section: Mapping[str, Any], action: str) -> float | None:
    """Calls per second for `action` from a fleet's `Emulator` section (its `RateLimits`), else None."""
    limits = section.get("RateLimits") if isinstance(section, Mapping) else None
    limit = limits.get(action) if isinstance(limits, Mapping) else None
    if not isinstance(limit, Mapping):
        return None
    count, per = limit.get("Count"), limit.get("PerSeconds")
    if not isinstance(count, int | float) or not isinstance(per, int | float) or count <= 0 or per <= 0:
        return None
    return float(count) / float(per)


def emulator_facts(emulator: Any) -> Callable[[], PlatformFacts]:
    """Demo mode: PlatformFacts read from the emulator's state each time they are needed (the callable also
    answers `rate_limit(action)`, which `run_bulk` paces DetachDisk by)."""
    return _EmulatorFacts(emulator)


def facts_now(source: FactsSource) -> PlatformFacts | None:
    if source is None or isinstance(source, PlatformFacts):
        return source
    return source()


class _ServedFacts:
    """PlatformFacts read from a served emulator's control API (``GET /_emulator/state``) each time they are
    called for (every hidden rule "unknown, the API decides" when it does not answer), plus `rate_limit`."""

    def __init__(self, endpoint: str) -> None:
        self._url = f"{endpoint.rstrip('/')}/_emulator/state"

    def _state(self) -> Any:
        import httpx

        try:
            response = httpx.get(self._url, timeout=5.0)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError):
            return None

    def __call__(self) -> PlatformFacts:
        try:
            return facts_from_fleet(self._state())
        except (ValueError, AttributeError, TypeError):
            return PlatformFacts()

    def rate_limit(self, action: str) -> float | None:
        state = self._state()
        section = state.get("Emulator") if isinstance(state, dict) else None
        return rate_from_section(section, action) if isinstance(section, dict) else None


def served_emulator_facts(endpoint: str) -> Callable[[], PlatformFacts]:
    """``--demo --endpoint``: the knobs the API hides, from the served emulator's control API (the callable
    also answers `rate_limit(action)`, which a bulk run paces DetachDisk by)."""
    return _ServedFacts(endpoint)
