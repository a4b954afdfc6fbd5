"""The main screen: instances with their disks, a disks view across the region, a detail pane, a filter."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Label

from ecs_detach.errors import ThrottledError
from ecs_detach.models import Disk, Instance

from ..filtering import (
    ApiFilters,
    TagCounts,
    describe_api_filters,
    filter_rows,
    known_fields,
    parse_query,
    server_filters,
    within_tag_limit,
)
from ..formatting import error_text, plural
from ..messages import (
    FilteredDisksLoaded,
    FilteredDisksPage,
    FleetLoaded,
    FleetPage,
    FleetPatched,
    LoadFailed,
    RefreshThrottled,
)
from ..policy import FAST_REFRESH_SECONDS
from ..refresh import (
    ListingPage,
    MovingIds,
    Read,
    RefreshState,
    patched,
    read_listing,
    transitional_ids,
    unchanged_kept,
    with_followed,
)
from ..rows import (
    MARK,
    Row,
    disk_columns,
    disk_details,
    disk_row,
    disk_rows,
    disks_by_instance,
    instance_columns,
    instance_details,
    instance_row,
    listing_of,
    merge_disk_index,
    patch_disk_index,
    rows_patched,
)
from ..text import plain
from ..widgets.detail import DetailPane
from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.tables import ROW_LIMIT, RowTable
from .base import AppScreen

if TYPE_CHECKING:
    pass


@dataclass(frozen=True, slots=True)
class ChosenDisk:
    """The disk an action key acts on, and the instance it is detached from (None: attached nowhere)."""

    disk: Disk
    instance_id: str | None


@dataclass
class _PendingPages:
    """Pages the reading thread read that the screen has not shown yet, with their rows and their disks
    by instance (built by that thread, so the screen only appends them)."""

    instances: list[Instance] = field(default_factory=list)
    disks: list[Disk] = field(default_factory=list)
    instance_rows: list[Row] = field(default_factory=list)
    disk_rows: list[Row] = field(default_factory=list)
    disk_index: dict[str, list[Disk]] = field(default_factory=dict)
    pages_read: int = 0
    pages_total: int = 0
    posted: bool = False
    """A ``FleetPage`` is on its way, or the screen takes the pages after its next frame: more join them."""

    def add(
        self, page: ListingPage, instance_rows: list[Row], disk_rows: list[Row], index: dict[str, list[Disk]]
    ) -> bool:
        """One page more (under the screen's lock); True when the screen is to be woken for it."""
        self.instances.extend(page.instances)
        self.disks.extend(page.disks)
        self.instance_rows.extend(instance_rows)
        self.disk_rows.extend(disk_rows)
        merge_disk_index(self.disk_index, index)
        self.pages_read, self.pages_total = page.pages_read, page.pages_total
        wake, self.posted = not self.posted, True
        return wake


@dataclass
class _FilteredDisks:
    """The all-disks view's own listing, read with the DescribeDisks parameters the API filters by
    (``filters`` empty: none, the view shows the whole listing)."""

    filters: ApiFilters = field(default_factory=dict)
    disks: list[Disk] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    by_id: dict[str, Disk] = field(default_factory=dict)
    pages_read: int = 0
    pages_total: int = 0
    """While a streamed read fills it: pages read and expected (0: not streaming)."""


def _filtered_disks(filters: ApiFilters, disks: Sequence[Disk], marked: set[str]) -> _FilteredDisks:
    return _FilteredDisks(
        dict(filters),
        list(disks),
        disk_rows(disks, marked=marked, with_instance=True),
        {d.disk_id: d for d in disks},
    )


WIDE_ENOUGH_FOR_DETAILS = 160
"""Terminals at least this wide show the detail pane from the start (i toggles it anywhere)."""
POLL_SECONDS = 0.5
"""How often (real time) the screen asks its refresh state what is due, and says how old the data is."""
FIRST_PAGE_WAIT_SECONDS = 0.25
"""How long the screen's first frame waits for the first page of the first read (real time): a page that
comes within it is in the first frame, instead of after Textual's start-up frames (issue 18)."""
LARGE_FLEET_ROWS = 2000
"""From this many rows (instances + disks), a filter keystroke is applied after the messages already queued
are handled (keys typed meanwhile join that one rebuild), rather than at once."""


class BrowseScreen(AppScreen[None]):
    """Browse instances and disks; every action starts from here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("1", "view('instances')", "Instances", id="view-instances"),
        Binding("2", "view('disks')", "All disks", id="view-disks"),
        Binding("r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("i", "toggle_detail", "Details", show=False, id="detail"),
        Binding("v", "toggle_raw", "Raw JSON", show=False),
        Binding("c", "check", "Check", id="check"),
        Binding("d", "detach", "Detach", id="detach"),
        Binding("space", "mark", "Mark", show=False, id="mark"),
        Binding("D", "bulk_detach", "Detach marked", show=False, id="bulk-detach"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("m", "move", "Move", show=False, id="move"),
        Binding("g", "pick_region", "Region", id="region"),
        Binding("a", "all_regions", "All regions", show=False, id="all-regions"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.instances: list[Instance] = []
        self.disks: list[Disk] = []
        self.all_regions = False
        self.region_errors: dict[str, str] = {}
        self.view = "instances"
        self.filters = {"instances": "", "disks": ""}
        """Each view's own filter: one typed in a view never narrows the other."""
        self.detached_here: dict[str, str] = {}
        """disk id -> the instance this session detached it from: it stays listed there (marked detached)
        so that the cursor, and u, stay on it."""
        self.marked: set[str] = set()
        self._instance_rows: list[Row] = []
        self._disk_rows: list[Row] = []
        self._instances_by_id: dict[str, Instance] = {}
        self._disks_by_id: dict[str, Disk] = {}
        self._disks_by_instance: dict[str, list[Disk]] = {}
        self._refresh = RefreshState()
        self._reading = False
        """A read of the listing is in flight: the next one waits for it."""
        self._reading_moving = False
        """A read by id of what moves is in flight."""
        self._generation = 0
        """Counts the listing reads started: pages of an older one are dropped."""
        self._loaded_scope: tuple[str, bool] | None = None
        self._streamed_instances: list[Instance] = []
        self._streamed_disks: list[Disk] = []
        self._pages_read = 0
        self._pages_total = 0
        """While a streamed read fills the listing: pages read and expected (0: not streaming)."""
        self._status: tuple[str, ...] = ()
        """What ``_update_status`` said, part by part."""
        self._pending = _PendingPages()
        self._pending_lock = threading.Lock()
        self._rest_after = threading.Event()
        """Set once a streamed read's first rows are painted: the rest of the read waits for it."""
        self._first_page: asyncio.Event | None = None
        """Set (from the reading thread) when the first read has a page to show, or ended."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._api_filters: ApiFilters = {}
        """What DescribeInstances is asked to filter (a large region, an instances filter it can apply)."""
        self._disk_api_filters: ApiFilters = {}
        """What DescribeDisks is asked to filter for the all-disks view (a large region); the whole listing,
        which the instances view uses, is never read with them."""
        self._filtered = _FilteredDisks()
        self._filtered_pending = _PendingPages()
        """Pages of the all-disks view's streamed filtered read not shown yet (under ``_pending_lock``)."""
        self._filtered_generation = 0
        self._tag_counts: dict[str, TagCounts] = {}
        """Each view's tag counts from its last read no API filter narrowed, in this region (issue 18)."""
        self._reading_filtered = False
        self._whole_stale = False
        """The slow cadence read the all-disks view's filtered disks instead of the whole listing: the
        instances view reads it again when shown."""
        self._filter_pending = False
        self._disks_shown_for: str | None = None
        """The instance whose disks ``#instance-disks`` lists for the fleet last loaded."""
        self.loaded = False
        self._transitional: tuple[tuple[object, ...], tuple[int, ...], MovingIds] | None = None
        """The listing walked last (its lists and the filtered listing, their lengths) and its
        transitional ids."""

    @property
    def filter_text(self) -> str:
        """The filter of the view on screen."""
        return self.filters[self.view]

    @filter_text.setter
    def filter_text(self, value: str) -> None:
        self.filters[self.view] = value

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "view":
            return parameters[0] != self.view  # the footer offers the other view only
        return True

    # --- layout

    def compose(self) -> ComposeResult:
        # The first read starts before the widgets are built (issue 18): its first page comes while they
        # are, and on_mount shows it, so the first frame has rows.
        self._loop, self._first_page = asyncio.get_running_loop(), asyncio.Event()
        self.load()
        # What the first screen does not show is built when first asked for: the all-disks view (2) by
        # _ensure_disks_view, the filter box (/) by _ensure_filter_box.
        yield IdentityBar(self.ecs_app.identity, id="identity")
        with Horizontal(id="body"):
            with ContentSwitcher(initial="instances-view", id="views"), Vertical(id="instances-view"):
                yield Label("Instances", id="instances-title", classes="pane-title")
                yield RowTable(id="instances")
                yield Label("Disks", id="instance-disks-title", classes="pane-title")
                yield RowTable(id="instance-disks")
            yield DetailPane(id="detail")
        yield Label("Loading…", id="status-line")
        yield KeyFooter()

    async def _ensure_disks_view(self) -> None:
        views = self.query_one("#views", ContentSwitcher)
        if not views.query("#disks-view"):
            title = Label("Disks", id="disks-title", classes="pane-title")
            await views.mount(Vertical(title, RowTable(id="all-disks"), id="disks-view"))

    async def _ensure_filter_box(self) -> Input:
        boxes = self.query("#filter").results(Input)
        for box in boxes:
            return box
        box = Input(placeholder="filter: text, field:value, -negate   (enter: keep, esc: clear)", id="filter")
        await self.mount(box, before="#status-line")
        return box

    async def on_mount(self) -> None:
        self.query_one(DetailPane).reveal(self.app.size.width >= WIDE_ENOUGH_FOR_DETAILS)
        self.query_one("#instances", RowTable).focus()
        if self._first_page is not None:  # Textual's first frame comes after this handler: with rows
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_page.wait(), FIRST_PAGE_WAIT_SECONDS)
        self._fleet_page(FleetPage(self._generation))  # the pages read while the widgets were built
        if self.ecs_app.live_refresh:
            self.set_interval(POLL_SECONDS, self.poll_refresh)

    # --- loading (issue 18: the first page at once; then what moves by id, the whole listing seldom)

    @property
    def _scope(self) -> tuple[str, bool]:
        return (self.ecs_app.services.client.region_id, self.all_regions)

    def _signal_first_page(self) -> None:
        """From the reading thread: the first read has a page to show, or it ended (on_mount waits)."""
        first, loop = self._first_page, self._loop
        if first is None or loop is None or first.is_set():
            return
        with contextlib.suppress(RuntimeError):  # the app is closing: its loop is gone
            loop.call_soon_threadsafe(first.set)

    def load(self, *, stream: bool | None = None) -> None:
        """Read the whole listing: streamed page by page (the first one shown at once) for a first read or
        a new region, else in the background and applied when complete."""
        if stream is None:
            stream = not self.loaded or self._loaded_scope != self._scope
        self._generation += 1
        self._reading = True
        self._rest_after.set()  # an older read waits no longer
        self._rest_after = threading.Event()
        if stream:  # nothing shown so far belongs to what is read now
            with self._pending_lock:
                self._pending = _PendingPages()
            self._loaded_scope = self._scope
            self.loaded = False
            self._streamed_instances, self._streamed_disks = [], []
            self._instance_rows, self._disk_rows = [], []
            self._instances_by_id, self._disks_by_id, self._disks_by_instance = {}, {}, {}
            self._pages_read, self._pages_total = 0, 0
            self._drop_filtered()
            self._disk_api_filters = {}
            self._tag_counts = {}
        self._read_listing(self._generation, stream, self._rest_after)

    @work(thread=True, exclusive=True, group="load")
    def _read_listing(self, generation: int, stream: bool, rest_after: threading.Event) -> None:
        client = self.ecs_app.services.client
        try:
            if self.all_regions:
                self._read_all_regions(stream)
                return
            filters = dict(self._api_filters)
            instances, disks = read_listing(
                client,
                lambda page: self._page_read(generation, page, stream),
                instance_filters=filters,
                known=None if stream else (self._instances_by_id, self._disks_by_id),
                rest_after=rest_after if stream else None,
            )
            self.post_message(FleetLoaded(listing_of(instances, disks), False, instance_filters=filters))
        except ThrottledError:
            self.post_message(RefreshThrottled(full=True))
        except Exception as error:  # every failure becomes a notification, never a traceback
            self.post_message(LoadFailed(error))
        finally:
            self._signal_first_page()

    def _read_all_regions(self, stream: bool) -> None:
        """From the reading thread: every region's listing, held packed as the single-region one is; a read
        again keeps the objects shown whose reply did not change (one copy, their rows not built again)."""
        inventory = self.ecs_app.services.client.inventory(packed=True)
        instances: list[Instance] = list(inventory.instances)
        disks: list[Disk] = list(inventory.disks)
        if not stream:
            instances = unchanged_kept(instances, self._instances_by_id)
            disks = unchanged_kept(disks, self._disks_by_id)
        errors = {region: str(err) for region, err in dict(inventory.errors).items()}
        self.post_message(FleetLoaded(listing_of(instances, disks), True, errors))

    def _page_read(self, generation: int, page: ListingPage, stream: bool) -> bool:
        """Called by the reading thread after each page; False stops the read (a newer one started)."""
        if generation != self._generation:
            return False
        if stream:
            with_region = self.all_regions
            rows = [instance_row(i, None, with_region=with_region) for i in page.instances]
            more_rows = disk_rows(page.disks, marked=self.marked, with_instance=True)
            index = disks_by_instance(page.disks)
            with self._pending_lock:
                wake = self._pending.add(page, rows, more_rows, index)
            if wake:
                self.post_message(FleetPage(generation))
                self._signal_first_page()
        return True

    @on(FleetPage)
    def _fleet_page(self, message: FleetPage) -> None:
        if message.generation != self._generation or not self._reading:
            return  # an older read's, or the read ended (FleetLoaded brought everything)
        with self._pending_lock:
            pending = self._pending
            if not pending.pages_read:
                return  # already shown (on_mount takes the pages read while the widgets were built)
            # The pages that come meanwhile wait for the next frame: the rows shown get painted first.
            self._pending = _PendingPages(posted=True)
        self._pages_read, self._pages_total = pending.pages_read, pending.pages_total
        first = not self.loaded
        if pending.instances:
            self._streamed_instances.extend(pending.instances)
            self._instances_by_id.update((i.instance_id, i) for i in pending.instances)
            self._instance_rows.extend(pending.instance_rows)
        if pending.disks:
            self._streamed_disks.extend(pending.disks)
            self._disks_by_id.update((d.disk_id, d) for d in pending.disks)
            merge_disk_index(self._disks_by_instance, pending.disk_index)
            self._disk_rows.extend(pending.disk_rows)
        if first:  # the first page: the operator can move, filter and check from now on
            self.instances, self.disks = self._streamed_instances, self._streamed_disks
            self.loaded = True
            self.call_after_refresh(self._rest_after.set)  # the rest of the read waits for these rows
        table = self.query_one("#instances" if self.view == "instances" else "#all-disks", RowTable)
        if first or table.row_count < ROW_LIMIT:
            self._show_tables()  # rows still fit in the table
        else:
            if pending.disks and self.view == "instances":
                self._show_instance_disks()  # the instance's disks as they come
            self._update_status_only()
        self.call_after_refresh(self._next_pages, message.generation)

    def _next_pages(self, generation: int) -> None:
        """After a frame: show the pages that came meanwhile, or let the reading thread wake the screen."""
        with self._pending_lock:
            waiting = bool(self._pending.pages_read)
            if not waiting:
                self._pending.posted = False
        if waiting:
            self._fleet_page(FleetPage(generation))

    @on(FleetLoaded)
    def _fleet_loaded(self, message: FleetLoaded) -> None:
        self._reading = False
        with self._pending_lock:  # pages still waiting for a frame: this brings them too
            self._pending = _PendingPages()
        # A streamed read showed its pages in the API's order: the sorted rows start at the top unless
        # the operator moved the cursor meanwhile.
        table = self.query_one("#instances" if self.view == "instances" else "#all-disks", RowTable)
        from_top = bool(self._pages_total) and table.cursor_row <= 0
        self._pages_total = 0
        self._refresh = self._refresh.read_full(self.ecs_app.services.clock())
        self._disks_shown_for = None
        before = self._shown_rows()
        listing = message.listing
        self.instances, self.disks = listing.instances, listing.disks
        self.all_regions = message.all_regions
        self.region_errors = dict(message.region_errors)
        self._instances_by_id, self._disks_by_id = listing.instances_by_id, listing.disks_by_id
        self._disks_by_instance = listing.disks_by_instance
        self.marked -= {m for m in self.marked if m not in self._disks_by_id}
        self._instance_rows, self._disk_rows = self._rows_again(before)
        if not message.instance_filters:
            self._tag_counts["instances"] = TagCounts.of(self._instance_rows)
        self._tag_counts["disks"] = TagCounts.of(self._disk_rows)  # the whole listing's disks: never narrowed
        # Every disk was read: the screen's filter keeps the rows the API's would (filter_rows), so the
        # all-disks view shows the whole listing until its slow cadence reads the filtered disks again.
        self._filtered = _FilteredDisks()
        self._whole_stale = False
        if len(self._instance_rows) + len(self._disk_rows) >= LARGE_FLEET_ROWS:
            # A 10,000-instance fleet is millions of long-lived objects: every full collection walked them
            # all (0.2-0.8 s, a frozen keystroke). Freeze what is alive now, so collections see only what
            # is new; objects still free when unreferenced (only garbage cycles among them would stay).
            gc.freeze()
        self.loaded = True
        self._show_tables(keep_cursor=not from_top)
        for region, reason in self.region_errors.items():
            self.notify(reason, title=f"{region} could not be read", severity="warning")
        self.ecs_app.fleet_changed(self.instances, self.disks)
        self.ecs_app.show_identity()

    def _shown_rows(self) -> tuple[dict[str, tuple[Instance, Row]], dict[str, tuple[Disk, Row]]]:
        """Each row shown now (instances, disks), by id, with the object it was built from."""
        if not self.loaded:
            return {}, {}
        instances: dict[str, tuple[Instance, Row]] = {}
        for row in self._instance_rows:
            instance = self._instances_by_id.get(row.key)
            if instance is not None:
                instances[row.key] = (instance, row)
        disks: dict[str, tuple[Disk, Row]] = {}
        for row in self._disk_rows:
            disk = self._disks_by_id.get(row.key)
            if disk is not None:
                disks[row.key] = (disk, row)
        return instances, disks

    def _rows_again(
        self, before: tuple[dict[str, tuple[Instance, Row]], dict[str, tuple[Disk, Row]]]
    ) -> tuple[list[Row], list[Row]]:
        """The rows of both views for the listing now; a row whose object is the one it was built from (a
        read again kept what did not change) and whose disk count or mark is the same is kept, not built
        again: a refresh of a large region holds one set of rows."""
        counts = {instance_id: len(mine) for instance_id, mine in self._disks_by_instance.items()}
        width = len(instance_columns(with_region=self.all_regions))
        instances: list[Row] = []
        for instance in self.instances:
            old = before[0].get(instance.instance_id)
            count = counts.get(instance.instance_id, 0)
            if (
                old is not None
                and old[0] is instance
                and old[1].fields.get("disks") == str(count)
                and len(old[1].cells) == width
            ):
                instances.append(old[1])
            else:
                instances.append(instance_row(instance, count, with_region=self.all_regions))
        disks: list[Row] = []
        for disk in self.disks:
            kept = before[1].get(disk.disk_id)
            marked = disk.disk_id in self.marked
            if kept is not None and kept[0] is disk and kept[1].cells[0].startswith(MARK) == marked:
                disks.append(kept[1])
            else:
                disks.append(disk_row(disk, marked=marked, with_instance=True))
        return instances, disks

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        now = self.ecs_app.services.clock()
        title, body = error_text(message.error)
        if message.moving:  # the listing shown stays; what moves is read again, later
            self._reading_moving = False
            self._refresh = self._refresh.throttled(now, full=False)
            self.notify(body, title=f"Could not refresh: {title}", severity="warning", timeout=10)
            return
        self._reading = False
        self._pages_total = 0
        self._refresh = self._refresh.failed(now)
        self.notify(body, title=f"Could not read the fleet: {title}", severity="error", timeout=10)
        self.query_one("#status-line", Label).update("Could not read the fleet. Press r to try again.")

    @on(RefreshThrottled)
    def _throttled(self, message: RefreshThrottled) -> None:
        if message.full:
            self._reading = False
            self._pages_total = 0
        else:
            self._reading_moving = False
        self._refresh = self._refresh.throttled(self.ecs_app.services.clock(), full=message.full)
        seconds = FAST_REFRESH_SECONDS * self._refresh.slowdown
        self.notify(
            f"The API is throttling this account's calls: the screen now refreshes what moves every "
            f"{seconds:.0f} s (r reads everything now).",
            title="Refresh slowed down",
            severity="warning",
        )
        if self.loaded:
            self._update_status_only()
        else:
            self.query_one("#status-line", Label).update("The API is throttling. Press r to try again.")

    def poll_refresh(self) -> None:
        """Read what is due now (the app's timer calls this; tests call it after moving the clock)."""
        if self._reading or self._reading_moving or self._reading_filtered or not self.loaded:
            if self.loaded:
                self._show_status()
            return
        now = self.ecs_app.services.clock()
        moving = self._moving()
        due = self._refresh.next_read(now, moving=bool(moving))
        if due is Read.FULL and self.view == "disks" and self._disk_api_filters:
            self._whole_stale = True  # the instances view reads the whole listing again when shown
            self._read_filtered(stream=False)
        elif due is Read.FULL:
            self.load(stream=False)
        elif due is Read.MOVING:
            self._reading_moving = True
            self._read_moving(moving)
        self._show_status()

    def refresh_moving(self, *followed: tuple[str, str | None]) -> None:
        """Read what moves, and ``followed`` (disk, instance) pairs, by id now (a job changed state)."""
        if not self.loaded or self.all_regions != self._scope[1]:
            return
        moving = self._moving(followed)
        if moving:
            self._reading_moving = True
            self._read_moving(moving)

    def _moving(self, extra: Sequence[tuple[str, str | None]] = ()) -> MovingIds:
        followed = [(job.disk_id, job.instance_id) for job in self.ecs_app.jobs.active]
        return with_followed(self._listing_transitional(), [*followed, *extra], self._region_of)

    def _listing_transitional(self) -> MovingIds:
        """The listing's transitional instances and disks, walked again only when the listing changed: the
        poll asks every half second, and at 10,000 instances the walk took 40 ms of the screen's thread."""
        lists = (self.instances, self.disks, self._filtered)
        sizes = (len(self.instances), len(self.disks), len(self._filtered.disks))  # streamed reads extend
        memo = self._transitional
        if memo is not None and memo[1] == sizes and all(a is b for a, b in zip(memo[0], lists, strict=True)):
            return memo[2]
        disks = self.disks
        if self._filtered.filters:  # the filtered listing may be the fresher one
            filtered = self._filtered.by_id
            disks = [*self._filtered.disks, *(d for d in self.disks if d.disk_id not in filtered)]
        found = transitional_ids(self.instances, disks, default_region=self._default_region)
        self._transitional = (lists, sizes, found)
        return found

    @property
    def _default_region(self) -> str:
        return str(self.ecs_app.services.client.region_id)

    def _region_of(self, resource_id: str) -> str:
        found: Instance | Disk | None = self._instances_by_id.get(resource_id) or self.disk(resource_id)
        return (found.region_id if found is not None else "") or self._default_region

    @work(thread=True, exclusive=True, group="moving")
    def _read_moving(self, moving: MovingIds) -> None:
        client = self.ecs_app.services.client
        try:
            instances = [
                instance
                for region, ids in moving.instances.items()
                for instance in client.list_instances(region_id=region, instance_ids=ids)
            ]
            disks = [
                disk
                for region, ids in moving.disks.items()
                for disk in client.list_disks(region_id=region, disk_ids=ids)
            ]
        except ThrottledError:
            self.post_message(RefreshThrottled(full=False))
            return
        except Exception as error:
            self.post_message(LoadFailed(error, moving=True))
            return
        gone_instances = {i for ids in moving.instances.values() for i in ids}
        gone_instances -= {i.instance_id for i in instances}
        gone_disks = {d for ids in moving.disks.values() for d in ids} - {d.disk_id for d in disks}
        self.post_message(FleetPatched(instances, disks, frozenset(gone_instances), frozenset(gone_disks)))

    @on(FleetPatched)
    def _fleet_patched(self, message: FleetPatched) -> None:
        self._reading_moving = False
        self._refresh = self._refresh.read_moving(self.ecs_app.services.clock())
        if self._pages_total:  # a streamed read is still filling the listing: it brings these too
            return
        if self._patch_changes_nothing(message):
            self._show_status()
            return
        touched_disks = {d.disk_id for d in message.disks} | set(message.gone_disks)
        touched_instances = {i.instance_id for i in message.instances} | set(message.gone_instances)
        for disk in [*message.disks, *(self._disks_by_id.get(d) for d in touched_disks)]:
            if disk is not None:
                touched_instances.update(disk.attached_instance_ids)
        self.instances = patched(  # type: ignore[assignment]
            self.instances, message.instances, message.gone_instances, self._instances_by_id
        )
        self.disks = patched(self.disks, message.disks, message.gone_disks, self._disks_by_id)  # type: ignore[assignment]
        # The indexes and rows are patched, not built again: at 10,000 instances that cost ~0.3 s.
        gone_instances = set(message.gone_instances) - {i.instance_id for i in message.instances}
        gone_disks = set(message.gone_disks) - {d.disk_id for d in message.disks}
        patch_disk_index(self._disks_by_instance, self._disks_by_id, message.disks, gone_disks)

        def instance_row_now(instance: Instance) -> Row:
            count = len(self._disks_by_instance.get(instance.instance_id, ()))
            return instance_row(instance, count, with_region=self.all_regions)

        def disk_row_now(disk: Disk) -> Row:
            return disk_row(disk, marked=disk.disk_id in self.marked, with_instance=True)

        instance_rows_now, instances_changed = rows_patched(
            self.instances, self._instance_rows, self._instances_by_id, touched_instances, instance_row_now
        )
        disk_rows_now, disks_changed = rows_patched(
            self.disks, self._disk_rows, self._disks_by_id, touched_disks, disk_row_now
        )
        for instance_id in gone_instances:
            self._instances_by_id.pop(instance_id, None)
        self._instances_by_id.update((i.instance_id, i) for i in message.instances)
        for disk_id in gone_disks:
            self._disks_by_id.pop(disk_id, None)
        self._disks_by_id.update((d.disk_id, d) for d in message.disks)
        self.marked -= {
            m for m in self.marked if m not in self._disks_by_id and m not in self._filtered.by_id
        }
        changed = self._patch_filtered(message) or instances_changed or disks_changed
        changed = changed or bool(message.gone_instances or message.gone_disks)
        self._instance_rows, self._disk_rows = instance_rows_now, disk_rows_now
        if changed:  # what is shown moved: the tables again, the cursor, marks and filter kept
            self._disks_shown_for = None
            self._show_tables()
            self.ecs_app.fleet_changed(self.instances, self.disks)
        else:
            self._show_status()

    def _patch_changes_nothing(self, message: FleetPatched) -> bool:
        """The read by id found each object as the listing holds it (the usual case: an instance still
        Starting). Then nothing is rebuilt: applying it must cost what was read, not the whole listing (at
        10,000 instances the rebuild held the screen ~150 ms every 2 s while anything moved)."""
        if any(i in self._instances_by_id for i in message.gone_instances):
            return False
        if any(d in self._disks_by_id or d in self._filtered.by_id for d in message.gone_disks):
            return False
        for instance in message.instances:
            known = self._instances_by_id.get(instance.instance_id)
            if known is None or not known.same_reply(instance):
                return False
        for disk in message.disks:
            whole, filtered = self._disks_by_id.get(disk.disk_id), self._filtered.by_id.get(disk.disk_id)
            if whole is None or not whole.same_reply(disk):
                return False
            if filtered is not None and not filtered.same_reply(disk):
                return False
        return True

    def _patch_filtered(self, message: FleetPatched) -> bool:
        """A read by id applied to the all-disks view's filtered listing too (to the disks it holds)."""
        mine = self._filtered
        fresh = [d for d in message.disks if d.disk_id in mine.by_id]
        gone = [d for d in message.gone_disks if d in mine.by_id]
        if not mine.filters or mine.pages_total or not (fresh or gone):
            return False  # none of its disks, or its streamed read still fills it (and brings these too)
        self._filtered = _filtered_disks(mine.filters, patched(mine.disks, fresh, gone), self.marked)  # type: ignore[arg-type]
        return True

    # --- the all-disks view read by the API's filter (a large region)

    def _read_filtered(self, *, stream: bool) -> None:
        """Read the all-disks view's filtered listing: streamed page by page (the first one shown at once)
        for a new filter, else in the background and applied when complete (the slow cadence)."""
        self._filtered_generation += 1
        self._reading_filtered = True
        with self._pending_lock:
            self._filtered_pending = _PendingPages()
        self._read_filtered_disks(self._filtered_generation, dict(self._disk_api_filters), stream)

    def _drop_filtered(self) -> None:
        """The all-disks view shows the whole listing again; a filtered read in flight is dropped."""
        self._filtered = _FilteredDisks()
        self._filtered_generation += 1
        self._reading_filtered = False

    @work(thread=True, exclusive=True, group="filtered-disks")
    def _read_filtered_disks(self, generation: int, filters: ApiFilters, stream: bool) -> None:
        known: tuple[dict[str, Instance], dict[str, Disk]] | None = None
        if not stream:  # a read again holds one copy of what did not change
            known = ({}, dict(self._filtered.by_id))
        try:
            _none, disks = read_listing(
                self.ecs_app.services.client,
                lambda page: self._filtered_page_read(generation, filters, page, stream),
                disk_filters=filters,
                known=known,
            )
        except Exception as error:  # a notification, never a traceback
            self.post_message(FilteredDisksLoaded(generation, filters, error=error))
            return
        self.post_message(FilteredDisksLoaded(generation, filters, disks))

    def _filtered_page_read(
        self, generation: int, filters: ApiFilters, page: ListingPage, stream: bool
    ) -> bool:
        """The reading thread's ``_page_read`` for the filtered read: False stops it (a newer one started)."""
        if generation != self._filtered_generation:
            return False
        if stream:
            rows = disk_rows(page.disks, marked=self.marked, with_instance=True)
            with self._pending_lock:
                wake = self._filtered_pending.add(page, [], rows, {})
            if wake:
                self.post_message(FilteredDisksPage(generation, filters))
        return True

    @on(FilteredDisksPage)
    def _filtered_disks_page(self, message: FilteredDisksPage) -> None:
        if message.generation != self._filtered_generation or not self._reading_filtered:
            return  # an older filter's, or the read ended (FilteredDisksLoaded brought everything)
        with self._pending_lock:
            pending = self._filtered_pending
            if not pending.pages_read:
                return
            self._filtered_pending = _PendingPages(posted=True)  # later pages wait for the next frame
        mine = self._filtered
        if not mine.pages_total:  # the first page: the view shows the filtered listing from now on
            mine = self._filtered = _FilteredDisks(dict(message.filters))
        mine.disks.extend(pending.disks)
        mine.rows.extend(pending.disk_rows)
        mine.by_id.update((d.disk_id, d) for d in pending.disks)
        mine.pages_read, mine.pages_total = pending.pages_read, pending.pages_total
        if self.view == "disks":
            table = self.query_one("#all-disks", RowTable)
            if table.row_count < ROW_LIMIT or len(mine.rows) == len(pending.disk_rows):
                self._show_tables()
            else:
                self._update_status_only()
        self.call_after_refresh(self._next_filtered_pages, message)

    def _next_filtered_pages(self, message: FilteredDisksPage) -> None:
        """After a frame: show the filtered pages that came meanwhile, or let the reading thread wake us."""
        with self._pending_lock:
            waiting = bool(self._filtered_pending.pages_read)
            if not waiting:
                self._filtered_pending.posted = False
        if waiting:
            self._filtered_disks_page(message)

    @on(FilteredDisksLoaded)
    def _filtered_disks_loaded(self, message: FilteredDisksLoaded) -> None:
        if message.generation != self._filtered_generation:
            return  # an older filter's, or the filter was cleared
        self._reading_filtered = False
        streamed = self._filtered.pages_total
        self._filtered.pages_total = 0
        now = self.ecs_app.services.clock()
        if message.error is not None:
            if isinstance(message.error, ThrottledError):
                self._refresh = self._refresh.throttled(now, full=True)
            else:
                self._refresh = self._refresh.failed(now)
            title, body = error_text(message.error)
            self.notify(body, title=f"Could not read the disks: {title}", severity="warning", timeout=10)
            if streamed:  # a part is not the filter's result: the whole listing, filtered on screen
                self._filtered = _FilteredDisks()
                if self.view == "disks":
                    self._show_tables()
            return
        self._refresh = self._refresh.read_full(now)
        disks = sorted(message.disks, key=lambda d: (d.region_id, d.disk_id))
        self._filtered = _filtered_disks(dict(message.filters), disks, self.marked)
        if self.view == "disks":
            # Streamed pages came in the API's order: the sorted rows start at the top unless the
            # operator moved the cursor meanwhile.
            from_top = bool(streamed) and self.query_one("#all-disks", RowTable).cursor_row <= 0
            self._show_tables(keep_cursor=not from_top)

    @property
    def _all_disk_rows(self) -> list[Row]:
        """The all-disks view's rows: its filtered listing's, or the whole listing's."""
        return self._filtered.rows if self._filtered.filters else self._disk_rows

    # --- showing

    def _rebuild_disk_rows(self) -> None:
        self._disk_rows = disk_rows(self.disks, marked=self.marked, with_instance=True)
        if self._filtered.filters:
            self._filtered.rows = disk_rows(self._filtered.disks, marked=self.marked, with_instance=True)

    def _show_tables(self, *, keep_cursor: bool = True) -> None:
        if self.view == "instances":
            rows = self._instance_rows
            columns = instance_columns(with_region=self.all_regions)
            table = self.query_one("#instances", RowTable)
            noun = "instance"
        else:
            rows = self._all_disk_rows
            columns = disk_columns(with_instance=True)
            table = self.query_one("#all-disks", RowTable)
            noun = "disk"
        query = parse_query(self.filter_text, known_fields(rows))
        shown = filter_rows(rows, query)
        in_table = table.show_rows(columns, shown, keep_cursor=keep_cursor)
        if self.view == "instances":
            self._show_instance_disks()
        self._update_detail()
        self._update_status(noun, len(shown), len(rows), query.problems, in_table)

    def _update_status_only(self) -> None:
        rows = self._instance_rows if self.view == "instances" else self._all_disk_rows
        query = parse_query(self.filter_text, known_fields(rows))
        table = self.query_one("#instances" if self.view == "instances" else "#all-disks", RowTable)
        shown = len(filter_rows(rows, query)) if self.filter_text else len(rows)
        noun = "instance" if self.view == "instances" else "disk"
        self._update_status(noun, shown, len(rows), query.problems, table.row_count)

    def _update_status(
        self, noun: str, shown: int, total: int, problems: Sequence[str], in_table: int
    ) -> None:
        scope = "all regions" if self.all_regions else self.ecs_app.services.client.region_id
        parts = [f"{plural(total, noun)} in {scope}"]
        asked = self._api_filters if noun == "instance" else self._filtered.filters
        if asked:
            parts[0] += f" read by the API's filter: {describe_api_filters(asked)}"
        if noun == "instance" and self._whole_stale:
            parts.append("reading every disk again (the disks view read only its filter's)")
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}”: {shown} match")
        if in_table < shown:
            parts.append(f"listing {in_table} of them: / filters to narrow")
        if problems:
            parts.append("left out (cannot match): " + "; ".join(problems))
        other = "disks" if self.view == "instances" else "instances"
        if self.filters[other]:
            parts.append(f"the {other} view has its own filter “{self.filters[other]}”")
        if self.marked:
            parts.append(f"{len(self.marked)} marked (D: detach marked)")
        jobs = self.ecs_app.jobs.active_count
        if jobs:
            parts.append(f"{plural(jobs, 'job')} running (o: operations)")
        if self.region_errors:
            parts.append(f"{plural(len(self.region_errors), 'region')} unreadable")
        self._status = tuple(parts)
        self._show_status()
        for box in self.query("#filter").results(Input):  # what cannot match is also said at the box itself
            box.border_subtitle = plain("; ".join(problems)) if problems else None

    def _show_status(self) -> None:
        """The status line: what ``_update_status`` said, and how far the read is or how old it is."""
        parts = list(self._status)
        read, total = self._pages_read, self._pages_total
        if self.view == "disks" and self._filtered.pages_total:  # the view's own filtered read
            read, total = self._filtered.pages_read, self._filtered.pages_total
        if total:  # beside the count it qualifies, where a narrow terminal still shows it
            parts.insert(1, f"loading {read} of {plural(total, 'page')}")
        elif self.ecs_app.live_refresh:
            age = self._refresh.age(self.ecs_app.services.clock())
            if age is not None:
                parts.append(f"refreshed {age:.0f} s ago (r: now)")
            if self._refresh.slowdown > 1:
                parts.append("slowed down: the API is throttling")
        self.query_one("#status-line", Label).update(plain(" · ".join(parts)))

    def _show_instance_disks(self) -> None:
        instance = self.current_instance
        table = self.query_one("#instance-disks", RowTable)
        title = self.query_one("#instance-disks-title", Label)
        self._disks_shown_for = instance.instance_id if instance is not None else None
        if instance is None:
            table.show_rows(disk_columns(), [])
            title.update("Disks")
            return
        mine = self._disks_by_instance.get(instance.instance_id, [])
        mine = mine + self._detached_from(instance.instance_id, mine)
        table.show_rows(disk_columns(), disk_rows(mine, instance_id=instance.instance_id, marked=self.marked))
        count = f"{len(mine)} so far, still reading" if self._pages_total else str(len(mine))
        title.update(plain(f"Disks of {instance.instance_id} ({instance.name or 'no name'}): {count}"))

    def _update_detail(self) -> None:
        pane = self.query_one(DetailPane)
        focused = self.focused
        disk = self.current_disk if focused is not self.query_one("#instances") else None
        if disk is not None:
            pane.show(disk.disk_id, disk_details(disk), disk.raw)
            return
        instance = self.current_instance
        if instance is not None and self.view == "instances":
            pane.show(instance.instance_id, instance_details(instance), instance.raw)
        else:
            pane.clear_detail()

    # --- selection

    @property
    def current_instance(self) -> Instance | None:
        key = self.query_one("#instances", RowTable).current_key
        return self._instances_by_id.get(key) if key else None

    @property
    def current_disk(self) -> Disk | None:
        table_id = "#instance-disks" if self.view == "instances" else "#all-disks"
        key = self.query_one(table_id, RowTable).current_key
        if not key:
            return None
        return self.disk(key) if self.view == "disks" else self._disks_by_id.get(key)

    def disk(self, disk_id: str) -> Disk | None:
        """The disk by id: from the all-disks view's filtered listing when it holds it (read later)."""
        return self._filtered.by_id.get(disk_id) or self._disks_by_id.get(disk_id)

    def instance(self, instance_id: str) -> Instance | None:
        return self._instances_by_id.get(instance_id)

    @on(DataTable.RowHighlighted, "#instances")
    def _instance_highlighted(self) -> None:
        instance = self.current_instance
        # Filling the instances table highlights its first row after the disks were already shown for it.
        if instance is None or instance.instance_id != self._disks_shown_for:
            self._show_instance_disks()
        self._update_detail()

    @on(DataTable.RowHighlighted, "#instance-disks, #all-disks")
    def _disk_highlighted(self) -> None:
        self._update_detail()

    @on(DataTable.RowSelected, "#instances")
    def _instance_selected(self) -> None:
        self.query_one("#instance-disks", RowTable).focus()

    def on_descendant_focus(self) -> None:
        if self.loaded:
            self._update_detail()

    def _detached_from(self, instance_id: str, listed: Sequence[Disk]) -> list[Disk]:
        """Disks this session detached from ``instance_id``, no longer attached there (kept in its list)."""
        ids = {d.disk_id for d in listed}
        return [
            disk
            for disk_id, was_on in self.detached_here.items()
            if was_on == instance_id
            and disk_id not in ids
            and (disk := self._disks_by_id.get(disk_id)) is not None
            and instance_id not in disk.attached_instance_ids
        ]

    def note_detached(self, disk_id: str, instance_id: str) -> None:
        """A detach of this session finished: the disk stays listed under its instance, so that the cursor
        (and u) stay on the disk the operator just detached."""
        self.detached_here[disk_id] = instance_id

    @property
    def chosen(self) -> ChosenDisk | None:
        """The disk the operator chose, the one place c, d, space and u read it: the disk under the cursor
        of the disks table they are on (the palette's "Go to disk" puts the cursor and the focus there, and a
        disk just detached stays listed under its instance). None while the cursor is on an instance."""
        if not self.loaded or self.focused is self.query_one("#instances"):
            return None
        disk = self.current_disk
        if disk is None:
            return None
        current = self.current_instance
        if self.view == "instances" and current is not None:
            return ChosenDisk(disk, current.instance_id)  # the instance it is listed under, as on screen
        ids = disk.attached_instance_ids
        return ChosenDisk(disk, ids[0] if ids else None)

    async def select_disk(self, disk_id: str) -> None:
        """Put the cursor (and the focus) on a disk, from the command palette: in the instances view under
        its instance (the one shown, for a multi-attach disk on it), else in the all-disks view; a filter
        that hides it is cleared, and that is said."""
        disk = self.disk(disk_id)
        if disk is None:
            self.notify(
                f"Disk {disk_id} is not in the list any more (r reads the fleet again).", title="Go to disk"
            )
            return
        if self.view == "instances" and disk.attached_instance_ids:
            current = self.current_instance
            ids = disk.attached_instance_ids
            instance_id = (
                current.instance_id if current is not None and current.instance_id in ids else ids[0]
            )
            instances = self.query_one("#instances", RowTable)
            if instance_id not in instances.row_keys:
                self._clear_filter_for(disk_id)
            instances.select_key(instance_id)
            if self._disks_shown_for != instance_id:
                self._show_instance_disks()
            table = self.query_one("#instance-disks", RowTable)
        else:
            await self.action_view("disks")
            table = self.query_one("#all-disks", RowTable)
            if disk_id not in table.row_keys:
                self._clear_filter_for(disk_id)
        table.select_key(disk_id)
        table.focus()
        self._update_detail()

    def _clear_filter_for(self, disk_id: str) -> None:
        if self.filter_text:
            self.notify(f"The filter “{self.filter_text}” hid {disk_id}: it was cleared.", title="Go to disk")
        self.filter_text = ""
        for box in self.query("#filter").results(Input):
            box.value = ""
            box.display = False
        self._show_tables()
        self._read_less()

    # --- actions

    async def action_view(self, view: str) -> None:
        if view == self.view:
            return
        if view == "disks":
            await self._ensure_disks_view()
        self.view = view
        for box in self.query("#filter").results(Input):  # this view's own filter
            box.value = self.filter_text
            box.display = bool(self.filter_text)
        self.refresh_bindings()
        self.query_one("#views", ContentSwitcher).current = f"{view}-view"
        if view == "instances" and self._whole_stale and not self._reading:
            self.load(stream=False)  # the disks view's filtered reads stood in for the whole listing
        self._show_tables()
        target = "#instances" if view == "instances" else "#all-disks"
        self.query_one(target, RowTable).focus()

    async def action_filter(self) -> None:
        box = await self._ensure_filter_box()
        box.display = True
        box.value = self.filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        if not self.loaded:
            return
        if len(self._instance_rows) + len(self._disk_rows) < LARGE_FLEET_ROWS:
            self._show_tables()
        elif not self._filter_pending:
            # Large fleets: no fixed typing pause (it was 0.15 s on every key); keys that arrive before
            # this rebuild runs join it, as it uses the latest text.
            self._filter_pending = True
            self.call_later(self._apply_filter)

    def _apply_filter(self) -> None:
        self._filter_pending = False
        self._show_tables()

    def _read_less(self) -> None:
        """A large region: each view's filter terms the API applies are sent with its next read (now, in
        the background): the instances filter's with the whole listing's DescribeInstances, the all-disks
        filter's with a separate DescribeDisks for that view alone (the instances view needs every disk).
        Clearing them reads the whole listing again."""
        large = len(self._instance_rows) + len(self._disk_rows) >= LARGE_FLEET_ROWS
        query = parse_query(self.filters["instances"], known_fields(self._instance_rows))
        # Already filtered by the API, the listing may look small: its filter still follows the text.
        wanted = server_filters(query) if (large or self._api_filters) and not self.all_regions else {}
        wanted = within_tag_limit(wanted, query, self._tag_counts.get("instances", TagCounts()))
        if wanted != self._api_filters:
            self._api_filters = wanted
            self.load(stream=False)
        disk_query = parse_query(self.filters["disks"], known_fields(self._disk_rows))
        asked = large or bool(self._disk_api_filters)
        wanted = server_filters(disk_query, "disks") if asked and not self.all_regions else {}
        wanted = within_tag_limit(wanted, disk_query, self._tag_counts.get("disks", TagCounts()))
        if wanted == self._disk_api_filters:
            return
        self._disk_api_filters = wanted
        self._drop_filtered()
        if wanted:
            self._read_filtered(stream=True)
            return
        if self._whole_stale and not self._reading:
            self.load(stream=False)
        if self.view == "disks":
            self._show_tables()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._read_less()
        box = self.query_one("#filter", Input)
        box.display = bool(self.filter_text)
        target = "#instances" if self.view == "instances" else "#all-disks"
        self.query_one(target, RowTable).focus()

    def action_clear_filter(self) -> None:
        box = next(iter(self.query("#filter").results(Input)), None)
        if box is None or (not self.filter_text and not box.display):
            return
        box.value = ""
        self.filter_text = ""
        box.display = False
        target = "#instances" if self.view == "instances" else "#all-disks"
        self.query_one(target, RowTable).focus()
        self._show_tables()
        self._read_less()

    def action_refresh(self) -> None:
        """r: read the whole listing now (in the background when the region is the one shown)."""
        self.query_one("#status-line", Label).update("Refreshing…")
        self.load()

    def action_toggle_detail(self) -> None:
        pane = self.query_one(DetailPane)
        pane.reveal(not pane.display)

    def action_toggle_raw(self) -> None:
        pane = self.query_one(DetailPane)
        pane.toggle_raw()
        pane.reveal(True)

    def action_mark(self) -> None:
        chosen = self._chosen_or_say()
        if chosen is None:
            return
        disk = chosen.disk
        if disk.disk_id in self.marked:
            self.marked.discard(disk.disk_id)
        else:
            self.marked.add(disk.disk_id)
        self._rebuild_disk_rows()
        mark = f"{MARK if disk.disk_id in self.marked else ' '} {disk.disk_id}"
        for table in self.query(RowTable):
            if table.id in ("instance-disks", "all-disks"):
                table.set_cell(disk.disk_id, "id", mark)
        table = self.query_one("#instance-disks" if self.view == "instances" else "#all-disks", RowTable)
        if table.cursor_row + 1 < table.row_count:
            table.move_cursor(row=table.cursor_row + 1)
        self._update_status_only()

    def _chosen_or_say(self) -> ChosenDisk | None:
        chosen = self.chosen
        if chosen is None:
            self.notify(
                "The cursor is on an instance, not a disk. Press enter (or tab) to move to its disks and "
                "choose one, 2 to list every disk, or ctrl+p “Go to disk”.",
                title="Choose a disk",
            )
        return chosen

    def action_check(self) -> None:
        chosen = self._chosen_or_say()
        if chosen is not None:
            self.ecs_app.open_wizard(chosen.disk, chosen.instance_id, check_only=True)

    def action_detach(self) -> None:
        if not self.ecs_app.writes_allowed("detach"):
            return
        chosen = self._chosen_or_say()
        if chosen is not None:
            self.ecs_app.open_wizard(chosen.disk, chosen.instance_id)

    def action_bulk_detach(self) -> None:
        if not self.ecs_app.writes_allowed("detach the marked disks"):
            return
        if not self.marked:
            self.notify("Mark disks with space first, then press D.", title="Nothing marked")
            return
        disks = [disk for d in sorted(self.marked) if (disk := self.disk(d)) is not None]
        self.ecs_app.open_bulk(disks)

    def action_move(self) -> None:
        if not self.ecs_app.writes_allowed("move"):
            return
        chosen = self._chosen_or_say()
        if chosen is not None:
            self.ecs_app.open_move(chosen.disk, chosen.instance_id, self.instances)

    def action_undo(self) -> None:
        if not self.ecs_app.writes_allowed("re-attach"):
            return
        chosen = self._chosen_or_say()
        if chosen is not None:
            self.ecs_app.undo(chosen.disk.disk_id)

    def action_pick_region(self) -> None:
        self.ecs_app.action_pick_region()

    def action_all_regions(self) -> None:
        self.all_regions = not self.all_regions
        self.action_refresh()

    def apply_external_change(self, **_: Any) -> None:
        """Something changed the fleet (a job finished): read it again."""
        self.load(stream=False)
