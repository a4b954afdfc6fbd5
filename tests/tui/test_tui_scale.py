"""The TUI at the scale of a real account (issue 18): the first page at once, what moves read by id on the
fast cadence, the whole listing on the slow one, and a Throttling reply slowing the refresh down.

Time is the emulator's manual clock: a test moves it and calls ``BrowseScreen.poll_refresh`` (the app's
timer does the same in real time); the calls are counted from the emulator's request log.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import SIZE, browse, build_app, screen_text, settle, type_text

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.models import Disk, Instance
from tui.app import EcsDetachApp
from tui.filtering import parse_query, server_filters
from tui.refresh import (
    MAX_SLOWDOWN,
    ListingPage,
    MovingIds,
    Read,
    RefreshState,
    patched,
    read_listing,
    transitional_ids,
    with_followed,
)
from tui.screens.browse import BrowseScreen
from tui.widgets.tables import RowTable

pytestmark = pytest.mark.anyio

REGION = "cn-hangzhou"


def _fleet(instances: int, disks: int, *, starting: int | None = None) -> dict[str, Any]:
    """One region holding every instance and disk; ``starting``: that instance stays Starting an hour."""
    fleet = generate_fleet(instances=instances, disks=disks, regions=1)
    fleet["Emulator"]["Durations"] = {"StartInstance": 3600}
    if starting is not None:
        fleet["Instances"][starting]["Status"] = "Stopped"
    return fleet


def _describes(emulator: Emulator, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in emulator.requests[since:] if str(r.get("action", "")).startswith("Describe")]


def _live_app(emulator: Emulator, tmp_path: Path, **kw: Any) -> EcsDetachApp:
    """The app with its refresh loop on. Its timer polls in real time, but what is due depends only on
    the manual clock, which the test moves (then calls ``poll_refresh`` itself)."""
    app = build_app(emulator, tmp_path / "journal.jsonl", **kw)
    app.live_refresh = True
    client = EcsClient.for_emulator(emulator, sleep=lambda _seconds: None)  # retries: no real waiting
    app.services = app.services.with_client(client)
    return app


async def _watch(pilot: Any, emulator: Emulator, screen: BrowseScreen, seconds: int, step: int = 2) -> None:
    for _ in range(seconds // step):
        emulator.advance(step)
        screen.poll_refresh()
        await settle(pilot, rounds=2)


async def test_watching_2000_instances_with_one_starting_costs_at_most_4_full_loads_a_minute(
    tmp_path: Path,
) -> None:
    emulator = Emulator(fleet=_fleet(2000, 4000, starting=7), clock=ManualClock())
    client = EcsClient.for_emulator(emulator)
    starting = client.list_instances()[7].instance_id
    client.start_instance(starting)
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        assert len(screen.instances) == 2000 and screen.instance(starting).status == "Starting"  # type: ignore[union-attr]
        before = len(emulator.requests)
        full_load = len(_describes(emulator, since=2))  # the first read (after the two calls above)
        await _watch(pilot, emulator, screen, 60)
        watched = _describes(emulator, since=before)
        by_id = [r for r in watched if "InstanceIds" in r.get("params", {})]
        assert len(watched) <= 4 * full_load, (len(watched), full_load)
        assert len(by_id) >= 25  # the Starting instance was followed every 2 s, by id
        assert screen.instance(starting).status == "Starting"  # type: ignore[union-attr]
        assert "refreshed" in screen_text(app)


async def test_a_refresh_keeps_the_cursor_the_marks_and_the_filter(tmp_path: Path) -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        await pilot.press("2")  # every disk
        await settle(pilot)
        await pilot.press("down", "down", "space")  # mark the third disk, the cursor moves to the fourth
        await settle(pilot)
        marked = set(screen.marked)
        chosen = screen.chosen
        assert marked and chosen is not None
        table = screen.query_one("#all-disks", RowTable)
        # Another tool stops an instance: it is Stopping now, so the fast cadence reads it by id.
        running = next(i for i in screen.instances if i.status == "Running")
        EcsClient.for_emulator(emulator).stop_instance(running.instance_id)
        await _watch(pilot, emulator, screen, 40)  # fast reads, and a full one at 30 s
        assert screen.marked == marked
        assert screen.chosen is not None and screen.chosen.disk.disk_id == chosen.disk.disk_id
        assert table.current_key == chosen.disk.disk_id
        assert screen.instance(running.instance_id).status != "Running"  # type: ignore[union-attr]


async def test_a_throttling_reply_slows_the_refresh_instead_of_failing_it(tmp_path: Path) -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock())
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        shown = len(screen.instances)
        emulator.set_faults(rate=1.0, kinds=["throttling"], actions=["DescribeInstances", "DescribeDisks"])
        emulator.advance(31)
        screen.poll_refresh()
        await settle(pilot)
        notes = [n.title for n in app._notifications]
        assert "Refresh slowed down" in notes and not any("Could not" in title for title in notes)
        assert "slowed down: the API is throttling" in screen_text(app)
        assert len(screen.instances) == shown  # what was shown stays
        calls = len(emulator.requests)
        emulator.advance(31)  # the slow cadence is now 60 s: no full read yet (what moves, by id, only)
        screen.poll_refresh()
        await settle(pilot)
        listings = [r for r in emulator.requests[calls:] if not {"InstanceIds", "DiskIds"} & set(r["params"])]
        assert listings == []
        emulator.clear_faults()
        await pilot.press("r")  # r reads at once, throttled or not
        await settle(pilot)
        assert len(emulator.requests) > calls
        assert "refreshed 0 s ago" in screen_text(app)


class _GatedClient(EcsClient):
    """The emulator's client whose listing of instances waits after its first page until ``gate`` is set:
    the screen is looked at while the read is under way."""

    gate = threading.Event()

    def instance_pages(self, **kw: Any) -> Iterator[tuple[list[Instance], int]]:
        for number, page in enumerate(super().instance_pages(**kw)):
            if number == 1:
                self.gate.wait(timeout=30)
            yield page


async def test_the_first_page_shows_at_once_and_the_operator_can_filter_while_it_loads(
    tmp_path: Path,
) -> None:
    emulator = Emulator(fleet=_fleet(450, 900), clock=ManualClock())
    app = _live_app(emulator, tmp_path)
    _GatedClient.gate = threading.Event()
    app.services = app.services.with_client(_GatedClient.for_emulator(emulator))
    async with app.run_test(size=SIZE) as pilot:
        try:
            await settle(pilot, workers=False)
            screen = browse(app)
            table = screen.query_one("#instances", RowTable)
            assert table.row_count == 100 and "loading" in screen_text(app)
            assert "of 7 pages" in screen_text(app)  # 5 pages of instances, 2 of disks
            await pilot.press("down")
            wanted = screen.current_instance
            assert wanted is not None
            await pilot.press("slash")
            await type_text(pilot, wanted.instance_id)
            await settle(pilot, workers=False)
            assert table.row_keys == [wanted.instance_id]
        finally:
            _GatedClient.gate.set()
        await settle(pilot)
        assert len(screen.instances) == 450 and "loading" not in screen_text(app)
        assert table.row_keys == [wanted.instance_id]  # the filter still applies
        assert screen.filter_text == wanted.instance_id


class _HeldFirstPage(EcsClient):
    """Its first page of instances waits until the screen's on_mount began (``gate``): the page comes
    while the screen is being shown, after its widgets were built."""

    gate = threading.Event()

    def instance_pages(self, **kw: Any) -> Iterator[tuple[list[Instance], int]]:
        pages = super().instance_pages(**kw)
        self.gate.wait(timeout=30)
        yield from pages


async def test_the_first_frame_shows_a_first_page_that_came_while_the_screen_mounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = Emulator(fleet=_fleet(300, 600), clock=ManualClock())
    app = _live_app(emulator, tmp_path)
    _HeldFirstPage.gate = threading.Event()
    app.services = app.services.with_client(_HeldFirstPage.for_emulator(emulator))
    mount = BrowseScreen.on_mount

    async def mounting(self: BrowseScreen) -> None:
        _HeldFirstPage.gate.set()
        shown = mount(self)
        if inspect.isawaitable(shown):
            await shown

    rows_in_frames: list[int] = []
    paint = BrowseScreen._compositor_refresh

    def painted(self: BrowseScreen) -> None:
        paint(self)
        rows_in_frames.append(self.query_one("#instances", RowTable).row_count)

    monkeypatch.setattr(BrowseScreen, "on_mount", mounting)
    monkeypatch.setattr(BrowseScreen, "_compositor_refresh", painted)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(browse(app).instances) == 300
    assert rows_in_frames and rows_in_frames[0] == 100, rows_in_frames[:5]


# --- the pure parts


def test_the_cadences_and_the_throttle_slowdown() -> None:
    state = RefreshState()
    assert state.next_read(0, moving=False) is Read.FULL
    state = state.read_full(0)
    assert state.next_read(1, moving=True) is Read.NOTHING
    assert state.next_read(2, moving=True) is Read.MOVING
    assert state.next_read(29, moving=False) is Read.NOTHING
    assert state.next_read(30, moving=False) is Read.FULL
    slowed = state.throttled(2, full=False)
    assert slowed.next_read(5, moving=True) is Read.NOTHING
    assert slowed.next_read(6, moving=True) is Read.MOVING
    for _ in range(10):
        slowed = slowed.throttled(2, full=True)
    assert slowed.slowdown == MAX_SLOWDOWN
    assert slowed.read_full(3).slowdown == MAX_SLOWDOWN / 2  # each clean read halves it back
    assert RefreshState().age(5) is None and state.read_moving(4).age(10) == 6


def test_moving_ids_are_the_transitional_ones_and_those_jobs_follow() -> None:
    instances = [
        Instance.from_api({"InstanceId": "i-1", "Status": "Starting", "RegionId": "r1"}),
        Instance.from_api({"InstanceId": "i-2", "Status": "Running", "RegionId": "r1"}),
    ]
    disks = [
        Disk.from_api({"DiskId": "d-1", "Status": "Detaching", "RegionId": "r1"}),
        Disk.from_api({"DiskId": "d-2", "Status": "In_use", "RegionId": "r2"}),
    ]
    regions = {"i-1": "r1", "i-2": "r1", "d-1": "r1", "d-2": "r2"}
    transitional = transitional_ids(instances, disks, default_region="r0")
    assert transitional == MovingIds({"r1": ["i-1"]}, {"r1": ["d-1"]})
    moving = with_followed(transitional, [("d-2", "i-2"), ("d-1", None)], lambda i: regions.get(i, "r0"))
    assert moving.instances == {"r1": ["i-1", "i-2"]}
    assert moving.disks == {"r1": ["d-1"], "r2": ["d-2"]}
    assert transitional.instances == {"r1": ["i-1"]}  # the listing's own ids are not changed by a job's
    assert not transitional_ids(instances[1:], disks[1:], default_region="r0")
    assert with_followed(MovingIds({}, {}), [("d-9", None)], lambda i: "r0").disks == {"r0": ["d-9"]}


@pytest.mark.parametrize("by_id", [False, True])
def test_a_read_by_id_replaces_in_place_and_drops_what_is_gone(by_id: bool) -> None:
    old = [Instance.from_api({"InstanceId": f"i-{n}", "Status": "Running"}) for n in range(4)]
    fresh = [Instance.from_api({"InstanceId": i, "Status": "Stopping"}) for i in ("i-1", "i-9")]
    known = {i.instance_id: i for i in old} if by_id else None
    out = patched(old, fresh, {"i-2", "i-9"}, known)  # i-9 is read: it is new, not gone
    assert [(i.instance_id, i.status) for i in out] == [
        ("i-0", "Running"),
        ("i-1", "Stopping"),
        ("i-3", "Running"),
        ("i-9", "Stopping"),
    ]
    assert out[0] is old[0] and out[1] is fresh[0]


def test_read_listing_reports_each_page_and_stops_when_told() -> None:
    emulator = Emulator(fleet=_fleet(250, 600), clock=ManualClock())
    client = EcsClient.for_emulator(emulator)
    seen: list[ListingPage] = []
    instances, disks = read_listing(client, lambda page: seen.append(page) is None)
    assert len(instances) == 250 and len(disks) == 600
    assert [p.pages_read for p in seen] == [1, 2, 3, 4, 5]
    assert seen[-1].pages_total == 5  # 3 pages of 100 instances, 2 of 500 disks
    calls = len(emulator.requests)
    read_listing(client, lambda page: False)
    assert len(emulator.requests) - calls <= 2  # each chain stops after its first page


class _OrderedClient(EcsClient):
    """Notes when each chain of a listing read is asked for."""

    events: list[str]

    def disk_pages(self, **kw: Any) -> Any:
        self.events.append("disks asked")
        return super().disk_pages(**kw)


def test_read_listing_asks_for_disks_once_the_first_page_of_instances_came() -> None:
    emulator = Emulator(fleet=_fleet(250, 600), clock=ManualClock())
    # Instances answer 20 ms late: a disks chain started at once would be asked for meanwhile. (The
    # order is what is asserted; the code alone guarantees it.)
    emulator.set_faults(latency_ms=20, actions=["DescribeInstances"])
    client = _OrderedClient.for_emulator(emulator)
    client.events = []

    def on_page(page: ListingPage) -> bool:
        if page.instances:
            client.events.append("instances shown")
        return True

    instances, disks = read_listing(client, on_page)
    assert len(instances) == 250 and len(disks) == 600
    assert client.events.index("instances shown") < client.events.index("disks asked")


class _HeldRest(threading.Event):
    """An event that notes each thread that starts waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.release()
        return super().wait(timeout)


def test_read_listing_reads_no_more_until_the_screen_painted_its_first_rows() -> None:
    emulator = Emulator(fleet=_fleet(350, 600), clock=ManualClock())
    client = EcsClient.for_emulator(emulator)
    painted = _HeldRest()
    pages: list[ListingPage] = []
    done: list[tuple[list[Instance], list[Disk]]] = []

    def read() -> None:
        done.append(read_listing(client, lambda page: pages.append(page) is None, rest_after=painted))

    reading = threading.Thread(target=read)
    reading.start()
    try:
        for _ in range(2):  # both chains, the instances' after its first page
            assert painted.waiting.acquire(timeout=30)
        assert len(pages) == 1 and len(_describes(emulator)) == 1
    finally:
        painted.set()
        reading.join(timeout=30)
    instances, disks = done[0]
    assert len(instances) == 350 and len(disks) == 600 and len(pages) == 6


class _FailingInstances(EcsClient):
    def instance_pages(self, **kw: Any) -> Iterator[tuple[list[Instance], int]]:
        raise RuntimeError("instances unreadable")


def test_a_failed_instances_chain_does_not_hold_the_disks() -> None:
    emulator = Emulator(fleet=_fleet(50, 100), clock=ManualClock())
    client = _FailingInstances.for_emulator(emulator)
    painted = threading.Event()  # never set by a screen: there is nothing to paint
    with pytest.raises(RuntimeError, match="instances unreadable"):
        read_listing(client, lambda page: True, rest_after=painted)
    assert painted.is_set()


def test_the_listing_is_held_packed_and_a_read_again_keeps_what_did_not_change() -> None:
    emulator = Emulator(fleet=_fleet(120, 240), clock=ManualClock())
    client = EcsClient.for_emulator(emulator)
    instances, disks = read_listing(client, lambda page: True)
    assert all(view._packed is not None for view in [*instances, *disks])
    assert instances[0].raw == client.get_instance(instances[0].instance_id).raw
    moved = next(d for d in disks if not d.is_system and d.instance_id)
    client.detach_disk(moved.disk_id, moved.instance_id)
    known = ({i.instance_id: i for i in instances}, {d.disk_id: d for d in disks})
    again, disks_again = read_listing(client, lambda page: True, known=known)
    assert sum(known[0][i.instance_id] is i for i in again) >= len(instances) - 1
    kept = [d for d in disks_again if known[1][d.disk_id] is d]
    assert len(kept) == len(disks) - 1
    assert next(d for d in disks_again if d.disk_id == moved.disk_id).status != moved.status


def test_read_listing_holds_the_collector_off_while_pages_come() -> None:
    import gc

    emulator = Emulator(fleet=_fleet(120, 200), clock=ManualClock())
    collecting: list[bool] = []
    was_enabled = gc.isenabled()  # the suite may run this with the collector off: on for this test
    gc.enable()
    try:
        client = EcsClient.for_emulator(emulator)
        read_listing(client, lambda page: collecting.append(gc.isenabled()) is None)
        assert collecting and not any(collecting)
        assert gc.isenabled()
    finally:
        if not was_enabled:
            gc.disable()


def test_the_filter_terms_the_api_applies_exactly() -> None:
    assert server_filters(parse_query("status:running web")) == {"Status": "Running"}
    assert server_filters(parse_query("status=stopped zone=cn-hangzhou-h")) == {
        "Status": "Stopped",
        "ZoneId": "cn-hangzhou-h",
    }
    # partial, negated, or named twice: left to the screen (the API would keep something else)
    assert server_filters(parse_query("status:stop zone:hangzhou -status:running")) == {}
    assert server_filters(parse_query("status:running status:stopped")) == {}


async def test_a_large_region_asks_the_api_to_filter_and_reads_everything_when_cleared(
    tmp_path: Path,
) -> None:
    emulator = Emulator(fleet=_fleet(1000, 2000), clock=ManualClock())
    every = EcsClient.for_emulator(emulator).list_instances()
    stopped = {i.instance_id for i in every if i.status == "Stopped"}
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        assert len(screen.instances) == 1000
        await pilot.press("slash")
        await type_text(pilot, "status:stopped")
        await pilot.press("enter")
        await settle(pilot)
        asked = [r["params"] for r in emulator.requests if r["action"] == "DescribeInstances"][-1]
        assert asked.get("Status") == "Stopped"
        assert {i.instance_id for i in screen.instances} == stopped and 0 < len(stopped) < 1000
        assert len(screen.disks) == 2000  # disks are always read whole
        assert "read by the API's filter: Status=Stopped" in screen_text(app)
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert len(screen.instances) == 1000 and "the API's filter" not in screen_text(app)


async def test_a_read_again_keeps_what_did_not_change_and_takes_what_did(tmp_path: Path) -> None:
    """A background read of the whole listing holds one copy of what did not move (memory at scale)."""
    emulator = Emulator(fleet=_fleet(300, 600), clock=ManualClock())
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)
        still, moved = screen.instances[0], screen.instances[1]
        still_row = screen._instance_rows[0]
        EcsClient.for_emulator(emulator).stop_instance(moved.instance_id)
        emulator.advance(30)
        screen.poll_refresh()  # the slow cadence: the whole listing again
        await settle(pilot)
        assert screen.instance(still.instance_id) is still
        assert screen._instance_rows[0] is still_row
        assert screen.instance(moved.instance_id) is not moved
        assert screen.instance(moved.instance_id).status == "Stopped"  # type: ignore[union-attr]
        assert len(screen.instances) == 300 and len(screen.disks) == 600


async def test_the_poll_follows_what_moves_as_the_listing_changes(tmp_path: Path) -> None:
    """What the fast cadence reads by id is worked out once per listing: a full read that brings a newly
    moving instance, and a read by id that finds it settled, each change what the next poll asks for."""
    fleet = _fleet(300, 600)
    fleet["Emulator"]["Durations"]["StopInstance"] = 10
    emulator = Emulator(fleet=fleet, clock=ManualClock())
    app = _live_app(emulator, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = browse(app)

        async def read_by_id() -> list[list[str]]:
            """The poll due after 2 s (what the app's timer does), and what it read by id."""
            emulator.advance(2)
            since = len(emulator.requests)
            screen.poll_refresh()
            await settle(pilot)
            return [
                _ids(r["params"]["InstanceIds"])
                for r in _describes(emulator, since)
                if "InstanceIds" in r["params"]
            ]

        assert await read_by_id() == []  # nothing moves: nothing read by id
        stopping = screen.instances[3].instance_id
        EcsClient.for_emulator(emulator).stop_instance(stopping)  # another tool stops it
        await pilot.press("r")  # the whole listing again: it is Stopping there
        await settle(pilot)
        assert screen.instance(stopping).status == "Stopping"  # type: ignore[union-attr]
        assert await read_by_id() == [[stopping]]
        assert screen.instance(stopping).status == "Stopping"  # type: ignore[union-attr]  # unchanged
        emulator.advance(8)
        assert await read_by_id() == [[stopping]]
        assert screen.instance(stopping).status == "Stopped"  # type: ignore[union-attr]  # settled
        assert await read_by_id() == []  # settled: no longer followed


def _ids(value: Any) -> list[str]:
    """``InstanceIds`` as the request log holds it: the JSON array the client sent, or a list."""
    return list(json.loads(value)) if isinstance(value, str) else list(value)
