"""When the browse screen reads the fleet again, and what it reads: pure decisions, no Textual, no I/O.

Two cadences (issue 18): what moves (transitional instances and disks, and the ones a job follows) is read
by id on the fast cadence; the whole listing only on the slow one, in the background. A Throttling reply
slows both down (doubling, up to ``MAX_SLOWDOWN``) instead of failing the refresh; every clean read brings
them back towards normal.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from ecs_detach._core import gc_paused
from ecs_detach.models import Disk, Instance

from .policy import FAST_REFRESH_SECONDS, SLOW_REFRESH_SECONDS

MAX_SLOWDOWN = 8.0
"""A throttled refresh waits at most this many times its normal interval."""


class Read(Enum):
    NOTHING = "nothing"
    MOVING = "moving"
    """Read the moving resources by id (``InstanceIds`` / ``DiskIds``, up to 100 a call)."""
    FULL = "full"
    """Read the whole listing, in the background; applied keeping the cursor, the marks and the filter."""


@dataclass(frozen=True, slots=True)
class RefreshState:
    last_full: float | None = None
    """When the last full read finished (None: never)."""
    last_moving: float | None = None
    last_ok: float | None = None
    """When the newest read that succeeded finished: "refreshed N s ago"."""
    slowdown: float = 1.0

    def next_read(self, now: float, *, moving: bool) -> Read:
        """What is due at ``now``: a full read on the slow cadence, the moving ones on the fast cadence."""
        if self.last_full is None or now - self.last_full >= SLOW_REFRESH_SECONDS * self.slowdown:
            return Read.FULL
        if not moving:
            return Read.NOTHING
        since = now - max(self.last_full, self.last_moving or self.last_full)
        return Read.MOVING if since >= FAST_REFRESH_SECONDS * self.slowdown else Read.NOTHING

    def read_full(self, now: float) -> RefreshState:
        return replace(self, last_full=now, last_moving=now, last_ok=now, slowdown=_eased(self.slowdown))

    def read_moving(self, now: float) -> RefreshState:
        return replace(self, last_moving=now, last_ok=now, slowdown=_eased(self.slowdown))

    def throttled(self, now: float, *, full: bool) -> RefreshState:
        """The API said Throttling: wait longer before the next read (the one that was due counts as done)."""
        slower = min(MAX_SLOWDOWN, self.slowdown * 2)
        last_full = now if full or self.last_full is None else self.last_full
        return replace(self, last_moving=now, slowdown=slower, last_full=last_full)

    def failed(self, now: float) -> RefreshState:
        """A full read failed for another reason: try again on the slow cadence (or r at once)."""
        return replace(self, last_full=now, last_moving=now)

    def age(self, now: float) -> float | None:
        """Seconds since the newest read that succeeded (full or by id), None before the first."""
        return None if self.last_ok is None else max(0.0, now - self.last_ok)


def _eased(slowdown: float) -> float:
    return max(1.0, slowdown / 2)


@dataclass(frozen=True, slots=True)
class MovingIds:
    """What the fast cadence reads, per region."""

    instances: dict[str, list[str]]
    disks: dict[str, list[str]]

    def __bool__(self) -> bool:
        return bool(self.instances or self.disks)


def transitional_ids(
    instances: Iterable[Instance], disks: Iterable[Disk], *, default_region: str
) -> MovingIds:
    """The transitional instances and disks, grouped by region: a walk of the whole listing, so the screen
    does it once per listing, not on every poll."""
    by_instance: dict[str, list[str]] = {}
    by_disk: dict[str, list[str]] = {}
    for instance in instances:
        if instance.transitional:
            by_instance.setdefault(instance.region_id or default_region, []).append(instance.instance_id)
    for disk in disks:
        if disk.transitional:
            by_disk.setdefault(disk.region_id or default_region, []).append(disk.disk_id)
    return MovingIds(by_instance, by_disk)


def with_followed(
    moving: MovingIds, followed: Iterable[tuple[str, str | None]], region_of: Callable[[str], str]
) -> MovingIds:
    """``moving`` and the (disk, instance) pairs jobs follow, each in the region ``region_of`` says."""
    by_instance = {region: list(ids) for region, ids in moving.instances.items()}
    by_disk = {region: list(ids) for region, ids in moving.disks.items()}
    for disk_id, instance_id in followed:
        _add(by_disk, region_of(disk_id), disk_id)
        if instance_id:
            _add(by_instance, region_of(instance_id), instance_id)
    return MovingIds(by_instance, by_disk)


def _add(index: dict[str, list[str]], region: str, resource_id: str) -> None:
    ids = index.setdefault(region, [])
    if resource_id not in ids:
        ids.append(resource_id)


def patched(
    current: Sequence[Instance] | Sequence[Disk],
    fresh: Sequence[Instance] | Sequence[Disk],
    gone: Iterable[str],
    by_id: Mapping[str, Instance | Disk] | None = None,
) -> list[Instance] | list[Disk]:
    """``current`` with each object of ``fresh`` put in place of the one with its id (a new id is added at
    the end), and the ids in ``gone`` removed: a read by id applied to the listing, order kept.

    ``by_id``: ``current``'s objects by id, when the caller has them. Then the objects to replace are found
    by identity, and no id of the listing is read (at 30,000 objects that was most of the cost)."""
    fresh_by_id = {_key(item): item for item in fresh}
    removed = set(gone) - set(fresh_by_id)
    if by_id is None:
        out = [fresh_by_id.pop(_key(item), item) for item in current if _key(item) not in removed]
        out.extend(fresh_by_id.values())
        return out  # type: ignore[return-value]
    replaced = {id(by_id[key]): item for key, item in fresh_by_id.items() if key in by_id}
    dropped = {id(by_id[key]) for key in removed if key in by_id}
    kept = [replaced.get(id(item), item) for item in current if id(item) not in dropped]
    kept.extend(item for key, item in fresh_by_id.items() if key not in by_id)
    return kept  # type: ignore[return-value]


def _key(item: Instance | Disk) -> str:
    return item.instance_id if isinstance(item, Instance) else item.disk_id


def unchanged_kept(page: Sequence[Instance] | Sequence[Disk], known: Mapping[str, Any]) -> list[Any]:
    """``page`` with each object whose reply equals the known one's (same id) replaced by the known one."""
    out: list[Any] = []
    for item in page:
        old = known.get(_key(item))
        out.append(old if old is not None and old.same_reply(item) else item)
    return out


def pages(total_count: int, page_size: int) -> int:
    """How many pages a listing of ``total_count`` items takes (at least 1: an empty listing is one reply)."""
    return max(1, math.ceil(total_count / max(1, page_size)))


INSTANCE_PAGE = 100
"""DescribeInstances' largest page."""
DISK_PAGE = 500
"""DescribeDisks' largest page: a region's disks in a fifth of the round trips."""
REST_HOLD_SECONDS = 1.0
"""The longest a listing read waits for ``rest_after`` (the screen painting its first rows)."""


@dataclass(frozen=True, slots=True)
class ListingPage:
    """One page of a listing as it arrives, and how far the whole read is."""

    instances: list[Instance]
    disks: list[Disk]
    pages_read: int
    pages_total: int


def read_listing(
    client: Any,
    on_page: Callable[[ListingPage], bool],
    *,
    instance_filters: Mapping[str, Any] | None = None,
    disk_filters: Mapping[str, Any] | None = None,
    known: tuple[Mapping[str, Instance], Mapping[str, Disk]] | None = None,
    rest_after: threading.Event | None = None,
) -> tuple[list[Instance], list[Disk]]:
    """Every instance (or those ``instance_filters`` select: ``Status``, ``ZoneId``, ``Tag``) and every disk
    of the client's region; the two chains of pages run at once (the disks' from the moment the first page
    of instances came: the first rows shown are instances, and nothing else competes with their page for
    the process), and ``on_page`` is called after each page (from either thread). It returns False to stop
    the read (a newer one started): then what was read so far is returned.

    ``disk_filters`` (DescribeDisks parameters: ``Status``, ``Category``, ``Tag``...): the disks they
    select and no instances, one chain (the all-disks view's own listing when the API filters it; the
    instances view keeps the whole listing, each instance's disks and its disk count).

    ``known``: the objects shown now, by id. A page's object equal to the known one is replaced by it, so
    a read again of a listing that barely moved holds one copy of it, not two, while it runs.

    ``rest_after``: after the first page of instances, both chains wait for this event (at most
    ``REST_HOLD_SECONDS``): parsing the next pages (disk pages of 500 are 1.4 MB of JSON) would compete
    for the process with the screen painting its first rows. All rows come later by that wait only.

    Every object is packed (``packed()``: the reply kept as compact JSON bytes) as its page comes: a
    region's listing is held for as long as it is shown, and its replies' dicts were most of the
    screen's memory."""
    lock = threading.Lock()
    kinds = ("disks",) if disk_filters is not None else ("instances", "disks")
    totals = dict.fromkeys(kinds, 0)
    read = dict.fromkeys(kinds, 0)
    stopped = threading.Event()
    first_instances = threading.Event()
    if "instances" not in kinds:
        first_instances.set()  # no page of instances to wait for

    def chain(kind: str) -> list[Any]:
        try:
            return pages_of(kind)
        finally:
            first_instances.set()  # a failed or empty instances chain does not hold the disks back
            if kind == "instances" and rest_after is not None and not read["instances"]:
                rest_after.set()  # no page for the screen to paint: nothing to wait for

    def pages_of(kind: str) -> list[Any]:
        if kind == "instances":
            replies: Iterator[tuple[list[Any], int]] = client.instance_pages(
                page_size=INSTANCE_PAGE, **dict(instance_filters or {})
            )
        else:
            first_instances.wait()
            if rest_after is not None:
                rest_after.wait(timeout=REST_HOLD_SECONDS)
            if stopped.is_set():
                return []
            replies = client.disk_pages(page_size=DISK_PAGE, **dict(disk_filters or {}))
        size = INSTANCE_PAGE if kind == "instances" else DISK_PAGE
        items: list[Any] = []
        shown: Mapping[str, Any] = {} if known is None else known[0 if kind == "instances" else 1]
        for page, total_count in replies:
            page = [item.packed() for item in page]
            if shown:
                page = unchanged_kept(page, shown)
            items.extend(page)
            with lock:
                totals[kind] = pages(total_count, size)
                read[kind] += 1
                progress = ListingPage(
                    page if kind == "instances" else [],
                    page if kind == "disks" else [],
                    sum(read.values()),
                    sum(max(totals[k], read[k]) or 1 for k in totals),
                )
                if stopped.is_set() or not on_page(progress):
                    stopped.set()
                    break
            if kind == "instances" and read[kind] == 1 and rest_after is not None:
                first_instances.set()
                rest_after.wait(timeout=REST_HOLD_SECONDS)
            first_instances.set()
        return items

    # The collector is held off while the pages come, as for an inventory (gc_paused): its full
    # collections walked every object read so far, 70-180 ms each at 2,000 instances, frames held up.
    with gc_paused(), ThreadPoolExecutor(max_workers=len(kinds), thread_name_prefix="ecs-listing") as pool:
        chains = {kind: pool.submit(chain, kind) for kind in kinds}
        instances = chains["instances"].result() if "instances" in chains else []
        return instances, chains["disks"].result()
