"""The bulk screen with the five kinds of disk a bulk run cannot take as they are, marked together (a disk
mounted in its guest, a multi-attach disk, a local disk, a subscription disk in another region, a locked
instance's disk), at 80x24 and 120x36: each row says which way it goes and what to press, the summary
counts them so, and the reasons use the room the screen has."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from scenarios import MIXED_MARKS, mark_in_all_regions
from textual.widgets import Static
from tui_helpers import screen_text, settle, unexpected_errors

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.bulk import BulkDetachScreen
from tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_five_disks_no_bulk_run_takes_each_say_which_way_they_go(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator, size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await mark_in_all_regions(pilot, MIXED_MARKS)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen) and len(screen.plans) == 5
        rows = {key: row.cells for key, row in screen._rows.items()}
        assert rows["d-cluster-shared"][3] == "↻ skipped"  # not refused: choosing its instance (i) is the way
        assert "press i to choose the instance" in rows["d-cluster-shared"][4]
        assert rows["d-files-01-data"][3] == "↻ skipped"
        refused = ("d-bigdata-01-hdd1", "d-erp-01-data", "d-jump-01-data")
        assert [rows[d][3] for d in refused] == ["✗ blocked"] * 3
        summary = re.sub(r"\s+", " ", str(screen.query_one("#bulk-summary", Static).render()))
        assert summary.startswith(
            "0 of 5 can be detached now: 3 would be refused (why above); 1 left for the wizard (d on it: a "
            "stop, a system disk or an unmount); 1 needs its instance chosen (i on it: a multi-attach disk)."
        )
        text = screen_text(app)
        for disk_id in MIXED_MARKS:
            assert disk_id in text
        if size == (120, 36):  # the reasons take the room the other columns leave (not cut at 40)
            assert "Instance i-jump-01 is locked for security reasons (Locked after a" in text
        screen.query_one("#bulk-table").focus()
        await pilot.press("down")  # the multi-attach disk, highlighted: its detail under the table
        await settle(pilot, 1)
        detail = re.sub(r"\s+", " ", str(screen.query_one("#bulk-detail", Static).render()))
        assert detail.startswith("d-cluster-shared (data, no instance chosen) — ↻ skipped: multi-attach")
        assert unexpected_errors(app) == [] and app.is_running


async def test_a_bulk_confirmation_names_every_region_it_sends_to(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await mark_in_all_regions(pilot, ("d-web-02-data", "d-sh-web-01-data"))
        assert isinstance(app.screen, BulkDetachScreen)
        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        text = " ".join(screen_text(app).split())
        assert "Profile demo · regions cn-hangzhou, cn-shanghai" in text
        assert "DetachDisk d-sh-web-01-data from i-sh-web-01 (cn-shanghai)" in text
