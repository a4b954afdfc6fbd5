"""Pure decisions the UI takes from state: how often to refresh, which keys are inert and why."""

from __future__ import annotations

FAST_REFRESH_SECONDS = 2.0
"""While anything is moving (a disk Detaching, an instance Stopping, a job in flight)."""
SLOW_REFRESH_SECONDS = 30.0
"""When everything is settled."""


def refresh_interval(*, transitional: bool, active_jobs: int) -> float:
    """Adaptive auto-refresh: fast while anything moves or a job is being followed, slow otherwise."""
    return FAST_REFRESH_SECONDS if transitional or active_jobs > 0 else SLOW_REFRESH_SECONDS


READ_ONLY_REASON = "Read-only: writes are off. Press ctrl+w to arm writes (or start without --read-only)."


def write_refusal(*, read_only: bool, protected: bool) -> str | None:
    """Why a mutating key does nothing right now, or None when writes are armed."""
    if not read_only:
        return None
    if protected:
        return "Read-only (protected profile): press ctrl+w and type the profile name to arm writes."
    return READ_ONLY_REASON
