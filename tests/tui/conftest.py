"""Fixtures for the TUI tests: the real app on the in-process emulator, with a manual clock.

Time moves only when a job waits (the workflow's ``sleep`` is the emulator's ``advance``), or when a test
moves it; nothing sleeps on real time, and nothing on screen depends on the wall clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.journal import Journal
from tui.app import EcsDetachApp
from tui.services import Services


def build_app(
    emulator: Emulator,
    journal_path: Path,
    *,
    read_only: bool = False,
    protected: bool = False,
    sleep: Callable[[float], object] | None = None,
    profile: str = "demo",
) -> EcsDetachApp:
    """The app as ``ecs-detach --demo`` builds it, with a manual clock and a journal in ``journal_path``."""
    counter = itertools.count(1)
    journal = Journal(journal_path, clock=emulator.now, new_id=lambda: f"op-{next(counter):04d}")
    services = Services(
        client=EcsClient.for_emulator(emulator),
        profile=profile,
        demo=True,
        protected=protected,
        clock=emulator.now,
        emulator=emulator,
        journal=journal,
        sleep=sleep if sleep is not None else emulator.advance,
    )
    return EcsDetachApp(services, read_only=read_only, auto_refresh=False)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(fleet="demo", clock=ManualClock())


@pytest.fixture
def make_app(emulator: Emulator, tmp_path: Path) -> Callable[..., EcsDetachApp]:
    def make(**kw: Any) -> EcsDetachApp:
        return build_app(emulator, tmp_path / "journal.jsonl", **kw)

    return make
