"""Messages the screens' workers post back to the UI thread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from textual.message import Message

from ecs_detach.models import Disk, Instance, Region

from .rows import Listing


@dataclass
class FleetLoaded(Message):
    """A fresh read of instances and disks (one region, or all of them), sorted and indexed by the reading
    thread."""

    listing: Listing
    all_regions: bool = False
    region_errors: Mapping[str, str] = field(default_factory=dict)
    """Regions that could not be read in an all-regions view, with the reason."""
    instance_filters: Mapping[str, object] = field(default_factory=dict)
    """The DescribeInstances parameters the read was narrowed by (none: the whole listing)."""


@dataclass
class FleetPage(Message):
    """Pages of a streamed first read are waiting to be shown (the reading thread buffers them, so pages
    that come while the screen is busy are shown together); ``FleetLoaded`` ends the read."""

    generation: int


@dataclass
class FleetPatched(Message):
    """A read by id of what moves: these objects replace theirs; ``gone`` ids no longer exist."""

    instances: Sequence[Instance]
    disks: Sequence[Disk]
    gone_instances: frozenset[str]
    gone_disks: frozenset[str]


@dataclass
class FilteredDisksLoaded(Message):
    """The all-disks view's own listing, read with the DescribeDisks parameters the API filters by (a large
    region); the whole listing, which the instances view uses, is not touched. ``error``: the read failed."""

    generation: int
    filters: Mapping[str, object]
    disks: Sequence[Disk] = ()
    error: BaseException | None = None


@dataclass
class FilteredDisksPage(Message):
    """Pages of a streamed filtered read of the all-disks view are waiting to be shown (as ``FleetPage``
    for the whole listing); ``FilteredDisksLoaded`` ends the read."""

    generation: int
    filters: Mapping[str, object]


@dataclass
class RefreshThrottled(Message):
    """The API answered Throttling (after the client's own retries): the refresh slows down."""

    full: bool


@dataclass
class LoadFailed(Message):
    """Reading the fleet failed; ``error`` is shown as a notification with its remedy."""

    error: BaseException
    moving: bool = False
    """The read by id of what moves failed (the listing shown stays)."""


@dataclass
class RegionsLoaded(Message):
    regions: Sequence[Region]


@dataclass
class JobProgress(Message):
    """One progress event of a running job (from ``workflow.run``'s ``on_progress``)."""

    job_id: int
    phase: str
    state: str
    message: str
    at: float
    """The (virtual) time the event happened, read in the worker."""


@dataclass
class JobFinished(Message):
    job_id: int
    outcome: str
    message: str
    remedy: str
    request_ids: tuple[str, ...]
    at: float
