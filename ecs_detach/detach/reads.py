"""Fresh reads of a disk and its instance, and `inspect` (the reads, checked against every precondition)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ecs_detach.detach.facts import FactsSource, facts_now
from ecs_detach.detach.guest_read import GUEST_TIMEOUT, GuestClient, GuestReads, read_guest
from ecs_detach.detach.results import WorkflowClient
from ecs_detach.detach.steps import AliyunTarget
from ecs_detach.errors import NotFoundError
from ecs_detach.guest import GuestReadInterrupted, GuestReport, GuestState, unread_report
from ecs_detach.models import DISK_AVAILABLE, Disk, Instance
from ecs_detach.preconditions import DetachOptions, Preconditions, check_detach, resolve_instance_id


def read_disk(client: WorkflowClient, disk_id: str) -> Disk | None:
    try:
        return client.get_disk(disk_id)
    except NotFoundError:
        return None


def read_instance(client: WorkflowClient, instance_id: str) -> Instance | None:
    if not instance_id:
        return None
    try:
        return client.get_instance(instance_id)
    except NotFoundError:
        return None


def _not_cancelled() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class GuestTime:
    """How a guest read waits for its probe: real time, or an emulator's virtual clock in tests and demos; for
    at most `timeout` (a plan bounds it by the run's own timeout; never past RunCommand's 60 s); `cancelled`
    ends the wait early (the guest is then reported not read, and nothing more is sent)."""

    sleep: Callable[[float], object] = time.sleep
    clock: Callable[[], float] = time.monotonic
    timeout: float = GUEST_TIMEOUT
    cancelled: Callable[[], bool] = _not_cancelled

    def bounded(self, timeout: float) -> GuestTime:
        """These waits, bounded by `timeout` too (a run's ``--timeout``)."""
        return replace(self, timeout=min(self.timeout, timeout))


def guest_report(
    client: WorkflowClient,
    disk: Disk | None,
    instance: Instance | None,
    options: DetachOptions,
    when: GuestTime,
    guests: GuestReads | None = None,
) -> GuestReport | None:
    """The guest read the options ask for: None without `guest_check`. With `guests` (a bulk run's shared
    reads), the instance's one probe answers for every disk of it."""
    if not options.guest_check:
        return None
    if options.skip_guest_check:
        os_type = instance.os_type if instance is not None else ""
        return unread_report(
            instance.instance_id if instance else "",
            disk.disk_id if disk else "",
            os_type,
            GuestState.SKIPPED,
            "the guest check was skipped (--skip-guest-check): what the guest has mounted is not known.",
        )
    if not all(
        hasattr(client, name) for name in ("cloud_assistant_status", "run_command", "invocation_result")
    ):
        return None  # a client without Cloud Assistant (a test double): no guest rows
    try:
        if guests is not None:
            return guests.report(disk, instance)
        guest_client: GuestClient = client  # type: ignore[assignment]
        return read_guest(
            guest_client,
            disk,
            instance,
            sleep=when.sleep,
            clock=when.clock,
            timeout=when.timeout,
            cancelled=when.cancelled,
        )
    except GuestReadInterrupted:
        raise
    except KeyboardInterrupt:  # Ctrl-C while the probe runs: say the guest was not read
        os_type = instance.os_type if instance is not None else ""
        raise GuestReadInterrupted(
            (instance.instance_id,) if instance else (), (disk.disk_id,) if disk else (), os_type
        ) from None


def inspect(
    client: WorkflowClient,
    disk_id: str,
    options: DetachOptions | None = None,
    *,
    facts: FactsSource = None,
    guest_time: GuestTime | None = None,
    guests: GuestReads | None = None,
) -> Preconditions:
    """Read the disk and its instance now (and the guest, with `guest_check`: through `guests` when given),
    and check every precondition. Raises `EcsError` if reads fail."""
    opts = options or DetachOptions()
    disk = read_disk(client, disk_id)
    instance = read_instance(client, resolve_instance_id(disk, opts))
    guest = guest_report(client, disk, instance, opts, guest_time or GuestTime(), guests)
    return check_detach(
        disk, instance, opts, facts=facts_now(facts), disk_id=disk_id, region_id=client.region_id, guest=guest
    )


def state_from(disk: Disk | None, instance_id: str) -> str:
    """A disk's status as seen from `instance_id` ("Detached" once no longer attached to it)."""
    if disk is None:
        return "NotFound"
    if instance_id not in disk.attached_instance_ids:
        return "Available" if disk.status == DISK_AVAILABLE else "Detached"
    return disk.status


def aliyun_target(client: object) -> AliyunTarget:
    """Where the printed ``aliyun`` commands must point: the client's profile and endpoint."""
    profile = getattr(client, "profile_name", None)
    endpoint = getattr(client, "endpoint", None)
    return AliyunTarget(
        profile=profile if isinstance(profile, str) else "",
        # Only a URL can be pasted: the in-process emulator's label ("emulator (in-process, demo)") is none.
        endpoint=endpoint if isinstance(endpoint, str) and "://" in endpoint else "",
    )
