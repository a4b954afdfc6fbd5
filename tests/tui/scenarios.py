"""What an operator does before each picture: shared by the snapshot tests and `scripts/screenshots.py`, so
the README's pictures show what the tests check. Each scenario leaves the screen ready; the caller clears the
notifications and takes the picture."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input
from tui_helpers import click_header, go_to_disk, settle, type_text

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.widgets.tables import RowTable

Scenario = Callable[[Pilot[int], Emulator], Awaitable[None]]


async def main_screen(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-data")
    await pilot.press("escape")  # clear the filter: every instance, cursor kept on web-01
    await pilot.press("tab", "i")
    await settle(pilot)


async def wizard_blocked(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "jump-01", "d-jump-01-data")
    await pilot.press("d")
    await settle(pilot)


async def wizard_stop(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-sys")
    await pilot.press("d")
    await settle(pilot)
    await pilot.click("#allow-stop")
    await settle(pilot)
    pilot.app.screen.query_one("#cancel").focus()
    await pilot.pause()


async def wizard_unmount(pilot: Pilot[int], emulator: Emulator) -> None:
    """A disk mounted in the guest (with an fstab line): the guest rows, the unmount ticked, its plan."""
    await settle(pilot)
    await go_to_disk(pilot, "files-01", "d-files-01-data")
    await pilot.press("d")
    await settle(pilot, 6)
    await pilot.click("#allow-unmount")
    await settle(pilot, 6)
    pilot.app.screen.query_one("#cancel").focus()
    await pilot.pause()


async def confirm_typed(pilot: Pilot[int], emulator: Emulator) -> None:
    """The id typed (the steps must stay in sight meanwhile); the focus back on Cancel (no cursor blink)."""
    await wizard_stop(pilot, emulator)
    await pilot.click("#go")
    await settle(pilot)
    await type_text(pilot, "i-web-01")
    pilot.app.screen.query_one("#cancel").focus()
    await settle(pilot)


async def job_progress(pilot: Pilot[int], emulator: Emulator) -> None:
    """Twenty seconds into a one-minute detach; the app's sleep must hold the job's worker (``held``)."""
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-data")
    await pilot.press("d")
    await settle(pilot)
    await pilot.click("#go")
    await settle(pilot)
    await pilot.press("tab", "enter")
    app = pilot.app
    assert isinstance(app, EcsDetachApp)
    for _ in range(50):  # the worker thread posts DetachDisk sent, then Detaching
        await pilot.pause()
        if app.jobs.jobs and app.jobs.jobs[0].state == "Detaching":
            break
    emulator.advance(20)
    await pilot.press("o")
    for _ in range(5):  # not settle(): the job's worker is held on purpose
        await pilot.pause()


async def journal(pilot: Pilot[int], emulator: Emulator) -> None:
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


async def help_screen(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def browse_instances(pilot: Pilot[int], emulator: Emulator) -> None:
    """The first screen with the cursor on web-01 (the detail pane as the terminal's width has it)."""
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-data")
    await pilot.press("escape")  # clear the filter: every instance, cursor kept on web-01
    await settle(pilot)


async def browse_disks(pilot: Pilot[int], emulator: Emulator) -> None:
    await browse_instances(pilot, emulator)
    await pilot.press("tab")
    await settle(pilot)


async def all_disks(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def all_disks_sorted(pilot: Pilot[int], emulator: Emulator) -> None:
    """Every disk by status (Status clicked: ▲; in use, then moving, then available), the cursor kept on a
    detaching disk."""
    await all_disks(pilot, emulator)
    table = pilot.app.screen.query_one("#all-disks", RowTable)
    table.select_key("d-batch-07-scratch1")
    await click_header(pilot, table, "status")
    await settle(pilot)


async def bulk_preflight(pilot: Pilot[int], emulator: Emulator) -> None:
    """Four marked disks: two ready, a system disk left for the wizard, one on a locked instance
    (highlighted: its whole reason under the table)."""
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-sys")
    await pilot.press("space", "space", "space")
    await go_to_disk(pilot, "jump-01", "d-jump-01-data")
    await pilot.press("space", "D")
    await settle(pilot)
    pilot.app.screen.query_one("#bulk-table").focus()  # its first row: the locked instance's disk
    await settle(pilot)


MIXED_MARKS = ("d-files-01-data", "d-cluster-shared", "d-bigdata-01-hdd1", "d-erp-01-data", "d-jump-01-data")
"""A disk mounted in its guest, a multi-attach disk, a local disk, a subscription disk (cn-shanghai) and a
locked instance's disk: none of them can go in a bulk run as it is."""


async def mark_in_all_regions(pilot: Pilot[int], disk_ids: tuple[str, ...]) -> None:
    """Every region's disks in one list (a, then 2), the disks marked (space on each), then D."""
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    table = pilot.app.screen.query_one("#all-disks", RowTable)
    for disk_id in disk_ids:
        table.select_key(disk_id)
        await pilot.press("space")
    await pilot.press("D")
    await settle(pilot, 6)


async def bulk_mixed(pilot: Pilot[int], emulator: Emulator) -> None:
    """The five kinds of disk no bulk run takes as they are, marked together (the local disk highlighted)."""
    await mark_in_all_regions(pilot, MIXED_MARKS)
    pilot.app.screen.query_one("#bulk-table").focus()
    await settle(pilot)


async def check_report(pilot: Pilot[int], emulator: Emulator) -> None:
    """``c`` on a system disk of a running instance: the report of every rule, nothing sent."""
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-sys")
    await pilot.press("c")
    await settle(pilot)


async def all_regions(pilot: Pilot[int], emulator: Emulator) -> None:
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)


async def wizard_snapshot(pilot: Pilot[int], emulator: Emulator) -> None:
    """The system disk's wizard with "snapshot first" ticked (suggested there) and the stop allowed."""
    await wizard_stop(pilot, emulator)
    await pilot.click("#snapshot")
    await settle(pilot)
    pilot.app.screen.query_one("#cancel").focus()
    await pilot.pause()


async def move_plan(pilot: Pilot[int], emulator: Emulator) -> None:
    """`m` on a data disk, the target picked: both sides checked, the move's plan."""
    await settle(pilot)
    await go_to_disk(pilot, "web-01", "d-web-01-data")
    await pilot.press("m")
    await settle(pilot)
    pilot.app.screen.dismiss("i-web-02")
    await settle(pilot)


def repaired_elsewhere(app: EcsDetachApp, emulator: Emulator) -> None:
    """d-web-01-sys moved to i-web-02 as a data disk (to repair it there), as the journal records it:
    i-web-01 is Stopped, without a system disk."""
    from ecs_detach import workflow

    services = app.services
    kw = {"facts": services.facts, "journal": services.journal}
    options = workflow.MoveOptions("i-web-02", allow_stop_source=True)
    away = workflow.prepare_move(services.client, "d-web-01-sys", options, **kw)
    result = workflow.run_move(services.client, away, clock=emulator.now, sleep=emulator.advance, **kw)
    assert result.outcome is workflow.Outcome.DONE, result.message


async def move_bootable(pilot: Pilot[int], emulator: Emulator) -> None:
    """`m` on a system disk repaired on another instance, back to its own: boot it from the disk, with the
    logon password typed (masked) and the source's stop allowed."""
    app = pilot.app
    assert isinstance(app, EcsDetachApp)
    await settle(pilot)
    repaired_elsewhere(app, emulator)
    await pilot.press("r")
    await settle(pilot)
    await go_to_disk(pilot, "web-02", "d-web-01-sys")
    await pilot.press("m")
    await settle(pilot)
    app.screen.dismiss("i-web-01")
    await settle(pilot)
    screen = app.screen
    screen.query_one("#move-stop-source", Checkbox).value = True
    await settle(pilot)
    screen.query_one("#move-bootable", Checkbox).value = True
    await settle(pilot)
    screen.query_one("#move-password", Input).focus()
    await type_text(pilot, "Sup3r-Secret!")
    screen.query_one("#cancel").focus()
    await settle(pilot)


# name -> (scenario, whether the app's sleep must hold the job's worker)
SCENARIOS: dict[str, tuple[Scenario, bool]] = {
    "main": (main_screen, False),
    "wizard-stop": (wizard_stop, False),
    "wizard-blocked": (wizard_blocked, False),
    "wizard-unmount": (wizard_unmount, False),
    "confirm-typed-id": (confirm_typed, False),
    "job-progress": (job_progress, True),
    "journal": (journal, False),
    "help": (help_screen, False),
    "browse-instances": (browse_instances, False),
    "browse-disks": (browse_disks, False),
    "all-disks": (all_disks, False),
    "all-disks-sorted": (all_disks_sorted, False),
    "bulk-preflight": (bulk_preflight, False),
    "bulk-mixed": (bulk_mixed, False),
    "check": (check_report, False),
    "all-regions": (all_regions, False),
    "wizard-snapshot": (wizard_snapshot, False),
    "move-plan": (move_plan, False),
    "move-bootable": (move_bootable, False),
}

README_PICTURES = (
    "main",
    "wizard-stop",
    "wizard-blocked",
    "confirm-typed-id",
    "job-progress",
    "journal",
    "help",
)
"""What ``scripts/screenshots.py`` writes to assets/ unless told otherwise (the snapshot tests take more)."""
