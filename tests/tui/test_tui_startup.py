"""The first screen: what it shows once loaded, and the work deferred until after it is painted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import SIZE, browse, screen_text, settle

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
