"""The bulk screen reads the guests (issue 15): a disk mounted in its guest is left alone, with the reason
on its row, while the others are detached; its guest is read once, in the screen's worker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Button
from tui_helpers import SIZE, go_to_disk, screen_text, settle

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.screens.bulk import BulkDetachScreen
from tui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.anyio

PROBE = "# ecs-detach guest probe (read-only): block devices"


@pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x36"])
async def test_a_mounted_disk_is_left_alone_with_its_reason_and_the_other_is_detached(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator, size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await go_to_disk(pilot, "files-01", "d-files-01-data")
        await pilot.press("space")
        await go_to_disk(pilot, "web-01", "d-web-01-data")
        await pilot.press("space", "D")
        await settle(pilot, 6)
        screen = app.screen
        assert isinstance(screen, BulkDetachScreen)
        text = screen_text(app)
        assert "d-files-01-data (data) on i-files-01 — ↻ skipped: in use in the guest (/data)" in " ".join(
            text.split()
        )
        assert "A disk in use in its guest is left alone: d on it unmounts it first" in " ".join(text.split())
        assert [p.disk_id for p in screen.plans if p.executable] == ["d-web-01-data"]
        assert str(screen.query_one("#go", Button).label) == "Detach 1 disk…"
        probes = [
            r["params"]["InstanceId.1"]
            for r in emulator.requests
            if r["action"] == "RunCommand" and r["params"].get("CommandContent", "").startswith(PROBE)
        ]
        assert sorted(probes) == ["i-files-01", "i-web-01"]

        await pilot.click("#go")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot, 8)
        detached = [r["params"]["DiskId"] for r in emulator.requests if r["action"] == "DetachDisk"]
        assert detached == ["d-web-01-data"]
        guest = emulator.state()["Emulator"]["Guests"]["i-files-01"]
        assert [m["Mounted"] for m in guest["Mounts"] if m["DiskId"] == "d-files-01-data"] == [True]
        assert [job.outcome for job in app.jobs.jobs] == ["done"]
