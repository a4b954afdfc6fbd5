"""Helpers for driving the app in pilot tests (imported by the TUI tests; not a test module)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator
from ecs_detach.journal import Journal
from ecs_detach.workflow import emulator_facts
from tui.app import EcsDetachApp
from tui.screens.browse import BrowseScreen
from tui.screens.undo import UndoScreen
from tui.services import Services
from tui.widgets.tables import RowTable

SIZE = (120, 36)
"""Every TUI test and snapshot runs at this terminal size."""


def build_app(
    emulator: Emulator,
    journal_path: Path,
    *,
    read_only: bool = False,
    protected: bool = False,
    sleep: Callable[[float], object] | None = None,
    profile: str = "demo",
    app_class: type[EcsDetachApp] = EcsDetachApp,
    client: EcsClient | None = None,
) -> EcsDetachApp:
    """The app as ``ecs-detach --demo`` builds it, with a manual clock and a journal in ``journal_path``
    (`client`: another client on the emulator, e.g. aimed at a region it does not have, or with a bad key)."""
    counter = itertools.count(1)
    journal = Journal(journal_path, clock=emulator.now, new_id=lambda: f"op-{next(counter):04d}")
    services = Services(
        client=client if client is not None else EcsClient.for_emulator(emulator),
        profile=profile,
        demo=True,
        protected=protected,
        clock=emulator.now,
        emulator=emulator,
        facts=emulator_facts(emulator),
        journal=journal,
        sleep=sleep if sleep is not None else emulator.advance,
    )
    return app_class(services, read_only=read_only, auto_refresh=False)


async def settle(pilot: Pilot[int], rounds: int = 3, *, workers: bool = True) -> None:
    """Let messages drain and workers finish (a few rounds: one worker's result starts the next).

    ``workers=False`` only drains messages: for a picture taken while a job's worker is held.
    """
    for _ in range(rounds):
        await pilot.pause()
        if workers:
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
    """As an operator would: filter the instances, enter the instance's disks, move down to the disk.

    The filter text is put into the filter box in one go (each simulated key press costs a tenth of a second;
    typing itself is tested where it matters: the confirmation's id box).
    """
    app = pilot.app
    assert isinstance(app, EcsDetachApp)
    await pilot.press("slash")
    app.screen.query_one("#filter", Input).value = f"name={instance_name}"
    await pilot.press("enter", "enter")
    await settle(pilot, 1)
    screen = browse(app)
    table = screen.query_one("#instance-disks", RowTable)
    for _ in range(len(table.row_keys)):
        if table.current_key == disk_id:
            break
        await pilot.press("down")
    assert table.current_key == disk_id, f"{disk_id} not among {table.row_keys}"


async def palette_go_to_disk(pilot: Pilot[int], disk_id: str) -> None:
    """As an operator would: ctrl+p, "Go to disk DISK" (put in the palette's box in one go), enter."""
    from textual.command import CommandInput, CommandList, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    await settle(pilot, 1)
    assert isinstance(app.screen, CommandPalette)
    palette = app.screen
    palette.query_one(CommandInput).value = f"Go to disk {disk_id}"
    for _ in range(200):  # the palette gathers its hits in a worker of its own
        await settle(pilot, 1)
        if palette.query_one(CommandList).option_count:
            break
    await pilot.press("enter")
    await settle(pilot, 2)


def unexpected_errors(app: EcsDetachApp) -> list[BaseException]:
    """Errors the app caught and survived (shown to the operator), plus the one that ended it, if any."""
    errors = list(getattr(app, "unexpected_errors", []))
    if app._exception is not None:
        errors.append(app._exception)
    return errors


async def click_header(pilot: Pilot[int], table: RowTable, column_key: str) -> None:
    """A real mouse click on the header cell of ``column_key``."""
    x = 0
    for column in table.ordered_columns:
        if column.key.value == column_key:
            break
        x += column.get_render_width(table)
    else:
        raise AssertionError(f"no column {column_key} shown in {table.id}")
    await pilot.click(table, offset=(x + 2, 0))
    await settle(pilot, 1)


async def detach_with_unmount(pilot: Pilot[None], app: EcsDetachApp) -> None:
    """Detach d-files-01-data with "Unmount it in the guest" (its mount point typed), then open its undo
    from the journal (j, u)."""
    await go_to_disk(pilot, "files-01", "d-files-01-data")
    await pilot.press("d")
    await settle(pilot, 6)
    await pilot.click("#allow-unmount")
    await settle(pilot, 6)
    await pilot.click("#go")
    await settle(pilot)
    await type_text(pilot, "/data")
    await pilot.press("enter")
    await settle(pilot, 8)
    await pilot.press("escape")
    await settle(pilot)
    await pilot.press("j")
    await settle(pilot)
    await pilot.press("u")
    await settle(pilot, 4)
    assert isinstance(app.screen, UndoScreen)


def files_guest(emulator: Emulator) -> tuple[bool, list[str]]:
    """Whether the guest of i-files-01 has d-files-01-data mounted, and its /etc/fstab lines for /data."""
    guest = emulator.state()["Emulator"]["Guests"]["i-files-01"]
    (mounted,) = [m["Mounted"] for m in guest["Mounts"] if m["DiskId"] == "d-files-01-data"]
    return mounted, [line for line in guest["EtcFstab"] if "/data " in line]
