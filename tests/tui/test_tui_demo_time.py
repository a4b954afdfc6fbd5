"""The demo's clock runs ahead of the wall clock: the journal's and the undo screen's times say they are demo
time (issue 12: "Demo timestamps run ahead of the wall clock with no word that they are demo time"; the CLI
and notebooks said so already, the TUI did not)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from tui_helpers import go_to_disk, screen_text, settle

from tui.app import EcsDetachApp
from tui.screens.journal import JournalScreen
from tui.screens.undo import UndoScreen


@pytest.mark.anyio
async def test_the_journal_and_the_undo_screen_say_their_times_are_demo_time(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        await pilot.press("escape", "j")
        await settle(pilot)
        assert isinstance(app.screen, JournalScreen)
        text = screen_text(app)
        assert "When (demo time)" in text
        # the demo clock starts at 2026-01-01 00:00:00; the guest probe before the detach moves it a little
        assert re.search(r"DetachDisk at 2026-01-01 00:00:\d\d \(demo time\) — ✓ accepted", text)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UndoScreen)
        detached = r"Detached at 2026-01-01 00:00:\d\d \(demo time\) from instance i-web-01"
        assert re.search(detached, screen_text(app))
