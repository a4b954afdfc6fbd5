"""Re-attaching a detached disk (undo): its plan and its run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_detach.detach.facts import FactsSource, facts_now
from ecs_detach.detach.guest_read import GuestClient, read_guest
from ecs_detach.detach.guest_steps import mount_back, mount_back_if_owed
from ecs_detach.detach.power import start_again
from ecs_detach.detach.reads import GuestTime, aliyun_target, read_disk, read_instance
from ecs_detach.detach.results import Outcome, RunResult, WorkflowClient
from ecs_detach.detach.runner import MAX_ROUNDS, Runner, durations_of
from ecs_detach.detach.send import Answer, Secrets, send
from ecs_detach.errors import EcsError
from ecs_detach.guest import Remount, RemountNow, remount_now
from ecs_detach.journal import JournalRecord
from ecs_detach.models import DISK_ATTACHING, DISK_DETACHING, INSTANCE_STOPPED, INSTANCE_TRANSITIONAL
from ecs_detach.plan import DEFAULT_TIMEOUT, Plan, StepKind, plan_reattach


def prepare_reattach(
    client: WorkflowClient,
    record: JournalRecord,
    *,
    credential: str | None = None,
    start_after: bool = False,
    facts: FactsSource = None,
    timeout: float = DEFAULT_TIMEOUT,
    remount: bool = True,
) -> Plan:
    """The plan to undo the DetachDisk `record` (an intent or outcome from the journal): AttachDisk back,
    then (`remount`, when our unmount preceded the detach) mount it back in the guest as it was.

    `credential` ("password" or "key-pair") says which the caller will give for a system disk.
    """
    if record.action != "DetachDisk":
        raise ValueError(f"only a DetachDisk record can be undone, not {record.action}")
    system = record.context.get("disk_type") == "system"
    if not record.context.get("disk_type"):
        disk = read_disk(client, record.disk_id)
        system = disk is not None and disk.is_system
    known = facts_now(facts)
    before = record.context.get("delete_with_instance_before")
    multi = bool(record.context.get("multi_attach"))
    return plan_reattach(
        record.disk_id,
        record.instance_id,
        record.region or client.region_id,
        system_disk=system,
        credential=credential,
        delete_with_instance=None if multi or not isinstance(before, bool) else before,
        start_after=start_after,
        durations=known.durations if known else None,
        timeout=timeout,
        target=aliyun_target(client),
        remount=Remount.from_context(record.context) if remount else None,
        undoes=record.operation_id,
    )


def read_remount(
    client: WorkflowClient, plan: Plan, *, guest_time: GuestTime | None = None
) -> RemountNow | None:
    """For an undo `plan` that mounts the disk back, when the disk is attached to the plan's instance again
    (an earlier undo attached it, then its remount failed, was lost, or the run was killed): a fresh read of
    the guest says whether the remount is still owed, as the run decides before it mounts back
    (`mount_back_if_owed`). Running the same plan then sends the remount only if so. None when the plan
    has no remount or the disk is not attached there (the undo attaches it first). Sends nothing but the
    read-only probe; raises `EcsError` when the disk or the instance cannot be read."""
    step = next((step for step in plan.steps if step.kind is StepKind.GUEST_REMOUNT), None)
    if step is None:
        return None
    disk = read_disk(client, plan.disk_id)
    if disk is None or plan.instance_id not in disk.attached_instance_ids:
        return None
    if disk.status in (DISK_ATTACHING, DISK_DETACHING):
        return None
    instance = read_instance(client, plan.instance_id)
    when = (guest_time or GuestTime()).bounded(plan.timeout)
    guests: GuestClient = client  # type: ignore[assignment]  # a plan with a remount came from a guest read
    report = read_guest(
        guests,
        disk,
        instance,
        sleep=when.sleep,
        clock=when.clock,
        timeout=when.timeout,
        cancelled=when.cancelled,
    )
    return remount_now(step.params["CommandContent"], step.params.get("Type", ""), report)


def run_reattach(
    runner: Runner,
    plan: Plan,
    *,
    password: str | None,
    key_pair_name: str | None,
    context: Mapping[str, Any] | None = None,
) -> RunResult:
    """Attach the plan's disk to the plan's instance and wait until it is attached (`context` goes to the
    journal's AttachDisk intent: an undo's by default, a move's when a move calls it)."""
    if not plan.executable:
        return runner.result(Outcome.BLOCKED, plan.refusal)
    timeout = runner.timeout or plan.timeout
    dur = durations_of(runner)
    system = any(step.params.get("Bootable") == "true" for step in plan.steps)
    attach_step = next(step for step in plan.steps if step.kind is StepKind.ATTACH_DISK)
    for _ in range(MAX_ROUNDS):
        try:
            disk = read_disk(runner.client, plan.disk_id)
            instance = read_instance(runner.client, plan.instance_id)
        except EcsError as exc:
            raise runner.read_failed(f"disk {plan.disk_id}", exc) from None
        runner.last_disk = disk
        if disk is None:
            raise runner.stop(Outcome.FAILED, f"Disk {plan.disk_id} no longer exists: nothing to re-attach.")
        if instance is None:
            raise runner.stop(Outcome.FAILED, f"Instance {plan.instance_id} no longer exists.")
        if instance.security_locked:
            raise runner.stop(
                Outcome.BLOCKED,
                f"Instance {plan.instance_id} is locked for security reasons: every operation is refused.",
                code="InstanceLockedForSecurity",
            )
        if plan.instance_id in disk.attached_instance_ids and disk.status != DISK_DETACHING:
            if disk.status == DISK_ATTACHING:
                break  # someone (perhaps us, earlier) is attaching it: follow
            message = f"Disk {plan.disk_id} is already attached to instance {plan.instance_id}."
            remount = next((step for step in plan.steps if step.kind is StepKind.GUEST_REMOUNT), None)
            if remount is not None:  # an earlier undo attached it: is its remount still owed?
                owed = mount_back_if_owed(runner, remount, disk, instance, timeout, plan.undoes)
                message += f" In the guest: {owed}."
            return runner.result(Outcome.DONE, message)
        if disk.status == DISK_DETACHING and plan.instance_id in disk.attached_instance_ids:
            runner.wait_detached(timeout, dur.detach)
            continue
        if disk.attached_instance_ids and not disk.is_multi_attach:
            raise runner.stop(
                Outcome.BLOCKED,
                f"Disk {plan.disk_id} is attached to {', '.join(disk.attached_instance_ids)} now; "
                "detach it there first.",
            )
        if instance.status in INSTANCE_TRANSITIONAL:
            runner.wait_instance("settled", StepKind.WAIT_INSTANCE_SETTLED, timeout, dur.stop)
            continue
        if system and instance.status != INSTANCE_STOPPED:
            raise runner.stop(
                Outcome.BLOCKED,
                f"Instance {plan.instance_id} is {instance.status}; a system disk is attached only to "
                "a Stopped instance.",
                code="IncorrectInstanceStatus",
            )
        sent = send(
            runner,
            StepKind.ATTACH_DISK,
            attach_step.params,
            context=dict(context or {"undo": True}) | {"disk_type": disk.type},
            describe=attach_step.description,
            secrets=Secrets(password=password, key_pair_name=key_pair_name),
        )
        if sent.answer is Answer.NOT_APPLIED:
            runner.back_off()
            continue
        if sent.answer is Answer.DID_NOT_HAPPEN:
            continue
        if sent.answer is Answer.UNKNOWN:
            raise runner.stop(
                Outcome.FAILED,
                "The outcome of AttachDisk is unknown, and the disk's state does not tell.",
            )
        if (error := sent.api_error) is not None:
            raise runner.stop(
                Outcome.FAILED,
                f"AttachDisk was refused: {error}",
                code=error.code,
                remedy=error.remedy_worded or error.remedy,
            )
        if sent.answer is Answer.NOT_SENT:
            raise runner.stop(Outcome.FAILED, f"AttachDisk was not sent: {sent.error}")
        break
    else:
        raise runner.stop(Outcome.FAILED, f"Disk {plan.disk_id}: the state kept changing; gave up.")

    def attached(state: str) -> bool:
        return state not in (DISK_ATTACHING, "Available", "Detached")

    reader = runner.disk_state(plan.disk_id, plan.instance_id)
    runner.wait(
        StepKind.WAIT_DISK_IN_USE,
        f"disk {plan.disk_id}",
        reader,
        attached,
        expected=dur.attach,
        timeout=timeout,
        target=f"attached to {plan.instance_id}",
    )
    message = f"Disk {plan.disk_id} is attached to instance {plan.instance_id} again."
    if plan.has_step(StepKind.START_INSTANCE):
        runner.stopped_instance = True
        start_again(runner, timeout, dur.start, done="attached again")
        message += f" Instance {plan.instance_id} is Running."
    remount = next((step for step in plan.steps if step.kind is StepKind.GUEST_REMOUNT), None)
    if remount is not None:
        message += f" In the guest: {mount_back(runner, remount, plan.disk_id, timeout, plan.undoes)}."
    return runner.result(Outcome.DONE, message)
