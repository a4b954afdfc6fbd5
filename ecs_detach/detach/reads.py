"""Fresh reads of a disk and its instance, and `inspect` (the reads, checked against every precondition)."""

from __future__ import annotations

from ecs_detach.detach.facts import FactsSource, facts_now
from ecs_detach.detach.results import WorkflowClient
from ecs_detach.detach.steps import AliyunTarget
from ecs_detach.errors import NotFoundError
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


def inspect(
    client: WorkflowClient, disk_id: str, options: DetachOptions | None = None, *, facts: FactsSource = None
) -> Preconditions:
    """Read the disk and its instance now, and check every precondition. Raises `EcsError` if reads fail."""
    opts = options or DetachOptions()
    disk = read_disk(client, disk_id)
    instance = read_instance(client, resolve_instance_id(disk, opts))
    return check_detach(
        disk, instance, opts, facts=facts_now(facts), disk_id=disk_id, region_id=client.region_id
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
