"""The undo's remount still owed: an undo attached the disk back, but its remount's answer was lost. `u`
again reads the guest (the core's decision, as `ecs-detach attach --operation OP` makes it) and offers to
mount it back, running the same undo (AttachDisk is not sent again); a guest that has it mounted has nothing
to undo; a guest that cannot be read gets the script."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Button
from tui_helpers import SIZE, detach_with_unmount, files_guest, screen_text, settle

from ecs_detach.emulator import Emulator
from ecs_detach.journal import Journal
from ecs_detach.plan import StepKind
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.undo import UndoScreen

pytestmark = pytest.mark.anyio


async def _undo_with_remount_lost(pilot: Pilot[None], app: EcsDetachApp, emulator: Emulator) -> None:
    """Detach with unmount, then undo it while every RunCommand fails with a 5xx: AttachDisk goes through,
    the remount's answer is lost (and the guest cannot be read to settle it). Back on the journal."""
    await detach_with_unmount(pilot, app)
    emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["RunCommand"])
    await pilot.click("#go")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("tab", "enter")
    await settle(pilot, 8)
    undo = app.screen
    assert isinstance(undo, UndoScreen) and undo.job is not None and undo.job.outcome == "failed"
    assert "the remount was not sent again" in undo.job.message
    # its card's remedy (→ …) names the TUI's way: u again, which reads the guest first
    assert undo.job.remedy.startswith("Disk d-files-01-data stays attached; press u on the disk again, which")
    assert "or run this in the guest of i-files-01 by hand:" in undo.job.remedy
    await pilot.press("escape")
    await settle(pilot)


def _journal(app: EcsDetachApp) -> Journal:
    journal = app.services.journal
    assert journal is not None
    return journal


def _remounts(app: EcsDetachApp) -> list[tuple[str, bool]]:
    """Each remount RunCommand the journal has: its outcome's result, and whether it succeeded."""
    return [
        (outcome.result, outcome.succeeded) if outcome is not None else ("", False)
        for intent, outcome in _journal(app).operations()
        if intent.action == "RunCommand" and intent.context.get("guest_step") == StepKind.GUEST_REMOUNT.value
    ]


async def test_u_again_mounts_back_a_remount_whose_answer_was_lost(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _undo_with_remount_lost(pilot, app, emulator)
        assert files_guest(emulator)[0] is False
        emulator.clear_faults()

        await pilot.press("u")
        await settle(pilot, 6)
        undo = app.screen
        assert isinstance(undo, UndoScreen)
        text = screen_text(app)
        assert "Attached again; /data is not mounted in the guest: Mount it back." in text, text
        go = undo.query_one("#go", Button)
        assert str(go.label) == "Mount it back…" and not go.disabled
        assert "mount /data" in text  # the script it sends, in the aliyun line

        await pilot.click("#go")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and "Mount it back in the guest?" in screen_text(app)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        assert "✓ done" in screen_text(app)
        mounted, fstab = files_guest(emulator)
        assert mounted is True and [line.startswith("# ecs-detach: ") for line in fstab] == [False]
        attaches = [i for i, _ in _journal(app).operations() if i.action == "AttachDisk"]
        assert len(attaches) == 1  # the second run sent the remount only
        # the lost one stays unknown; the remount sent again by u went through
        assert _remounts(app) == [("unknown", False), ("ok", True)]


async def test_u_again_when_the_guest_has_it_mounted_has_nothing_to_undo(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _undo_with_remount_lost(pilot, app, emulator)
        emulator.clear_faults()
        state = emulator.state()  # someone ran the script by hand
        guest = state["Emulator"]["Guests"]["i-files-01"]
        for mount in guest["Mounts"]:
            if mount["DiskId"] == "d-files-01-data":
                mount["Mounted"] = True
        guest["EtcFstab"] = [line.removeprefix("# ecs-detach: ") for line in guest["EtcFstab"]]
        emulator.reset(state)
        sent = len(_remounts(app))

        await pilot.press("u")
        await settle(pilot, 6)
        undo = app.screen
        assert isinstance(undo, UndoScreen)
        text = screen_text(app)
        assert "– Nothing to undo: attached and mounted at /data." in text
        assert "Mount it back…" not in text and not undo.query_one("#go", Button).display  # nothing to send
        assert len(_remounts(app)) == sent


async def test_u_again_when_the_guest_cannot_be_read_gives_the_script(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _undo_with_remount_lost(pilot, app, emulator)  # its faults stay: the probe fails too

        await pilot.press("u")
        await settle(pilot, 6)
        undo = app.screen
        assert isinstance(undo, UndoScreen)
        text = screen_text(app)
        assert "✗ Attached again, but whether it is mounted back in the guest is unknown" in text, text
        assert "run this in the guest of i-files-01:" in text and "mount /data" in text
        assert "Mount it back…" not in text and not undo.query_one("#go", Button).display
