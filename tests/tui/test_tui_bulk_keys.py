"""The bulk screen's keys do what its words say, at 80x24: "d on it" opens the wizard on the disk
highlighted (and the preflight is read again on the way back), and `i` is offered only when a marked disk is
multi-attach (found walking every kind of disk through the bulk screen)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import go_to_disk, screen_text, settle

from tui.app import EcsDetachApp
from tui.screens.bulk import BulkDetachScreen
from tui.screens.operations import OperationsScreen
from tui.screens.wizard import DetachWizard
from tui.widgets.tables import RowTable

pytestmark = pytest.mark.anyio

SMALL = (80, 24)


async def _bulk(pilot: object, instance: str, first: str, marks: int) -> BulkDetachScreen:
    await settle(pilot)  # type: ignore[arg-type]
    await go_to_disk(pilot, instance, first)  # type: ignore[arg-type]
    await pilot.press(*["space"] * marks, "D")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    screen = pilot.app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, BulkDetachScreen)
    return screen


async def test_d_on_a_disk_left_for_the_wizard_opens_the_wizard_on_it(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        # d-files-01-data (mounted in its guest) and d-files-01-app, below it
        screen = await _bulk(pilot, "files-01", "d-files-01-data", 2)
        table = screen.query_one("#bulk-table", RowTable)
        assert "d on it unmounts it first" in screen_text(app)
        for _ in range(len(table.row_keys)):
            if table.current_key == "d-files-01-data":
                break
            await pilot.press("down")
        assert table.current_key == "d-files-01-data"
        await pilot.press("d")
        await settle(pilot, 6)
        wizard = app.screen
        assert isinstance(wizard, DetachWizard)
        assert wizard.disk_id == "d-files-01-data" and wizard.instance_id == "i-files-01"
        assert "Detach disk d-files-01-data" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot, 6)
        assert app.screen is screen
        assert "Checking every disk" not in screen_text(app)  # read again, and shown
        assert {p.disk_id for p in screen.plans} == {"d-files-01-data", "d-files-01-app"}


async def test_i_is_offered_only_when_a_marked_disk_is_multi_attach(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await _bulk(pilot, "web-02", "d-web-02-data", 1)
        footer = screen_text(app).splitlines()[-1]
        assert "i Choose instance" not in footer and "d Wizard" in footer
        await pilot.press("escape")
        await settle(pilot)
        await _bulk(pilot, "cluster-node-1", "d-cluster-shared", 1)  # with d-web-02-data, still marked
        assert "i Choose instance" in screen_text(app).splitlines()[-1]


async def test_the_footer_at_80x24_keeps_back_wizard_instance_and_jobs(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    """With a multi-attach disk marked, every key the bulk screen offers fits the 80x24 footer whole: o
    (the jobs) was cut at the edge since d joined it."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await _bulk(pilot, "cluster-node-1", "d-cluster-shared", 1)
        footer = screen_text(app).splitlines()[-1]
        keys = ("esc Back", "d Wizard", "i Choose instance", "o Jobs", "q Quit")
        assert [key for key in keys if key not in footer] == [], footer
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OperationsScreen)
