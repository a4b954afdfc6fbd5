"""Fixtures for the TUI tests: the real app on the in-process emulator, with a manual clock.

Time moves only when a job waits (the workflow's ``sleep`` is the emulator's ``advance``), or when a test
moves it; nothing sleeps on real time, and nothing on screen depends on the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import build_app

from ecs_detach.emulator import Emulator, ManualClock
from tui.app import EcsDetachApp


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(fleet="demo", clock=ManualClock())


@pytest.fixture
def make_app(emulator: Emulator, tmp_path: Path) -> Callable[..., EcsDetachApp]:
    def make(**kw: Any) -> EcsDetachApp:
        return build_app(emulator, tmp_path / "journal.jsonl", **kw)

    return make
