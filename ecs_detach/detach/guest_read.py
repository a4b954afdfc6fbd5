"""Reading the guest through Cloud Assistant: is the agent online, run the read-only probe, wait for it.

`read_guest` never raises for what the guest (or the API) answers: a report that could not be read says why
(`GuestReport.state`, `.detail`), and the guest rows then say "unknown" with the commands to run by hand.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Protocol

from ecs_detach.errors import EcsError, ServerError, TransportError
from ecs_detach.guest import (
    GuestReadInterrupted,
    GuestReport,
    GuestState,
    Holder,
    command_type,
    holders_script,
    parse_holders,
    parse_probe,
    probe_script,
    unread_report,
)
from ecs_detach.models import INSTANCE_RUNNING, AgentStatus, Disk, Instance, InvocationResult

__all__ = [
    "GUEST_READERS",
    "GUEST_TIMEOUT",
    "GuestClient",
    "GuestReads",
    "InstanceProbe",
    "probe_instance",
    "read_guest",
    "report_from_probe",
    "report_without_probe",
    "wait_invocation",
]

GUEST_TIMEOUT = 60.0  # seconds a probe may take (RunCommand's own default timeout)
_POLL = 1.0
GUEST_READERS = 8  # instances whose guests a bulk run reads at once


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
    unprobed = report_without_probe(disk, instance)
    if unprobed is not None:
        return unprobed
    assert disk is not None and instance is not None  # `report_without_probe` answers for a missing one
    probe = probe_instance(
        client, instance, (disk.disk_id,), sleep=sleep, clock=clock, timeout=timeout, cancelled=cancelled
    )
    return report_from_probe(
        client, probe, disk.disk_id, sleep=sleep, clock=clock, timeout=timeout, cancelled=cancelled
    )


def report_without_probe(disk: Disk | None, instance: Instance | None) -> GuestReport | None:
    """The report when the guest needs no probe (the disk or instance is gone, a system disk, an instance
    not Running); None when it must be probed."""
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
    return None


@dataclass(frozen=True, slots=True)
class InstanceProbe:
    """One read of an instance's guest: the probe's output, good for every disk of it (the probe does not
    depend on the disk), or why it could not be read (`state`, `detail`); and what holds the mounts of the
    disks it was read for (one ``fuser`` probe for all of them)."""

    instance_id: str
    os_type: str
    state: GuestState
    detail: str = ""
    output: str = ""
    invoke_id: str = ""
    held_for: tuple[str, ...] = ()  # the mount points the holders' probe asked about
    holders: tuple[Holder, ...] = ()
    holders_invoke: str = ""  # "" when that probe did not finish
    holders_error: str = ""  # why that probe could not be sent or read


def probe_instance(
    client: GuestClient,
    instance: Instance,
    disk_ids: Sequence[str] = (),
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = GUEST_TIMEOUT,
    cancelled: Callable[[], bool] = _never,
) -> InstanceProbe:
    """Is the agent there and online, the probe's output, and what holds the mounts of `disk_ids` (never
    raises `EcsError`). A probe unfinished within `timeout` (at most `GUEST_TIMEOUT`) or `cancelled()` reads
    UNREADABLE, saying which."""
    instance_id, os_type = instance.instance_id, instance.os_type or "linux"
    timeout = min(timeout, GUEST_TIMEOUT)
    try:
        statuses = {s.instance_id: s for s in client.cloud_assistant_status([instance_id])}
        agent = statuses.get(instance_id)
        if agent is None or not agent.installed:
            detail = f"the Cloud Assistant Agent is not installed on {instance_id}."
            return InstanceProbe(instance_id, os_type, GuestState.AGENT_ABSENT, detail)
        if not agent.online:
            detail = f"the Cloud Assistant Agent on {instance_id} is not online."
            return InstanceProbe(instance_id, os_type, GuestState.AGENT_OFFLINE, detail)
        os_type = agent.os_type or os_type
        kind = command_type(os_type)
        invoke_id = run_probe(client, instance_id, probe_script(os_type), kind, timeout)
        result = wait_invocation(
            client, invoke_id, instance_id, sleep=sleep, clock=clock, timeout=timeout, cancelled=cancelled
        )
    except EcsError as exc:
        detail = f"the guest could not be read through Cloud Assistant ({exc})."
        return InstanceProbe(instance_id, os_type, GuestState.UNREADABLE, detail)
    if not result.finished:
        detail = _unfinished(invoke_id, timeout, cancelled)
        return InstanceProbe(instance_id, os_type, GuestState.UNREADABLE, detail)
    if not result.succeeded:
        why = f"{result.error_code}: {result.error_info}" if result.error_code else f"exit {result.exit_code}"
        detail = f"the guest probe ended {result.status} ({why})."
        return InstanceProbe(instance_id, os_type, GuestState.UNREADABLE, detail)
    probe = InstanceProbe(instance_id, os_type, GuestState.READ, output=result.output, invoke_id=invoke_id)
    if command_type(os_type) != command_type("linux"):
        return probe  # Windows: no mounts to ask fuser about
    points = tuple(
        dict.fromkeys(
            point
            for disk_id in disk_ids
            for point in parse_probe(instance_id, disk_id, os_type, probe.output).mount_points
        )
    )
    if not points:
        return probe
    holders, held, error = _read_holders(
        client, instance_id, points, sleep=sleep, clock=clock, timeout=timeout, cancelled=cancelled
    )
    return replace(probe, held_for=points, holders=holders, holders_invoke=held, holders_error=error)


def _unfinished(invoke_id: str, timeout: float, cancelled: Callable[[], bool]) -> str:
    """Why the probe `invoke_id` has no result: the wait was cancelled, or it outlived the timeout."""
    if cancelled():
        return f"the wait for the guest probe ({invoke_id}) was cancelled: the guest was not read."
    return (
        f"the guest probe ({invoke_id}) had not finished after {timeout:.0f} s: what the guest has mounted "
        "is not known."
    )


def _read_holders(
    client: GuestClient,
    instance_id: str,
    mount_points: tuple[str, ...],
    *,
    sleep: Callable[[float], object],
    clock: Callable[[], float],
    timeout: float,
    cancelled: Callable[[], bool] = _never,
) -> tuple[tuple[Holder, ...], str, str]:
    """What holds these mounts (a read-only ``fuser`` probe): (the holders, its InvokeId or "" when it did not
    finish, why it could not be read or "")."""
    try:
        held = run_probe(client, instance_id, holders_script(mount_points), command_type("linux"), timeout)
        result = wait_invocation(
            client, held, instance_id, sleep=sleep, clock=clock, timeout=timeout, cancelled=cancelled
        )
    except EcsError as exc:
        return (), "", f"the guest could not be read through Cloud Assistant ({exc})."
    if not result.finished:
        return (), "", ""
    return parse_holders(result.output), held, ""  # fuser exits 1 when nothing holds a mount: still counts


def report_from_probe(
    client: GuestClient,
    probe: InstanceProbe,
    disk_id: str,
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = GUEST_TIMEOUT,
    cancelled: Callable[[], bool] = _never,
) -> GuestReport:
    """What the probe's output says of `disk_id`, with what holds its mounts (from the probe's holders read,
    else a second read-only probe of its own). Never raises `EcsError`."""
    instance_id, os_type = probe.instance_id, probe.os_type
    if probe.state is not GuestState.READ:
        return unread_report(instance_id, disk_id, os_type, probe.state, probe.detail)
    report = replace(parse_probe(instance_id, disk_id, os_type, probe.output), invoke_ids=(probe.invoke_id,))
    points = report.mount_points
    if not (report.read and report.os_type == "linux" and points):
        return report
    if set(points) <= set(probe.held_for):
        holders = tuple(h for h in probe.holders if h.mount_point in points)
        held, error = probe.holders_invoke, probe.holders_error
    else:
        holders, held, error = _read_holders(
            client, instance_id, points, sleep=sleep, clock=clock, timeout=timeout, cancelled=cancelled
        )
    if error:
        return unread_report(instance_id, disk_id, os_type, GuestState.UNREADABLE, error)
    return replace(report, holders=holders, invoke_ids=(probe.invoke_id, held)) if held else report


class GuestReads:
    """Guest reads shared by the disks of a bulk run: each instance's guest is probed once, whatever the
    number of its disks asked about, and `read_ahead` probes several instances at once (`workers`)."""

    def __init__(
        self,
        client: GuestClient,
        *,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = GUEST_TIMEOUT,
        workers: int = GUEST_READERS,
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        self._workers = max(1, workers)
        self._lock = threading.Lock()
        self._probes: dict[str, Future[InstanceProbe]] = {}

    def read_ahead(self, wanted: Iterable[tuple[Instance, Sequence[str]]]) -> None:
        """Probe now the guests of these instances (the Running ones, each once), several at once, each with
        what holds the mounts of its disks named here (one ``fuser`` probe for all of them)."""
        disks: dict[str, list[str]] = {}
        instances: dict[str, Instance] = {}
        for instance, disk_ids in wanted:
            if instance.status == INSTANCE_RUNNING:
                instances[instance.instance_id] = instance
                disks.setdefault(instance.instance_id, []).extend(disk_ids)
        jobs: queue.SimpleQueue[tuple[Instance, tuple[str, ...]]] = queue.SimpleQueue()
        for instance_id, disk_ids in disks.items():
            jobs.put((instances[instance_id], tuple(dict.fromkeys(disk_ids))))

        def work() -> None:
            while True:
                try:
                    instance, disk_ids = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    self._probe(instance, disk_ids)
                except Exception:  # kept in the instance's future: its disk's `report` raises it
                    continue

        # Daemon threads: Ctrl-C while the probes wait ends the command at once (a probe only reads).
        readers = [
            threading.Thread(target=work, name=f"ecs-detach-guest-{n}", daemon=True)
            for n in range(min(self._workers, len(disks)))
        ]
        try:
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join()
        except KeyboardInterrupt:  # Ctrl-C: name a guest not read yet (nothing was changed)
            raise self._interrupted(instances, disks) from None

    def _interrupted(
        self, instances: dict[str, Instance], disks: dict[str, list[str]]
    ) -> GuestReadInterrupted:
        with self._lock:
            done = {i for i, f in self._probes.items() if f.done()}
        unread = [i for i in instances if i not in done] or list(instances)
        first = instances[unread[0]]
        disk_ids = tuple(d for i in unread for d in dict.fromkeys(disks[i]))
        return GuestReadInterrupted(tuple(unread), disk_ids, first.os_type)

    def report(self, disk: Disk | None, instance: Instance | None) -> GuestReport:
        """What the guest of `instance` does with `disk`, from that instance's one probe (never raises
        `EcsError`)."""
        unprobed = report_without_probe(disk, instance)
        if unprobed is not None:
            return unprobed
        assert disk is not None and instance is not None  # `report_without_probe` answers for a missing one
        probe = self._probe(instance, (disk.disk_id,))
        return report_from_probe(
            self._client, probe, disk.disk_id, sleep=self._sleep, clock=self._clock, timeout=self._timeout
        )

    def _probe(self, instance: Instance, disk_ids: tuple[str, ...]) -> InstanceProbe:
        """The instance's probe: sent by the first to ask; whoever asks meanwhile waits for that one."""
        with self._lock:
            future = self._probes.get(instance.instance_id)
            mine = future is None
            if future is None:
                future = self._probes[instance.instance_id] = Future()
        if mine:
            try:
                probed = probe_instance(
                    self._client,
                    instance,
                    disk_ids,
                    sleep=self._sleep,
                    clock=self._clock,
                    timeout=self._timeout,
                )
            except BaseException as exc:  # not an API answer (a bug, Ctrl-C): whoever waits sees it too
                future.set_exception(exc)
                raise
            future.set_result(probed)
        return future.result()
