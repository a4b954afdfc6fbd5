"""Snapshots of the main screens at 120x36, on the demo fleet with a manual clock.

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
from scenarios import Scenario, job_progress, journal, main_screen, wizard_blocked, wizard_stop
from textual.pilot import Pilot
from tui_helpers import SIZE, build_app

from ecs_detach.emulator import Emulator, ManualClock
from tui.app import EcsDetachApp


@pytest.fixture(autouse=True)
def counted_request_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count(1)
    monkeypatch.setattr("ecs_detach.emulator.gateway.new_request_id", lambda: f"REQ-{next(counter):04d}-DEMO")


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(fleet="demo", clock=ManualClock())


def _picture(scenario: Scenario, emulator: Emulator) -> Callable[[Pilot[int]], Awaitable[None]]:
    """The scenario the README's screenshots show, then no notification left on screen."""

    async def run_before(pilot: Pilot[int]) -> None:
        await scenario(pilot, emulator)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


def test_main_screen(snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path) -> None:
    app = build_app(emulator, tmp_path / "j.jsonl")
    assert snap_compare(app, terminal_size=SIZE, run_before=_picture(main_screen, emulator))


def test_blocked_wizard(snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path) -> None:
    app = build_app(emulator, tmp_path / "j.jsonl")
    assert snap_compare(app, terminal_size=SIZE, run_before=_picture(wizard_blocked, emulator))


def test_wizard_that_needs_a_stop(
    snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path
) -> None:
    app = build_app(emulator, tmp_path / "j.jsonl")
    assert snap_compare(app, terminal_size=SIZE, run_before=_picture(wizard_stop, emulator))


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    released = threading.Event()
    yield released
    released.set()  # let the job's thread finish after the picture


def test_job_in_progress(
    snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path, gate: threading.Event
) -> None:
    def held_sleep(seconds: float) -> None:
        gate.wait()  # the job waits here (mid-detach) until the snapshot is taken
        emulator.advance(seconds)

    class HeldApp(EcsDetachApp):
        def on_unmount(self) -> None:
            gate.set()  # quitting releases the held job, so its thread can end

    app = build_app(emulator, tmp_path / "j.jsonl", sleep=held_sleep, app_class=HeldApp)
    assert snap_compare(app, terminal_size=SIZE, run_before=_picture(job_progress, emulator))


def test_journal(snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path) -> None:
    app = build_app(emulator, tmp_path / "j.jsonl")
    assert snap_compare(app, terminal_size=SIZE, run_before=_picture(journal, emulator))
