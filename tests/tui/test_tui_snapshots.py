"""Snapshots of every screen that decides a detach, at 80x24 and at 120x36, on the demo fleet with a manual
clock (the scenarios in ``scenarios.py``, shared with ``scripts/screenshots.py``).

Deterministic on purpose: the clock is the emulator's manual clock (no time of now on screen), request ids
come from a counter, notifications are cleared before the picture, and no input has the focus (no cursor
blink). Update with ``pytest tests/tui --snapshot-update`` only after looking at the report.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from scenarios import SCENARIOS, Scenario
from textual.pilot import Pilot
from tui_helpers import build_app

from ecs_detach.emulator import Emulator, ManualClock
from tui.app import EcsDetachApp

SIZES = {"80x24": (80, 24), "120x36": (120, 36)}
"""The smallest terminal every screen must fit, and the usual one."""
AT_BOTH_SIZES = (
    "browse-instances",
    "browse-disks",
    "all-disks",
    "all-disks-sorted",
    "all-regions",
    "check",
    "wizard-blocked",
    "wizard-stop",
    "wizard-unmount",
    "confirm-typed-id",
    "job-progress",
    "bulk-preflight",
    "bulk-mixed",
    "help",
    "wizard-snapshot",
    "move-plan",
    "move-bootable",
)
README_ONLY = ("main", "journal")
"""The README's other pictures, at the size the README shows."""


@pytest.fixture(autouse=True)
def counted_request_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count(1)
    monkeypatch.setattr("ecs_detach.emulator.gateway.new_request_id", lambda: f"REQ-{next(counter):04d}-DEMO")


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(fleet="demo", clock=ManualClock())


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    released = threading.Event()
    yield released
    released.set()  # let a held job's thread finish after the picture


def _picture(scenario: Scenario, emulator: Emulator) -> Callable[[Pilot[int]], Awaitable[None]]:
    """The scenario, then no notification left on screen."""

    async def run_before(pilot: Pilot[int]) -> None:
        await scenario(pilot, emulator)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


def _app(name: str, emulator: Emulator, journal: Path, gate: threading.Event) -> EcsDetachApp:
    _, held = SCENARIOS[name]
    if not held:
        return build_app(emulator, journal)

    def held_sleep(seconds: float) -> None:
        gate.wait()  # the job waits here (mid-detach) until the snapshot is taken
        emulator.advance(seconds)

    class HeldApp(EcsDetachApp):
        def on_unmount(self) -> None:
            gate.set()  # quitting releases the held job, so its thread can end

    return build_app(emulator, journal, sleep=held_sleep, app_class=HeldApp)


CASES = [(name, size) for name in AT_BOTH_SIZES for size in SIZES] + [
    (name, "120x36") for name in README_ONLY
]


@pytest.mark.parametrize(("name", "size"), CASES, ids=[f"{name}-{size}" for name, size in CASES])
def test_screen(
    snap_compare: Callable[..., bool],
    emulator: Emulator,
    tmp_path: Path,
    gate: threading.Event,
    name: str,
    size: str,
) -> None:
    app = _app(name, emulator, tmp_path / "j.jsonl", gate)
    scenario, _ = SCENARIOS[name]
    assert snap_compare(app, terminal_size=SIZES[size], run_before=_picture(scenario, emulator))
