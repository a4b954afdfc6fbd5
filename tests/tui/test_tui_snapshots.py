"""Snapshots of the main screens at 120x36, on the demo fleet with a manual clock.

Deterministic on purpose: the clock is the emulator's manual clock (no time of now on screen), request ids
come from a counter, notifications are cleared before the picture, and no input has the focus (no cursor
blink). Update with ``pytest tests/tui --snapshot-update`` only after looking at the report.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import SIZE, build_app, go_to_disk, settle

from ecs_detach.emulator import Emulator, ManualClock
from tui.app import EcsDetachApp


@pytest.fixture(autouse=True)
def counted_request_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count(1)
    monkeypatch.setattr("ecs_detach.emulator.gateway.new_request_id", lambda: f"REQ-{next(counter):04d}-DEMO")


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(fleet="demo", clock=ManualClock())


async def _quiet(pilot: Pilot[int]) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


def test_main_screen(snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("escape")  # clear the filter: every instance, cursor kept on web-01
        await pilot.press("tab")
        await pilot.press("i")
        await _quiet(pilot)

    assert snap_compare(build_app(emulator, tmp_path / "j.jsonl"), terminal_size=SIZE, run_before=run_before)


def test_blocked_wizard(snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await go_to_disk(pilot, "jump-01", "d-jump-01-data")
        await pilot.press("d")
        await _quiet(pilot)

    assert snap_compare(build_app(emulator, tmp_path / "j.jsonl"), terminal_size=SIZE, run_before=run_before)


def test_wizard_that_needs_a_stop(
    snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path
) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-sys")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#allow-stop")
        await _quiet(pilot)
        pilot.app.screen.query_one("#cancel").focus()
        await pilot.pause()

    assert snap_compare(build_app(emulator, tmp_path / "j.jsonl"), terminal_size=SIZE, run_before=run_before)


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

    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        for _ in range(50):  # the worker thread posts DetachDisk sent, then Detaching
            await pilot.pause()
            if pilot.app.jobs.jobs and pilot.app.jobs.jobs[0].state == "Detaching":
                break
        emulator.advance(20)  # twenty seconds into the one-minute detach
        await pilot.press("o")
        for _ in range(5):  # not settle(): the job's worker is held on purpose
            await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    class HeldApp(EcsDetachApp):
        def on_unmount(self) -> None:
            gate.set()  # quitting releases the held job, so its thread can end

    app = build_app(emulator, tmp_path / "j.jsonl", sleep=held_sleep, app_class=HeldApp)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_journal(snap_compare: Callable[..., bool], emulator: Emulator, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        await pilot.press("escape", "j")
        await _quiet(pilot)

    assert snap_compare(build_app(emulator, tmp_path / "j.jsonl"), terminal_size=SIZE, run_before=run_before)
