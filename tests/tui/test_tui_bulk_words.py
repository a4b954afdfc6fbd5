"""The bulk screen counts in words that agree with the number: "Detach 1 disk…", not "Detach 1 disks…"
(issue 12's words, found walking the demo as an operator)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Button, Label
from tui_helpers import go_to_disk, settle

from tui.app import EcsDetachApp
from tui.screens.bulk import BulkDetachScreen
from tui.screens.confirm import ConfirmScreen


@pytest.mark.anyio
async def test_one_marked_disk_is_one_disk_on_the_title_the_button_and_the_confirmation(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-02", "d-web-02-data")
        await pilot.press("space", "D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen)
        assert str(screen.query_one(".pane-title", Label).render()) == "Detach 1 marked disk: preflight"
        go = screen.query_one("#go", Button)
        assert str(go.label) == "Detach 1 disk…"
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Detach 1 disk?" in str(app.screen.query_one(".dialog-title").render())
