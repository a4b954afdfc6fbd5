"""Sort by column (issue 12, as in k9s): a click on a header sorts by it, again reverses; s / S do the same
from the keyboard; the order is the values' meaning; the cursor stays on its row (by id), marks, the filter
and a refresh keep the order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import browse, click_header, settle, type_text

from ecs_detach.emulator import Emulator
from tui.app import EcsDetachApp
from tui.rows import MARK, disk_columns, disk_rows, instance_columns, instance_rows
from tui.widgets.tables import RowTable, SortOrder, following_order, next_order, sort_rows


def _sizes(emulator: Emulator) -> dict[str, int]:
    return {d["DiskId"]: int(d["Size"]) for d in emulator.state()["Disks"]}


def test_sizes_sort_by_number_and_statuses_in_use_then_moving_then_at_rest(emulator: Emulator) -> None:
    from ecs_detach.models import Disk

    disks = [Disk.from_api(raw) for raw in emulator.state()["Disks"] if raw["RegionId"] == "cn-hangzhou"]
    rows = disk_rows(disks, with_instance=True)
    columns = disk_columns(with_instance=True)
    by_size = [row.key for row in sort_rows(columns, rows, SortOrder("size"))]
    sizes = _sizes(emulator)
    assert [sizes[key] for key in by_size] == sorted(sizes[key] for key in by_size)  # 40 before 100, 2000
    assert by_size[-3:] == ["d-bigdata-01-hdd1", "d-bigdata-01-hdd2", "d-bigdata-01-hdd3"]  # ties: as listed
    descending = [row.key for row in sort_rows(columns, rows, SortOrder("size", descending=True))]
    assert [sizes[key] for key in descending] == sorted((sizes[key] for key in by_size), reverse=True)
    statuses = [row.fields["status"] for row in sort_rows(columns, rows, SortOrder("status"))]
    groups = [{"in_use": 0, "attaching": 1, "detaching": 1, "available": 2}[s] for s in statuses]
    assert groups == sorted(groups) and set(groups) == {0, 1, 2}


def test_instance_names_sort_as_read_and_an_unknown_column_keeps_the_order(emulator: Emulator) -> None:
    from ecs_detach.models import Disk, Instance

    instances = [Instance.from_api(raw) for raw in emulator.state()["Instances"]]
    disks = [Disk.from_api(raw) for raw in emulator.state()["Disks"]]
    rows = instance_rows(instances, disks)
    by_disks = [row.fields["disks"] for row in sort_rows(instance_columns(), rows, SortOrder("disks"))]
    assert [int(count) for count in by_disks] == sorted(int(count) for count in by_disks)
    assert sort_rows(instance_columns(), rows, SortOrder("no-such-column")) == rows


def test_a_click_again_reverses_and_s_walks_the_columns_then_back_to_as_listed() -> None:
    assert next_order(None, "size") == SortOrder("size")
    assert next_order(SortOrder("size"), "size") == SortOrder("size", descending=True)
    assert next_order(SortOrder("size", descending=True), "size") == SortOrder("size")
    assert next_order(SortOrder("size", descending=True), "name") == SortOrder("name")
    shown = ["id", "name", "status"]
    assert following_order(None, shown) == SortOrder("id")
    assert following_order(SortOrder("name", descending=True), shown) == SortOrder("status")
    assert following_order(SortOrder("status"), shown) is None
    assert following_order(SortOrder("hidden"), shown) == SortOrder("id")


def header_labels(table: RowTable) -> dict[str, str]:
    return {str(column.key.value): column.label.plain for column in table.ordered_columns}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("size", "column", "label"), [((80, 24), "status", "Status"), ((150, 36), "size", "Size")]
)
async def test_a_header_click_sorts_the_all_disks_view_keeping_cursor_and_marks(
    make_app: Callable[..., EcsDetachApp],
    emulator: Emulator,
    size: tuple[int, int],
    column: str,
    label: str,
) -> None:
    """Below 150 columns Size is given up for what decides safety (the multi-attach disk's instances are
    long): at 80x24 Status is sorted."""
    app = make_app()
    ranks = {"In_use": 0, "Attaching": 1, "Detaching": 1, "Available": 2}
    values = {
        d["DiskId"]: int(d["Size"]) if column == "size" else ranks[d["Status"]]
        for d in emulator.state()["Disks"]
    }
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = browse(app)
        table = screen.query_one("#all-disks", RowTable)
        listed = list(table.row_keys)
        assert table.select_key("d-spare-02")
        await pilot.press("space")  # marks d-spare-02; the cursor moves to the next row
        table.select_key("d-cluster-shared")
        await pilot.press("space")
        table.select_key("d-web-03-archive")
        await pilot.pause()

        await click_header(pilot, table, column)
        assert header_labels(table)[column] == f"{label} ▲"
        assert [values[key] for key in table.row_keys] == sorted(values[key] for key in listed)
        assert sorted(table.row_keys) == sorted(listed)
        assert table.current_key == "d-web-03-archive"  # the same disk, at another index
        assert screen.marked == {"d-spare-02", "d-cluster-shared"}
        marked_cells = {key for key in table.row_keys if str(table.get_cell(key, "id")).startswith(MARK)}
        assert marked_cells == {"d-spare-02", "d-cluster-shared"}

        await click_header(pilot, table, column)
        assert header_labels(table)[column] == f"{label} ▼"
        assert [values[key] for key in table.row_keys] == sorted((values[k] for k in listed), reverse=True)
        assert table.current_key == "d-web-03-archive"
        chosen = screen.chosen
        assert chosen is not None and chosen.disk.disk_id == "d-web-03-archive"


@pytest.mark.anyio
async def test_a_refresh_keeps_the_sort_the_filter_and_the_cursor_on_the_same_disk(
    make_app: Callable[..., EcsDetachApp], emulator: Emulator
) -> None:
    app = make_app()
    sizes = _sizes(emulator)
    roles = {d["DiskId"]: d["Type"] for d in emulator.state()["Disks"]}
    async with app.run_test(size=(150, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = browse(app)
        table = screen.query_one("#all-disks", RowTable)
        await pilot.press("slash")
        await type_text(pilot, "role=data")
        await pilot.press("enter")
        await settle(pilot, 1)
        filtered = set(table.row_keys)
        assert filtered and {roles[key] for key in filtered} == {"data"}
        await click_header(pilot, table, "size")
        await click_header(pilot, table, "size")  # descending: the largest first
        table.select_key("d-web-01-data")
        await pilot.pause()

        emulator.advance(120)  # the transitional disks settle: a full read changes rows
        screen.load(stream=False)  # what the 30 s background read does
        await settle(pilot)
        assert header_labels(table)["size"] == "Size ▼"
        assert set(table.row_keys) == filtered  # the filter still applies
        assert [sizes[key] for key in table.row_keys] == sorted((sizes[k] for k in filtered), reverse=True)
        assert table.current_key == "d-web-01-data"

        screen.refresh_moving(("d-web-01-data", "i-web-01"))  # a read by id (FleetPatched)
        await settle(pilot)
        assert header_labels(table)["size"] == "Size ▼"
        assert table.current_key == "d-web-01-data"


@pytest.mark.anyio
async def test_s_and_shift_s_sort_the_instances_from_the_keyboard_and_the_disks_follow_the_cursor(
    make_app: Callable[..., EcsDetachApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = browse(app)
        table = screen.query_one("#instances", RowTable)
        table.select_key("i-web-02")
        await pilot.pause()
        listed = list(table.row_keys)
        await pilot.press("s")  # the first column: Instance ID
        await settle(pilot, 1)
        assert header_labels(table)["id"] == "Instance ID ▲"
        assert table.row_keys == sorted(listed)
        assert table.current_key == "i-web-02"
        await pilot.press("S")
        await settle(pilot, 1)
        assert header_labels(table)["id"] == "Instance ID ▼"
        assert table.row_keys == sorted(listed, reverse=True)
        assert table.current_key == "i-web-02"
        title = str(screen.query_one("#instance-disks-title").render())
        assert "i-web-02" in title  # the disks shown are still the instance under the cursor
        for _ in range(len(table.columns)):  # every column shown, then back to as listed
            await pilot.press("s")
        await settle(pilot, 1)
        assert table.sorted_by is None
        assert table.row_keys == listed
        assert not any(label.endswith(("▲", "▼")) for label in header_labels(table).values())
        assert app.is_running
