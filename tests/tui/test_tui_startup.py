"""The first screen: what it shows once loaded, and the work deferred until after it is painted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import SIZE, browse, screen_text, settle, type_text

from tui.app import EcsDetachApp

pytestmark = pytest.mark.anyio


def _footer(app: EcsDetachApp) -> str:
    return screen_text(app).splitlines()[-1]


async def test_the_footer_follows_the_keys_of_the_view(make_app: Callable[..., EcsDetachApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = _footer(app)
        assert "All disks" in footer and "Instances" not in footer and "Detach" in footer
        await pilot.press("2")
        await settle(pilot)
        footer = _footer(app)
        assert "Instances" in footer and "All disks" not in footer
        await pilot.press("1")
        await settle(pilot)
        footer = _footer(app)
        assert "All disks" in footer and "Instances" not in footer


async def test_the_hidden_detail_pane_shows_the_current_row_when_opened(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:  # 120 columns: the pane starts hidden
        await settle(pilot)
        screen = browse(app)
        first = screen.current_instance
        assert first is not None and "Charge" not in screen_text(app)
        await pilot.press("down")  # the cursor moves while the pane is hidden
        await settle(pilot)
        second = screen.current_instance
        assert second is not None and second.instance_id != first.instance_id
        await pilot.press("i")
        await settle(pilot)
        text = screen_text(app)
        assert f"Instance  {second.instance_id}" in text and "Charge" in text
        await pilot.press("v")
        await settle(pilot)
        assert f'"InstanceId": "{second.instance_id}"' in screen_text(app)
        await pilot.press("enter")  # on its disks: the pane follows the disk under the cursor
        await settle(pilot)
        disk = screen.current_disk
        assert disk is not None and f'"DiskId": "{disk.disk_id}"' in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert '"DiskId"' not in screen_text(app)


async def test_the_disks_view_and_the_filter_box_appear_when_first_asked_for(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "27 instances in cn-hangzhou" in screen_text(app)
        await pilot.press("2")
        await settle(pilot)
        text = screen_text(app)
        disks = browse(app).disks
        assert f"{len(disks)} disks in cn-hangzhou" in text and disks[0].disk_id in text
        await pilot.press("1", "2")  # back and forth: the same view again
        await settle(pilot)
        assert f"{len(disks)} disks in cn-hangzhou" in screen_text(app)
        await pilot.press("slash")
        await type_text(pilot, "jump")
        await settle(pilot)
        text = screen_text(app)
        assert "filter “jump”" in text and "d-jump-01-data" in text and disks[0].disk_id not in text
        await pilot.press("escape")
        await settle(pilot)
        assert "filter “" not in screen_text(app)


async def test_go_to_disk_from_the_command_palette_opens_the_disks_view(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        detached = next(d for d in screen.disks if not d.attached_instance_ids)  # listed in view 2 only
        await app._cmd_goto_disk(detached.disk_id)
        await settle(pilot)
        assert screen.view == "disks" and screen.current_disk == detached
        assert detached.disk_id in screen_text(app)


async def test_a_wide_terminal_shows_the_detail_pane_from_the_start(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(170, 36)) as pilot:
        await settle(pilot)
        current = browse(app).current_instance
        assert current is not None and f"Instance  {current.instance_id}" in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert f"Instance  {current.instance_id}" not in screen_text(app)
