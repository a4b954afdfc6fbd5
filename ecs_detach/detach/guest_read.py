"""Reading the guest through Cloud Assistant: is the agent online, run the read-only probe, wait for it.

`read_guest` never raises for what the guest (or the API) answers: a report that could not be read says why
(`GuestReport.state`, `.detail`), and the guest rows then say "unknown" with the commands to run by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ecs_detach.errors import EcsError, ServerError, TransportError
from ecs_detach.guest import (
    GuestReport,
    GuestState,
    command_type,
    holders_script,
    parse_holders,
    parse_probe,
    probe_script,
    unread_report,
)
from ecs_detach.models import INSTANCE_RUNNING, AgentStatus, Disk, Instance, InvocationResult

__all__ = ["GUEST_TIMEOUT", "GuestClient", "read_guest", "wait_invocation"]

GUEST_TIMEOUT = 60.0  # seconds a probe may take (RunCommand's own default timeout)
_POLL = 1.0


class GuestClient(Protocol):
    """What reading the guest needs from a client (`ecs_detach.client.EcsClient` fits)."""

    def cloud_assistant_status(self, instance_ids: Sequence[str]) -> list[AgentStatus]: ...

    def run_command(
        self, instance_id: str, content: str, *, command_type: str, timeout: int = 60, name: str = ""
    ) -> str: ...

    def invocation_result(self, invoke_id: str, instance_id: str) -> InvocationResult: ...


def _never() -> bool:
    return False


def wait_invocation(
    client: GuestClient,
    invoke_id: str,
    instance_id: str,
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = GUEST_TIMEOUT,
    cancelled: Callable[[], bool] = _never,
) -> InvocationResult:
    """Poll DescribeInvocationResults until the invocation on `instance_id` has finished, for at most
    `timeout` (and never past `GUEST_TIMEOUT`, RunCommand's own limit), or until `cancelled()`. The result is
    unfinished (still Running) when the wait ended first: the caller says "unknown"."""
    deadline = clock() + min(timeout, GUEST_TIMEOUT)
    while True:
        result = client.invocation_result(invoke_id, instance_id)
        if result.finished or cancelled() or clock() >= deadline:
            return result
        sleep(_POLL)


def run_probe(client: GuestClient, instance_id: str, script: str, kind: str, timeout: float) -> str:
    """RunCommand of a read-only probe script (it changes nothing in the guest): the one RunCommand the stack
    sends outside the journaled `send`, since reading the guest is a read. Returns the InvokeId.

    A lost answer (a reset, a cut reply, a 5xx, a replay) is sent again once: running a probe twice is
    harmless, and a guest left unread would let a detach go on with its disk mounted."""

    def probe() -> str:
        return client.run_command(
            instance_id, script, command_type=kind, timeout=int(timeout), name="ecs-detach-probe"
        )

    try:
        return probe()
    except (TransportError, ServerError):
        return probe()


def read_guest(
    client: GuestClient,
    disk: Disk | None,
    instance: Instance | None,
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = GUEST_TIMEOUT,
    cancelled: Callable[[], bool] = _never,
) -> GuestReport:
    """What the guest of `instance` does with `disk`, read now (never raises `EcsError`). A probe that does
    not finish within `timeout` (at most `GUEST_TIMEOUT`), or whose wait is `cancelled()`, leaves the guest
    unread (UNREADABLE, saying so): its rows say "unknown", with the commands to run by hand."""
    disk_id = disk.disk_id if disk is not None else ""
    instance_id = instance.instance_id if instance is not None else ""
    os_type = (instance.os_type if instance is not None else "") or "linux"
    if disk is None or instance is None:
        return unread_report(
            instance_id, disk_id, os_type, GuestState.NOT_NEEDED, "the disk or instance is gone."
        )
    if disk.is_system:
        detail = "a system disk is detached only from a Stopped instance, when nothing of it is mounted."
        return unread_report(instance_id, disk_id, os_type, GuestState.NOT_NEEDED, detail)
    if instance.status != INSTANCE_RUNNING:
        detail = f"instance {instance_id} is {instance.status}: nothing is mounted in its guest."
        return unread_report(instance_id, disk_id, os_type, GuestState.NOT_RUNNING, detail)
    try:
        wait = _Wait(sleep, clock, min(timeout, GUEST_TIMEOUT), cancelled)
        return _probe(client, disk_id, instance_id, os_type, wait)
    except EcsError as exc:
        detail = f"the guest could not be read through Cloud Assistant ({exc})."
        return unread_report(instance_id, disk_id, os_type, GuestState.UNREADABLE, detail)


@dataclass(frozen=True, slots=True)
class _Wait:
    sleep: Callable[[float], object]
    clock: Callable[[], float]
    timeout: float
    cancelled: Callable[[], bool]

    def result(self, client: GuestClient, invoke_id: str, instance_id: str) -> InvocationResult:
        return wait_invocation(
            client,
            invoke_id,
            instance_id,
            sleep=self.sleep,
            clock=self.clock,
            timeout=self.timeout,
            cancelled=self.cancelled,
        )

    def unfinished(self, invoke_id: str) -> str:
        """Why the probe `invoke_id` has no result: the wait was cancelled, or it outlived the timeout."""
        if self.cancelled():
            return f"the wait for the guest probe ({invoke_id}) was cancelled: the guest was not read."
        return (
            f"the guest probe ({invoke_id}) had not finished after {self.timeout:.0f} s: what the guest "
            "has mounted is not known."
        )


def _probe(client: GuestClient, disk_id: str, instance_id: str, os_type: str, wait: _Wait) -> GuestReport:
    statuses = {s.instance_id: s for s in client.cloud_assistant_status([instance_id])}
    agent = statuses.get(instance_id)
    if agent is None or not agent.installed:
        detail = f"the Cloud Assistant Agent is not installed on {instance_id}."
        return unread_report(instance_id, disk_id, os_type, GuestState.AGENT_ABSENT, detail)
    if not agent.online:
        detail = f"the Cloud Assistant Agent on {instance_id} is not online."
        return unread_report(instance_id, disk_id, os_type, GuestState.AGENT_OFFLINE, detail)
    os_type = agent.os_type or os_type
    kind = command_type(os_type)
    invoke_id = run_probe(client, instance_id, probe_script(os_type), kind, wait.timeout)
    result = wait.result(client, invoke_id, instance_id)
    if not result.finished:
        return unread_report(instance_id, disk_id, os_type, GuestState.UNREADABLE, wait.unfinished(invoke_id))
    if not result.succeeded:
        why = f"{result.error_code}: {result.error_info}" if result.error_code else f"exit {result.exit_code}"
        detail = f"the guest probe ended {result.status} ({why})."
        return unread_report(instance_id, disk_id, os_type, GuestState.UNREADABLE, detail)
    report = replace(parse_probe(instance_id, disk_id, os_type, result.output), invoke_ids=(invoke_id,))
    if report.read and report.os_type == "linux" and report.mount_points:
        script = holders_script(report.mount_points)
        held = run_probe(client, instance_id, script, kind, wait.timeout)
        holders = wait.result(client, held, instance_id)
        if holders.finished:  # fuser exits 1 when nothing holds the mount: its output still counts
            report = replace(report, holders=parse_holders(holders.output), invoke_ids=(invoke_id, held))
    return report
