"""Esc while the wizard waits for the guest's probe stops the wait at once (the guest of the demo's
files-01 made to hang with the emulator's HangOn knob): nothing is sent, the screen says the guest was
not read and offers no detach on that read; r reads it again, and Esc then goes back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Static
from tui_helpers import SIZE, browse, go_to_disk, screen_text

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio

MUTATIONS = ("DetachDisk", "StopInstance", "StartInstance", "AttachDisk", "CreateSnapshot")


def _hang_the_probe(emulator: Emulator) -> None:
    state = emulator.state()
    state["Emulator"]["Guests"]["i-files-01"]["HangOn"] = "lsblk"  # the probe's script: it never finishes
    emulator.reset(state)


def _probes(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r["action"] == "RunCommand")


async def _until(pilot: Pilot[None], done: Callable[[], bool], rounds: int = 5000) -> None:
    """Let the app run until `done()`: bounded, so a wait that never ends fails the test, not hangs it."""
    for _ in range(rounds):
        if done():
            return
        await pilot.pause()
    raise AssertionError("the screen never got there")


async def test_esc_stops_the_wait_for_a_hung_guest_and_says_it_was_not_read(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    _hang_the_probe(emulator)
    app = make_app()
    # The probe's wait in real time (as in the demo), on a clock only the test moves: only a cancel ends it.
    app.services.sleep, app.services.time_scale = None, 100.0
    async with app.run_test(size=SIZE) as pilot:
        try:
            await _until(pilot, lambda: bool(browse(app).query("#instance-disks")))
            await pilot.pause()
            await go_to_disk(pilot, "files-01", "d-files-01-data")
            await pilot.press("d")
            wizard = app.screen
            assert isinstance(wizard, DetachWizard)
            await _until(pilot, lambda: _probes(emulator) == 1)
            assert "Esc stops the wait" in screen_text(app)
            await pilot.press("escape")
            verdict = wizard.query_one("#verdict", Static)
            await _until(pilot, lambda: "GUEST NOT READ" in str(verdict.render()))
            assert app.screen is wizard  # Esc stopped the wait; it did not leave
            text = str(verdict.render())
            assert "you stopped the wait for the guest of i-files-01 (Esc); nothing was sent." in text
            pre = wizard.preconditions
            assert pre is not None and "the guest was not read" in pre.row(22).sentence
            assert wizard.query_one("#go", Button).disabled
            assert [r["action"] for r in emulator.requests if r["action"] in MUTATIONS] == []
            assert _probes(emulator) == 1  # the read-only probe, and nothing after it
            await pilot.press("escape")  # the read is over: back to the list
            await _until(pilot, lambda: app.screen is not wizard)
            assert app.screen is app.browse
        finally:
            emulator.advance(3600)  # past the probe's deadline: no wait outlives the test, stopped or not
