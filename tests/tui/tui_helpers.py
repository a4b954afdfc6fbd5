"""Helpers for driving the app in pilot tests (imported by the TUI tests; not a test module)."""

from __future__ import annotations

from textual.pilot import Pilot

from tui.app import EcsDetachApp
from tui.screens.browse import BrowseScreen
from tui.widgets.tables import RowTable

SIZE = (120, 36)
"""Every TUI test and snapshot runs at this terminal size."""


async def settle(pilot: Pilot[int], rounds: int = 4) -> None:
    """Let messages drain and workers finish (a few rounds: one worker's result starts the next)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: EcsDetachApp) -> str:
    """What the terminal shows right now, as plain text (the top screen, with any dialog over it)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def browse(app: EcsDetachApp) -> BrowseScreen:
    screen = app.browse
    assert screen is not None
    return screen


async def type_text(pilot: Pilot[int], text: str) -> None:
    await pilot.press(*list(text))


async def go_to_disk(pilot: Pilot[int], instance_name: str, disk_id: str) -> None:
    """As an operator would: filter the instances, enter the instance's disks, move down to the disk."""
    app = pilot.app
    assert isinstance(app, EcsDetachApp)
    await pilot.press("slash")
    await type_text(pilot, f"name={instance_name}")
    await pilot.press("enter", "enter")
    await settle(pilot, 1)
    screen = browse(app)
    table = screen.query_one("#instance-disks", RowTable)
    for _ in range(len(table.row_keys)):
        if table.current_key == disk_id:
            break
        await pilot.press("down")
    assert table.current_key == disk_id, f"{disk_id} not among {table.row_keys}"
