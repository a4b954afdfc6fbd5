"""Pure row building: models in, display rows out. No Textual here, so it is tested as plain functions.

A :class:`Row` carries the cells to show (in column order), the named fields ``field:value`` filters look
at, and a lower-cased haystack for fuzzy matching, computed once when the row is built, so filtering 10,000
rows stays cheap.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecs_detach.models import Disk, Instance

from .formatting import size_text, status_text, yes_no

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int | None = None
    priority: int = 0
    """When the table is too narrow, columns are given up from the highest number down; 0 is never given
    up. What decides safety (id, instance, status, locks) is 1 or 0; names, sizes and categories go first."""
    shrink: int = 0
    """The level at which the column is narrowed (cut with …), before the columns of that priority are
    given up; 0: never narrowed."""
    fill: bool = False
    """The column may be as wide as its widest cell, past the usual cap: it takes the room the others
    leave (a sentence, such as a bulk row's reason), and is narrowed to fit (``shrink``)."""


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    cells: tuple[str, ...]
    fields: Mapping[str, str] = field(default_factory=dict)
    haystack: str = ""
    transitional: bool = False
    fields_text: str = ""
    """The fields joined by NUL (``FIELD_SEPARATOR``): one regular-expression search finds a fuzzy match
    within a single field, instead of a Python loop over every field of every row."""
    tags: tuple[tuple[str, str], ...] = ()
    """The object's tags, case kept: a ``tag:`` term matches them exactly, as the API does."""


FIELD_SEPARATOR = "\x00"


def _lower(text: str) -> str:
    """``text`` lower-cased; the same object when it already is (ids are: 30,000 rows hold no copies)."""
    lowered = text.lower()
    return text if lowered == text else lowered


def make_row(
    key: str,
    cells: Sequence[str],
    fields: Mapping[str, str],
    *,
    transitional: bool = False,
    tags: tuple[tuple[str, str], ...] = (),
) -> Row:
    normalised = {name: _lower(value) for name, value in fields.items()}
    haystack = " ".join(normalised.values())
    return Row(
        key=key,
        cells=tuple(cells),
        fields=normalised,
        haystack=haystack,
        transitional=transitional,
        fields_text=FIELD_SEPARATOR.join(normalised.values()),
        tags=tags,
    )


# --- instances

INSTANCE_COLUMNS: tuple[Column, ...] = (
    Column("id", "Instance ID", 24),
    Column("name", "Name", 22, priority=3, shrink=3),
    Column("status", "Status", 12, priority=1),
    Column("type", "Type", 16, priority=5),
    Column("zone", "Zone", 15, priority=6),
    Column("locks", "Locks", 10, priority=1, shrink=1),
    Column("disks", "Disks", 5, priority=4),
)
REGION_COLUMN = Column("region", "Region", 14, priority=2)


def lock_text(reasons: Iterable[str]) -> str:
    words = [r for r in reasons if r]
    return "⚠ " + ",".join(words) if words else "-"


def disk_counts(disks: Iterable[Disk]) -> Counter[str]:
    """How many disks each instance has attached (a multi-attach disk counts for each of its instances)."""
    counts: Counter[str] = Counter()
    for disk in disks:
        for instance_id in disk.attached_instance_ids:
            counts[instance_id] += 1
    return counts


def instance_row(instance: Instance, disk_count: int | None, *, with_region: bool = False) -> Row:
    """``disk_count`` None: the disks are still being read (shown as …)."""
    count = "…" if disk_count is None else str(disk_count)
    cells = [
        instance.instance_id,
        instance.name,
        sys.intern(status_text(instance.status)),
        instance.instance_type,
        instance.zone_id,
        lock_text(instance.lock_reasons),
        count,
    ]
    fields = {
        "id": instance.instance_id,
        "name": instance.name,
        "status": instance.status,
        "type": instance.instance_type,
        "zone": instance.zone_id,
        "region": instance.region_id,
        "locks": ",".join(instance.lock_reasons),
        "disks": "" if disk_count is None else count,
    }
    if with_region:
        cells.insert(0, instance.region_id)
    return make_row(
        instance.instance_id, cells, fields, transitional=instance.transitional, tags=instance.tags
    )


def instance_columns(*, with_region: bool = False) -> tuple[Column, ...]:
    return (REGION_COLUMN, *INSTANCE_COLUMNS) if with_region else INSTANCE_COLUMNS


def instance_rows(
    instances: Iterable[Instance], disks: Iterable[Disk], *, with_region: bool = False
) -> list[Row]:
    counts = disk_counts(disks)
    return [instance_row(i, counts[i.instance_id], with_region=with_region) for i in instances]


# --- disks

DISK_COLUMNS: tuple[Column, ...] = (
    Column("id", "  Disk ID", 24),
    Column("name", "Name", 16, priority=4, shrink=4),
    Column("role", "Role", 6, priority=2),
    Column("category", "Category", 16, priority=7),
    Column("size", "Size", 8, priority=5),
    Column("status", "Status", 12, priority=1),
    Column("portable", "Port.", 5, priority=6),
    Column("multiattach", "Multi", 5, priority=3),
    Column("locks", "Locks", 10, priority=1, shrink=1),
    Column("dwi", "Del w/inst", 10, priority=8),
    Column("device", "Device", 10, priority=6),
)
INSTANCE_COLUMN = Column("instance", "Instance", 24, priority=1, shrink=2)

MARK = "✚"


def disk_row(
    disk: Disk, *, instance_id: str | None = None, marked: bool = False, with_instance: bool = False
) -> Row:
    attached = disk.attached_instance_ids
    device = disk.device_on(instance_id) if instance_id else disk.device
    if not device and disk.attachments and not instance_id:
        device = disk.attachments[0].device
    cells = [
        f"{MARK if marked else ' '} {disk.disk_id}",
        disk.name,
        disk.type,
        disk.category,
        sys.intern(size_text(disk.size_gib)),
        sys.intern(status_text(disk.status)),
        yes_no(disk.portable),
        yes_no(disk.is_multi_attach),
        lock_text(disk.lock_reasons),
        yes_no(disk.delete_with_instance),
        device or "-",
    ]
    fields = {
        "id": disk.disk_id,
        "name": disk.name,
        "type": disk.type,
        "role": disk.type,
        "category": disk.category,
        "size": str(disk.size_gib),
        "status": disk.status,
        "portable": yes_no(disk.portable),
        "multiattach": yes_no(disk.is_multi_attach),
        "dwi": yes_no(disk.delete_with_instance),
        "device": device,
        "instance": ",".join(attached),
        "zone": disk.zone_id,
        "region": disk.region_id,
        "locks": ",".join(disk.lock_reasons),
    }
    if with_instance:
        cells.insert(2, ",".join(attached) or "-")
    return make_row(disk.disk_id, cells, fields, transitional=disk.transitional, tags=disk.tags)


def disk_columns(*, with_instance: bool = False) -> tuple[Column, ...]:
    """The disks' columns; the all-disks view adds the instance right after the name."""
    if not with_instance:
        return DISK_COLUMNS
    return (*DISK_COLUMNS[:2], INSTANCE_COLUMN, *DISK_COLUMNS[2:])


def disks_of(disks: Iterable[Disk], instance_id: str) -> list[Disk]:
    """The disks attached to one instance, system disk first, then by device."""
    mine = [d for d in disks if instance_id in d.attached_instance_ids]
    return sorted(mine, key=_disk_order(instance_id))


def _disk_order(instance_id: str) -> Callable[[Disk], tuple[bool, str, str]]:
    return lambda d: (not d.is_system, d.device_on(instance_id) or "~", d.disk_id)


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing read whole, as the browse screen holds it: sorted, by id, and each instance's disks."""

    instances: list[Instance]
    disks: list[Disk]
    instances_by_id: dict[str, Instance]
    disks_by_id: dict[str, Disk]
    disks_by_instance: dict[str, list[Disk]]


def listing_of(instances: Iterable[Instance], disks: Iterable[Disk]) -> Listing:
    """The :class:`Listing` of a read, built by the reading thread: at 10,000 instances it was half of
    what applying a full read held the screen's thread for (the disk index most of it)."""
    ordered_instances = sorted(instances, key=lambda i: (i.region_id, i.name, i.instance_id))
    ordered_disks = sorted(disks, key=lambda d: (d.region_id, d.disk_id))
    return Listing(
        ordered_instances,
        ordered_disks,
        {i.instance_id: i for i in ordered_instances},
        {d.disk_id: d for d in ordered_disks},
        disks_by_instance(ordered_disks),
    )


def disks_by_instance(disks: Iterable[Disk]) -> dict[str, list[Disk]]:
    """Every instance's disks as :func:`disks_of` gives them, from one pass over the fleet (so moving the
    cursor over a 20,000-disk fleet does not scan every disk again)."""
    index: dict[str, list[Disk]] = {}
    for disk in disks:
        for instance_id in dict.fromkeys(disk.attached_instance_ids):
            index.setdefault(instance_id, []).append(disk)
    for instance_id, mine in index.items():
        mine.sort(key=_disk_order(instance_id))
    return index


def patch_disk_index(
    index: dict[str, list[Disk]], before: Mapping[str, Disk], fresh: Iterable[Disk], gone: Iterable[str]
) -> None:
    """Apply a read by id to a :func:`disks_by_instance` index in place: each disk read (or ``gone``) leaves
    the lists of the instances it was attached to (``before``: the disks by id as the index has them) and
    joins those it is attached to now. Only those lists are built again, not the fleet's."""
    fresh = list(fresh)
    touched = {d.disk_id for d in fresh} | set(gone)
    instance_ids: set[str] = set()
    for disk_id in touched:
        old = before.get(disk_id)
        if old is not None:
            instance_ids.update(old.attached_instance_ids)
    for disk in fresh:
        instance_ids.update(disk.attached_instance_ids)
    for instance_id in instance_ids:
        mine = [d for d in index.get(instance_id, ()) if d.disk_id not in touched]
        mine.extend(d for d in fresh if instance_id in d.attached_instance_ids)
        if mine:
            mine.sort(key=_disk_order(instance_id))
            index[instance_id] = mine
        else:
            index.pop(instance_id, None)


def rows_patched(
    objects: Iterable[T],
    rows: Iterable[Row],
    before: Mapping[str, T],
    touched: Iterable[str],
    build: Callable[[T], Row],
) -> tuple[list[Row], bool]:
    """The rows of ``objects`` after a read by id, and whether any row changed. ``rows`` were built from
    ``before`` (by id); an object of it that is not ``touched`` keeps its row, found by the object's
    identity (no object's id is read: at 30,000 that was most of the cost); the others are built again."""
    row_of = {id(before[row.key]): row for row in rows if row.key in before}
    again = {id(old) for key in touched if (old := before.get(key)) is not None}
    out: list[Row] = []
    changed = False
    for item in objects:
        row = row_of.get(id(item))
        if row is None or id(item) in again:
            built = build(item)
            changed = changed or built != row
            row = built
        out.append(row)
    return out, changed


def merge_disk_index(index: dict[str, list[Disk]], more: Mapping[str, list[Disk]]) -> None:
    """Add another :func:`disks_by_instance` index (of other disks) to ``index`` in place; only the lists
    that had disks already are sorted again."""
    for instance_id, disks in more.items():
        mine = index.get(instance_id)
        if mine is None:
            index[instance_id] = list(disks)
        else:
            mine.extend(disks)
            mine.sort(key=_disk_order(instance_id))


def disk_rows(
    disks: Iterable[Disk],
    *,
    instance_id: str | None = None,
    marked: frozenset[str] | set[str] = frozenset(),
    with_instance: bool = False,
) -> list[Row]:
    return [
        disk_row(d, instance_id=instance_id, marked=d.disk_id in marked, with_instance=with_instance)
        for d in disks
    ]


# --- detail


def tags_text(tags: Iterable[tuple[str, str]]) -> str:
    """``app=web, env=prod``: as a ``tag:`` filter term names them (a key without a value alone)."""
    return ", ".join(f"{key}={value}" if value else key for key, value in tags) or "none"


def instance_details(instance: Instance) -> list[tuple[str, str]]:
    locks = [
        f"{reason}: {msg}" if msg else reason
        for reason, msg in zip(instance.lock_reasons, instance.lock_messages, strict=False)
    ] or list(instance.lock_reasons)
    return [
        ("Instance", instance.instance_id),
        ("Name", instance.name or "-"),
        ("Status", status_text(instance.status)),
        ("Type", instance.instance_type),
        ("Region", instance.region_id),
        ("Zone", instance.zone_id),
        ("Image", instance.image_id or "-"),
        ("OS", instance.os_type or "-"),
        ("Charge", instance.charge_type or "-"),
        ("Locks", "; ".join(locks) if locks else "none"),
        ("Tags", tags_text(instance.tags)),
    ]


def disk_details(disk: Disk) -> list[tuple[str, str]]:
    attachments = [f"{a.instance_id} {a.device}".strip() for a in disk.attachments]
    if not attachments and disk.instance_id:
        attachments = [f"{disk.instance_id} {disk.device}".strip()]
    return [
        ("Disk", disk.disk_id),
        ("Name", disk.name or "-"),
        ("Role", disk.type),
        ("Category", disk.category),
        ("Size", size_text(disk.size_gib)),
        ("Status", status_text(disk.status)),
        ("Attached to", ", ".join(attachments) if attachments else "nothing"),
        ("Portable", yes_no(disk.portable)),
        ("Multi-attach", disk.multi_attach),
        ("Delete w/ instance", yes_no(disk.delete_with_instance)),
        ("Charge", disk.charge_type),
        ("Locks", ", ".join(disk.lock_reasons) or "none"),
        ("Region", disk.region_id),
        ("Zone", disk.zone_id),
        ("Attached at", disk.attached_time or "-"),
        ("Detached at", disk.detached_time or "-"),
        ("Tags", tags_text(disk.tags)),
    ]


# Shown first in the raw JSON: what says which object this is (a reply has some 70 fields).
_LEADING_KEYS = ("InstanceId", "DiskId", "InstanceName", "DiskName", "Status", "RegionId", "ZoneId")


def raw_json(raw: Mapping[str, Any]) -> str:
    """The API's own object, its identifying keys first and the rest in name order."""
    leading = [key for key in _LEADING_KEYS if key in raw]
    ordered = {key: raw[key] for key in [*leading, *sorted(key for key in raw if key not in leading)]}
    return json.dumps(ordered, indent=2, ensure_ascii=False, default=str)
