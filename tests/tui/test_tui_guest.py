"""The wizard reads the guest: a mounted disk shows the guest rows, offers the unmount, asks for the mount
point typed, and the job releases it in the guest (RunCommand) before its DetachDisk."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Checkbox
from tui_helpers import SIZE, detach_with_unmount, files_guest, go_to_disk, screen_text, settle, type_text

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.undo import UndoScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio


async def test_a_mounted_disk_is_unmounted_in_the_guest_then_detached(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "files-01", "d-files-01-data")
        await pilot.press("d")
        await settle(pilot, 6)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        assert "FIXABLE — release disk d-files-01-data in the guest of i-files-01 (/data)" in screen_text(app)
        pre = wizard.preconditions
        assert pre is not None and "Mounted in the guest at /data (ext4)" in pre.row(23).sentence
        assert "/etc/fstab names the disk" in pre.row(24).sentence
        assert wizard.query_one("#guest-section").display
        assert wizard.plan is not None and not wizard.plan.executable  # not without the say-so
        assert not [r for r in emulator.requests if r["action"] == "DetachDisk"]

        await pilot.click("#allow-unmount")
        await settle(pilot, 6)
        assert wizard.plan is not None and wizard.plan.calls == ("RunCommand", "DetachDisk")
        (step, _, _) = wizard.plan.steps
        assert "umount /data" in step.params["CommandContent"] and "umount /data" in step.aliyun

        await pilot.click("#go")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.typed_id == "/data"
        await type_text(pilot, "/data")
        await pilot.press("enter")
        await settle(pilot, 8)
        calls = [r for r in emulator.requests if r["action"] in ("RunCommand", "DetachDisk")]
        detach = next(n for n, r in enumerate(calls) if r["action"] == "DetachDisk")
        assert "umount /data" in calls[detach - 1]["params"].get("CommandContent", "")  # the fix, just before
        guest = emulator.state()["Emulator"]["Guests"]["i-files-01"]
        assert [m["Mounted"] for m in guest["Mounts"] if m["DiskId"] == "d-files-01-data"] == [False]
        assert guest["Hazards"] == []


@pytest.mark.parametrize("remount", [True, False])
async def test_the_undo_offers_to_mount_it_back_ticked_by_default(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator, remount: bool
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await detach_with_unmount(pilot, app)
        undo = app.screen
        assert isinstance(undo, UndoScreen)
        box = undo.query_one("#remount", Checkbox)
        assert undo.query_one("#remount-section").display and box.value is True
        assert "Mount it back at /data and restore its /etc/fstab line" in screen_text(app)
        assert undo.plan is not None and undo.plan.calls == ("AttachDisk", "RunCommand")
        assert "mount /data" in screen_text(app)  # the script, in the aliyun line
        if not remount:
            await pilot.click("#remount")
            await settle(pilot, 4)
            assert undo.plan is not None and undo.plan.calls == ("AttachDisk",)
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        assert "✓ done" in screen_text(app)
        mounted, fstab = files_guest(emulator)
        assert mounted is remount
        assert [line.startswith("# ecs-detach: ") for line in fstab] == [not remount]
