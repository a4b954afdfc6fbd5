"""What the app is given to work with: a client, an identity, a clock, optionally the emulator and a
journal.

The app never builds these itself (``tui.app.main`` or a test does), so tests inject the in-process emulator
with a manual clock and the app runs exactly as it does for an operator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .formatting import mask_key
from .widgets.identity import Identity


@dataclass
class Services:
    client: Any
    """An ``ecs_detach.client.EcsClient`` (sync; the app calls it from thread workers)."""
    profile: str = "default"
    demo: bool = False
    protected: bool = False
    clock: Callable[[], float] = time.time
    """Seconds; the emulator's virtual clock in demo and tests, so elapsed and ETA follow simulated time."""
    emulator: Any = None
    facts: Any = None
    """What the preconditions know about the platform (an ``ecs_detach.workflow.FactsSource``: the session's
    ``facts_source``); None: the rules the API hides are "unknown, the API decides"."""
    time_scale: float = 1.0
    """How much faster than real time ``clock`` runs (the demo's scaled clock); waits sleep accordingly."""
    sleep: Callable[[float], object] | None = None
    """How a job waits between polls; None: real time, divided by ``time_scale``. Tests pass the emulator's
    ``advance`` (time moves only when a job waits) or a gate they control."""
    journal: Any = None
    """An ``ecs_detach.journal.Journal`` (or None: nothing is recorded, and undo is unavailable)."""
    arm_name: str = ""
    """Typed to arm writes on a protected session: the profile name (the region for env credentials)."""
    profiles: tuple[str, ...] = ()
    reopen: Callable[[str], Services] | None = None
    """Open a session for another profile (the profile switcher); None when switching is not possible."""
    error_log: Path | None = None
    """Where the details (traceback) of an unexpected error are written; None: nowhere."""
    extra: dict[str, Any] = field(default_factory=dict)

    def identity(self, *, read_only: bool) -> Identity:
        client = self.client
        credentials = getattr(client, "credentials", None)
        masked = getattr(credentials, "masked_key_id", None)
        key = str(getattr(credentials, "access_key_id", "") or "")
        endpoint = str(getattr(client, "endpoint", "") or "")
        if self.demo and self.emulator is not None:  # a demo on a served emulator shows its URL
            endpoint = "in-process emulator"
        return Identity(
            profile=self.profile,
            access_key=str(masked) if masked else mask_key(key),
            region=str(getattr(client, "region_id", "") or "?"),
            endpoint=endpoint or "default endpoint",
            demo=self.demo,
            read_only=read_only,
            protected=self.protected,
        )

    def with_client(self, client: Any) -> Services:
        return replace(self, client=client)
