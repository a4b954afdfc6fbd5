"""A bulk run detaches a multi-attach disk from the instance the operator chose (issue 12, from k9s users)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import SIZE, go_to_disk, screen_text, settle

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.bulk import BulkDetachScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.pickers import PickerScreen
from tui.widgets.tables import RowTable

pytestmark = pytest.mark.anyio


def _attached_to(emulator: Emulator, disk_id: str) -> list[str]:
    disk = next(d for d in emulator.state()["Disks"] if d["DiskId"] == disk_id)
    return sorted(a["InstanceId"] for a in disk.get("Attachments", {}).get("Attachment", []))


async def test_the_instance_of_a_multi_attach_disk_is_chosen_in_the_preflight(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "cluster-node-1", "d-cluster-shared")
        await pilot.press("space", "D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen)
        assert "press i" in screen_text(app)
        assert screen.query_one("#go").disabled  # nothing to detach until the instance is chosen
        screen.query_one("#bulk-table", RowTable).focus()
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("down", "enter")  # the second attachment: i-cluster-node-2
        await settle(pilot, 4)
        assert screen.instances == {"d-cluster-shared": "i-cluster-node-2"}
        assert "i-cluster-node-2" in screen_text(app) and "✓ ready" in screen_text(app)
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "DetachDisk d-cluster-shared from i-cluster-node-2" in screen_text(app)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
    assert _attached_to(emulator, "d-cluster-shared") == ["i-cluster-node-1"]


async def test_arrows_and_i_work_as_soon_as_the_preflight_opens(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    """No tab first: ↓ moves to the multi-attach disk's row and i opens its instance picker."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "cluster-node-1", "d-cluster-node-1-sys")
        await pilot.press("space", "space", "D")  # the system disk and the multi-attach disk below it
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen)
        table = screen.query_one("#bulk-table", RowTable)
        assert table.row_keys == ["d-cluster-node-1-sys", "d-cluster-shared"]
        await pilot.press("down")
        await settle(pilot, 1)
        assert "d-cluster-shared (data, no instance chosen)" in screen_text(app)  # its detail, highlighted
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, PickerScreen)
        assert "Detach d-cluster-shared from which instance?" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.instances == {}
