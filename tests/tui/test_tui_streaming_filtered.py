"""The all-disks view's filtered read streams as the whole listing does (issue 18): the first page of what
the API's filter selects is shown at once, the rest fill in with "loading N of M pages", and the operator
moves and marks meanwhile. The slow cadence reads it again in the background, keeping what did not change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import SIZE, browse, build_app, screen_text, settle, type_text

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.errors import ServerError
from ecs_detach.models import Disk
from tui.filtering import filter_rows, parse_query
from tui.refresh import read_listing
from tui.screens.browse import BrowseScreen
from tui.widgets.tables import RowTable

pytestmark = pytest.mark.anyio


class _GatedFilteredDisks(EcsClient):
    """A filtered listing of disks (one asked with ``Category``) waits after its first page until
    ``gate`` is set: the screen is looked at while the read is under way."""

    gate = threading.Event()

    def disk_pages(self, **kw: Any) -> Iterator[tuple[list[Disk], int]]:
        filtered = "Category" in kw
        for number, page in enumerate(super().disk_pages(**kw)):
            yield page
            if filtered and number == 0:  # before the next page is asked for
                self.gate.wait(timeout=30)


class _FailingAfterFirstPage(EcsClient):
    """A filtered listing of disks answers its first page, then the service fails."""

    def disk_pages(self, **kw: Any) -> Iterator[tuple[list[Disk], int]]:
        filtered = "Category" in kw
        for number, page in enumerate(super().disk_pages(**kw)):
            yield page
            if filtered and number == 0:
                raise ServerError("InternalError", "The request processing has failed.", "R-1", 500)


def _fleet() -> dict[str, Any]:
    """1,000 instances and 3,000 disks in one region; about 2,000 disks are cloud_essd (5 pages of 500)."""
    return generate_fleet(instances=1000, disks=3000, regions=1)


def _view_keys(screen: BrowseScreen) -> list[str]:
    rows = screen._all_disk_rows
    query = parse_query(screen.filters["disks"], rows[0].fields if rows else ())
    return [r.key for r in filter_rows(rows, query)]


async def test_a_filtered_disk_read_shows_its_first_page_at_once_and_the_rest_as_it_comes(
    tmp_path: Path,
) -> None:
    emulator = Emulator(fleet=_fleet(), clock=ManualClock())
    every = EcsClient.for_emulator(emulator).list_disks()
    essd = sorted(d.disk_id for d in every if d.category == "cloud_essd")
    assert 1500 < len(essd) <= 2500
    app = build_app(emulator, tmp_path / "journal.jsonl")
    _GatedFilteredDisks.gate = threading.Event()
    app.services = app.services.with_client(_GatedFilteredDisks.for_emulator(emulator))
    async with app.run_test(size=SIZE) as pilot:
        screen = browse(app)
        try:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            since = len(emulator.requests)
            await pilot.press("slash")
            await type_text(pilot, "category=cloud_essd")
            await pilot.press("enter")
            await settle(pilot, workers=False)
            asked = [r["params"] for r in emulator.requests[since:] if r["action"] == "DescribeDisks"]
            assert [p.get("Category") for p in asked] == ["cloud_essd"]  # one page so far
            shown = _view_keys(screen)
            assert len(shown) == 500 and set(shown) <= set(essd)  # the first page, not the whole listing
            text = screen_text(app)
            assert "loading 1 of 5 pages" in text
            assert "read by the API's filter: Category=cloud_essd" in text
            # the operator moves and marks while the rest is read
            await pilot.press("down", "down")
            await pilot.press("space")
            await settle(pilot, workers=False)
            (marked,) = screen.marked
            assert marked in shown
        finally:
            _GatedFilteredDisks.gate.set()
        await settle(pilot)
        assert _view_keys(screen) == essd
        assert "loading" not in screen_text(app)
        assert screen.marked == {marked}
        table = screen.query_one("#all-disks", RowTable)
        assert table.current_key == shown[3]  # the cursor stayed where the operator left it
        assert len(screen.disks) == 3000  # the whole listing (the instances view's) is untouched


async def test_the_slow_cadence_reads_the_filtered_disks_again_keeping_what_did_not_change(
    tmp_path: Path,
) -> None:
    emulator = Emulator(fleet=_fleet(), clock=ManualClock())
    app = build_app(emulator, tmp_path / "journal.jsonl")
    app.live_refresh = True
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "category=cloud_essd")
        await pilot.press("enter")
        await settle(pilot)
        before = dict(screen._filtered.by_id)
        emulator.advance(31)
        screen.poll_refresh()
        await settle(pilot)
        after = screen._filtered.by_id
        assert after.keys() == before.keys()
        assert all(after[key] is before[key] for key in before)  # one copy of each disk, not two


def test_read_listing_with_disk_filters_reads_only_those_disks() -> None:
    emulator = Emulator(fleet=_fleet(), clock=ManualClock())
    client = EcsClient.for_emulator(emulator)
    pages: list[int] = []
    instances, disks = read_listing(
        client, lambda page: pages.append(page.pages_total) is None, disk_filters={"Category": "cloud_ssd"}
    )
    assert instances == [] and disks and all(d.category == "cloud_ssd" for d in disks)
    assert {r["action"] for r in emulator.requests} == {"DescribeDisks"}
    assert pages == [1]  # about 300 disks: one page, and no page of instances counted


async def test_the_all_regions_view_holds_its_listing_packed_and_a_read_again_keeps_what_did_not_change(
    tmp_path: Path,
) -> None:
    """The all-regions read holds replies packed as the single-region listing does (memory at scale), and
    its slow-cadence read again keeps the objects that did not change (one copy, rows not rebuilt)."""
    emulator = Emulator(fleet=generate_fleet(instances=300, disks=600, regions=3), clock=ManualClock())
    app = build_app(emulator, tmp_path / "journal.jsonl")
    app.live_refresh = True
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await pilot.press("a")
        await settle(pilot)
        assert screen.all_regions and len(screen.instances) == 300 and len(screen.disks) == 600
        assert all(view._packed is not None for view in [*screen.instances, *screen.disks])
        before = {i.instance_id: i for i in screen.instances}
        rows_before = {row.key: row for row in screen._instance_rows}
        emulator.advance(31)
        screen.poll_refresh()
        await settle(pilot)
        assert all(before[i.instance_id] is i for i in screen.instances)
        assert all(rows_before[row.key] is row for row in screen._instance_rows)  # not built again
        assert "300 instances in all regions" in screen_text(app)


async def test_a_filtered_read_that_fails_midway_shows_the_whole_listing_filtered_on_screen(
    tmp_path: Path,
) -> None:
    """Its first page was shown; the rest failed: the view does not pass a part off as the filter's
    result, it shows the whole listing's disks the filter keeps (read already) and says what failed."""
    emulator = Emulator(fleet=_fleet(), clock=ManualClock())
    essd = sorted(
        d.disk_id for d in EcsClient.for_emulator(emulator).list_disks() if d.category == "cloud_essd"
    )
    app = build_app(emulator, tmp_path / "journal.jsonl")
    app.services = app.services.with_client(_FailingAfterFirstPage.for_emulator(emulator))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "category=cloud_essd")
        await pilot.press("enter")
        await settle(pilot)
        assert sorted(_view_keys(screen)) == essd
        text = screen_text(app)
        assert "loading" not in text and "read by the API's filter" not in text
        notes = [n.title + " " + n.message for n in app._notifications]
        assert any(note.startswith("Could not read the disks") for note in notes), notes
