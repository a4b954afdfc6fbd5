"""Undo of a multi-attach disk's detach (issue 12, found walking the demo as an operator): the disk stays
In_use on its other instance, and AttachDisk takes it back to the first one so; the undo screen said "It must
be Available (attached nowhere): wait, then press u again", which no wait could ever make true."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import palette_go_to_disk, screen_text, settle, unexpected_errors

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.undo import UndoScreen
from tui.screens.wizard import DetachWizard


def _attached(emulator: Emulator, disk_id: str) -> list[str]:
    (disk,) = [d for d in emulator.state()["Disks"] if d["DiskId"] == disk_id]
    return sorted(a["InstanceId"] for a in disk.get("Attachments", {}).get("Attachment", []))


@pytest.mark.anyio
async def test_u_re_attaches_a_multi_attach_disk_still_in_use_on_its_other_instance(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await palette_go_to_disk(pilot, "d-cluster-shared")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DetachWizard)
        detached_from = app.screen.instance_id
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        assert detached_from not in _attached(emulator, "d-cluster-shared")
        assert _attached(emulator, "d-cluster-shared")  # still on the other node: In_use

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UndoScreen)
        text = " ".join(screen_text(app).split())
        assert "Ready to re-attach" in text and "wait, then press u again" not in text
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 6)
        assert _attached(emulator, "d-cluster-shared") == ["i-cluster-node-1", "i-cluster-node-2"]
        job = app.jobs.jobs[-1]
        assert job.title.startswith("Re-attach d-cluster-shared") and job.succeeded
        assert not unexpected_errors(app)
