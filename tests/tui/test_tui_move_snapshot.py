"""Issue 16 in the TUI: the wizard offers "snapshot first" (suggested for a system disk) and runs it before
the detach; `m` on a disk picks the target instance and shows the move's checks and plan, one confirmation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import SIZE, go_to_disk, screen_text, settle

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.move import MoveScreen
from tui.screens.pickers import PickerScreen
from tui.screens.wizard import DetachWizard

pytestmark = pytest.mark.anyio


def _disk(emulator: Emulator, disk_id: str) -> dict[str, object]:
    (disk,) = [d for d in emulator.state()["Disks"] if d["DiskId"] == disk_id]
    return disk


async def test_the_wizard_takes_a_snapshot_first_when_asked(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        assert "Snapshot the disk first" in screen_text(app)
        assert "suggested for a system disk" not in screen_text(app)
        await pilot.click("#snapshot")
        await settle(pilot)
        assert wizard.plan is not None and wizard.plan.calls == ("CreateSnapshot", "DetachDisk")
        assert "billed" in screen_text(app)
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.succeeded, job.message
        assert "Snapshot s-" in job.message
        labels = [label for _, label in job.timeline]
        assert "accomplished" in labels and labels.index("accomplished") < labels.index("Available")
        assert _disk(emulator, "d-web-01-data")["Status"] == "Available"
        snapshots = emulator.state()["Emulator"]["Snapshots"]
        assert [s["Status"] for s in snapshots] == ["accomplished"]


async def test_the_wizard_suggests_a_snapshot_for_a_system_disk(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-sys")
        await pilot.press("d")
        await settle(pilot)
        assert "Snapshot first (suggested for a system disk; billed)" in screen_text(app)


async def test_m_picks_a_target_and_moves_the_disk(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert "i-web-02" in screen_text(app) and "(other zone)" in screen_text(app)
        picker.dismiss("i-web-02")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MoveScreen)
        text = screen_text(app)
        assert "✓ ready" in text and "the same zone" in text and "Attach disk d-web-01-data" in text
        assert _disk(emulator, "d-web-01-data")["InstanceId"] == "i-web-01"  # nothing sent yet
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        disk = _disk(emulator, "d-web-01-data")
        assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-web-02")
        assert "moved from i-web-01 to i-web-02" in screen_text(app)
        actions = [i.action for i, _ in app.services.journal.operations()]
        assert actions == ["DetachDisk", "AttachDisk"]


async def test_a_target_in_another_zone_is_refused_on_screen(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("m")
        await settle(pilot)
        app.screen.dismiss("i-db-primary")
        await settle(pilot)
        text = screen_text(app)
        assert "✗ blocked" in text and "ResourcesNotInSameZone" in text
        assert app.screen.query_one("#go").disabled
        assert [r for r in emulator.requests if r["action"] in ("DetachDisk", "AttachDisk")] == []


async def test_the_undo_screen_names_the_snapshot_taken_first(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#snapshot")
        await settle(pilot)
        await pilot.click("#go")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        (job,) = app.jobs.jobs
        assert job.succeeded, job.message
        snapshot_id = emulator.state()["Emulator"]["Snapshots"][0]["SnapshotId"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert f"A snapshot was taken first: {snapshot_id}" in screen_text(app)
