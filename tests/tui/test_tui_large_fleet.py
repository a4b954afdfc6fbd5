"""A large fleet in the TUI: the filter keeps its meaning on the fast path, the disks of an instance come
from one index, and typing into the filter narrows the table with no fixed pause (issue 7)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tui_helpers import SIZE, browse, build_app, screen_text, settle

from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.models import Disk
from tui.filtering import filter_rows, fuzzy_match, parse_query
from tui.refresh import patched
from tui.rows import Row, disks_by_instance, disks_of, make_row, patch_disk_index
from tui.screens.browse import LARGE_FLEET_ROWS
from tui.widgets.tables import ROW_LIMIT, RowTable

_WORDS = st.text(alphabet="abw-1 0é.", min_size=0, max_size=12)
_TERMS = _WORDS.filter(lambda text: bool(text.split()) and text.split()[0][0] != "-")  # "-x" negates


def _field_by_field(rows: list[Row], text: str) -> list[str]:
    """What the filter means for one plain term: a substring of the row, or its letters in order in
    ONE field."""
    needle = text.lower()
    return [
        r.key
        for r in rows
        if needle in r.haystack or any(fuzzy_match(needle, value) for value in r.fields.values())
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_WORDS, _WORDS, _WORDS), min_size=1, max_size=8), _TERMS)
def test_fuzzy_filter_matches_within_one_field_as_before(
    cells: list[tuple[str, str, str]], text: str
) -> None:
    rows = [
        make_row(f"k{n}", list(values), dict(zip(("id", "name", "zone"), values, strict=True)))
        for n, values in enumerate(cells)
    ]
    term = text.split()[0]
    assert [r.key for r in filter_rows(rows, parse_query(term))] == _field_by_field(rows, term)


def test_fuzzy_filter_never_joins_letters_across_fields() -> None:
    row = make_row("i-1", ["web-0", "cn-hangzhou-2"], {"name": "web-0", "zone": "cn-hangzhou-2"})
    assert filter_rows([row], "web-02") == []
    assert filter_rows([row], "wb0") == [row]
    assert filter_rows([row], "hz2") == [row]


def _disk(disk_id: str, *attachments: tuple[str, str], system: bool = False) -> Disk:
    return Disk.from_api(
        {
            "DiskId": disk_id,
            "Type": "system" if system else "data",
            "Status": "In_use" if attachments else "Available",
            "RegionId": "cn-hangzhou",
            "ZoneId": "cn-hangzhou-h",
            "Attachments": {"Attachment": [{"InstanceId": i, "Device": device} for i, device in attachments]},
        }
    )


def test_disks_by_instance_gives_what_disks_of_gives_for_every_instance() -> None:
    disks = [
        _disk("d-3", ("i-1", "/dev/xvdc")),
        _disk("d-1", ("i-1", "/dev/xvda"), system=True),
        _disk("d-2", ("i-1", "/dev/xvdb"), ("i-2", "/dev/xvdd")),  # multi-attach: under both
        _disk("d-4"),
        _disk("d-5", ("i-2", "/dev/xvda"), system=True),
    ]
    index = disks_by_instance(disks)
    assert set(index) == {"i-1", "i-2"}
    for instance_id in ("i-1", "i-2"):
        assert index[instance_id] == disks_of(disks, instance_id)
    assert [d.disk_id for d in index["i-1"]] == ["d-1", "d-2", "d-3"]


_INSTANCES = st.sampled_from(["i-1", "i-2", "i-3"])
_DEVICES = st.sampled_from(["/dev/xvda", "/dev/xvdb", "/dev/xvdc"])
# A disk as a read finds it: attached to up to two instances (multi-attach), or to none.
_DISK_READ = st.tuples(
    st.sampled_from([f"d-{n}" for n in range(6)]),
    st.lists(st.tuples(_INSTANCES, _DEVICES), max_size=2, unique_by=lambda a: a[0]),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_DISK_READ, max_size=6, unique_by=lambda d: d[0]),
    st.lists(_DISK_READ, max_size=3, unique_by=lambda d: d[0]),
    st.sets(st.sampled_from([f"d-{n}" for n in range(6)]), max_size=2),
)
def test_a_read_by_id_patches_the_disk_index_as_a_new_index_would_be(
    listed: list[tuple[str, list[tuple[str, str]], bool]],
    read: list[tuple[str, list[tuple[str, str]], bool]],
    gone: set[str],
) -> None:
    before = [_disk(disk_id, *attached, system=system) for disk_id, attached, system in listed]
    fresh = [_disk(disk_id, *attached, system=system) for disk_id, attached, system in read]
    gone -= {d.disk_id for d in fresh}  # a disk read is not gone
    index = disks_by_instance(before)
    patch_disk_index(index, {d.disk_id: d for d in before}, fresh, gone)
    after = patched(before, fresh, gone)
    assert index == disks_by_instance(after)
    assert patched(before, fresh, gone, {d.disk_id: d for d in before}) == after


@pytest.fixture
def large_emulator() -> Iterator[Emulator]:
    fleet: Any = generate_fleet(instances=1_200, disks=1_500, regions=1)
    yield Emulator(fleet=fleet, clock=ManualClock())
    gc.unfreeze()  # the app froze what was alive after the load; give this process its collector back


@pytest.mark.anyio
async def test_typing_into_the_filter_of_a_large_fleet_narrows_the_table(
    large_emulator: Emulator, tmp_path: Path
) -> None:
    app = build_app(large_emulator, tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        instances = screen.query_one("#instances", RowTable)
        assert len(screen.instances) + len(screen.disks) >= LARGE_FLEET_ROWS
        assert instances.row_count == ROW_LIMIT
        assert gc.get_freeze_count() > 0  # a large fleet's objects are left out of full collections
        # the table's scrollable size still covers every row and column (cells are not measured any more)
        assert instances.virtual_size.height == ROW_LIMIT + 1
        assert instances.virtual_size.width == sum(
            c.get_render_width(instances) for c in instances.columns.values()
        )
        assert f"listing {ROW_LIMIT} of them" in screen_text(app)

        await pilot.press("slash", *"web-0004")
        await pilot.pause()  # the keys' messages handled and one refresh: no fixed typing pause to wait out

        expected = _field_by_field(screen._instance_rows, "web-0004")
        assert 0 < len(expected) < ROW_LIMIT
        assert instances.row_keys == expected
        assert f"filter “web-0004”: {len(expected)} match" in screen_text(app)
        current = screen.current_instance
        assert current is not None
        disks = screen.query_one("#instance-disks", RowTable)
        assert disks.row_keys == [d.disk_id for d in disks_of(screen.disks, current.instance_id)]
