"""Move a disk to another instance: DetachDisk from the source, AttachDisk to the target, one plan.

`prepare_move` reads both sides and checks them before anything is sent: the source half is the detach's
own preconditions and plan (`prepare`), the target half the rules of AttachDisk for a disk coming from
another instance (`check_target`: the same zone, the target's status and locks, a free device, the disk's
category on the target's instance type, multi-attach, and for a system disk attached as one the target
Stopped, without a system disk, with the logon credentials AttachDisk requires). `run_move` runs the
confirmed plan: the detach (journaled, with its stop / snapshot / restart as chosen), then the attach
(journaled, its context names the source), then the target's start if chosen. A failure between the two
halves leaves the disk Available, and the result says so and how to finish or undo it. A move killed
between the halves is finished by preparing it again: the disk is Available, so only the attach is left.
Undo (`prepare_move_back`) is a move back to the source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ecs_detach.detach.facts import FactsSource, facts_now
from ecs_detach.detach.power import stop_for_detach
from ecs_detach.detach.prepare import prepare
from ecs_detach.detach.reads import GuestTime, aliyun_target, read_disk, read_instance
from ecs_detach.detach.results import CancelToken, Outcome, ProgressEvent, RunResult, WorkflowClient
from ecs_detach.detach.run import run
from ecs_detach.detach.runner import Runner, RunStopped, durations_of
from ecs_detach.detach.undo import run_reattach
from ecs_detach.errors import EcsError
from ecs_detach.journal import Journal, JournalRecord
from ecs_detach.models import (
    DISK_AVAILABLE,
    INSTANCE_RUNNING,
    INSTANCE_STOPPED,
    INSTANCE_TRANSITIONAL,
    Disk,
    Instance,
)
from ecs_detach.plan import DEFAULT_TIMEOUT, Plan, PlanStep, StepKind, plan_reattach
from ecs_detach.preconditions import DetachOptions, PlatformFacts
from ecs_detach.wording import CLI_WORDS, Choice, Worded, Words, worded

__all__ = [
    "MoveCheck",
    "MoveOptions",
    "MovePlan",
    "check_target",
    "prepare_move",
    "prepare_move_back",
    "run_move",
    "system_disk_origin",
]

MAX_DATA_DISKS = 64  # data disks per instance (today's limit; older pages said 16)
MAX_MULTI_ATTACHMENTS = 16
SYSTEM_DEVICE = "/dev/xvda"  # where an instance's system disk is attached


@dataclass(frozen=True, slots=True)
class MoveOptions:
    """What the operator chose for a move. Nothing is stopped or started unless asked."""

    target_instance_id: str
    source_instance_id: str | None = None  # which attachment (a multi-attach disk)
    allow_stop_source: bool = False  # the source may be stopped if the detach needs it (a system disk)
    restart_source: bool = False  # start the source again afterwards if this move stopped it
    force_stop: bool = False
    stopped_mode: str | None = None
    stop_target: bool = False  # the target may be stopped if the attach needs it
    start_target: bool = False  # start the target afterwards if this move stopped it
    bootable: bool = False  # attach as the target's system disk (AttachDisk Bootable)
    credential: str | None = None  # "password" | "key-pair": which the caller passes to run_move
    snapshot: bool = False  # CreateSnapshot first (billed)
    guest_check: bool = False  # read the source's guest first (Cloud Assistant), as a detach does
    unmount: bool = False  # may unmount the disk in the source's guest (its /etc/fstab lines commented out)
    skip_guest_check: bool = False  # with guest_check: do not read it, report it unknown (and warn)

    def detach_options(self) -> DetachOptions:
        return DetachOptions(
            instance_id=self.source_instance_id,
            allow_stop=self.allow_stop_source,
            force_stop=self.force_stop,
            stopped_mode=self.stopped_mode,
            restart=self.restart_source,
            snapshot=self.snapshot,
            guest_check=self.guest_check,
            unmount=self.unmount,
            skip_guest_check=self.skip_guest_check,
        )


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    FIXABLE = "fixable"  # by stopping the target (allowed)
    UNKNOWN = "unknown"  # the API decides


@dataclass(frozen=True, slots=True)
class MoveCheck:
    """One AttachDisk rule on the target side: what it checks, how it stands, the code the API answers."""

    name: str
    condition: str
    status: CheckStatus
    sentence: str
    code: str = ""
    worded: Worded | None = None  # the sentence as data when it names a choice (`sentence`: the CLI's words)

    @property
    def failing(self) -> bool:
        return self.status is CheckStatus.FAIL

    @classmethod
    def naming(
        cls, name: str, condition: str, status: CheckStatus, said: Worded, code: str = ""
    ) -> MoveCheck:
        """A check whose sentence names a choice: each face words it (`sentence_in`)."""
        return cls(name, condition, status, said.say(CLI_WORDS), code, said)

    def sentence_in(self, words: Words) -> str:
        return self.worded.say(words) if self.worded is not None else self.sentence


@dataclass(frozen=True, slots=True)
class MovePlan:
    """The move as one plan: `plan` has every step (the detach's, then the target's) for display and
    confirmation; `detach` and `attach` are the halves the run follows."""

    plan: Plan
    detach: Plan
    attach: Plan
    checks: tuple[MoveCheck, ...]
    options: MoveOptions
    stop_target: bool = False
    target: Instance | None = field(default=None, compare=False)
    resumed: str = ""  # "detached" / "attached": an earlier run of this move did that half already

    @property
    def executable(self) -> bool:
        return self.plan.executable

    @property
    def refusal(self) -> str:
        return self.plan.refusal

    def refusal_in(self, words: Words) -> str:
        """The refusal with any choice it names worded as a face names it (see `Plan.refusal_in`)."""
        return self.plan.refusal_in(words)

    @property
    def disk_id(self) -> str:
        return self.plan.disk_id

    @property
    def source_instance_id(self) -> str:
        return self.plan.instance_id  # from the journal when an earlier run detached it already

    @property
    def target_instance_id(self) -> str:
        return self.options.target_instance_id

    def describe(self) -> str:
        lines = [self.plan.describe(), "Target checks:"]
        lines += [f"  [{c.status.value}] {c.condition}: {c.sentence}" for c in self.checks]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        data = self.plan.to_dict()
        data["source_instance_id"] = self.source_instance_id
        data["target_instance_id"] = self.target_instance_id
        data["target_checks"] = [
            {"name": c.name, "condition": c.condition, "status": c.status.value, "sentence": c.sentence}
            | ({"code": c.code} if c.code else {})
            for c in self.checks
        ]
        return data


# -- the target side (pure) --------------------------------------------------------------------------------


def check_target(
    disk: Disk | None,
    source_id: str,
    target: Instance | None,
    target_disks: Sequence[Disk],
    options: MoveOptions,
    facts: PlatformFacts | None,
    *,
    origin: str | None = None,
) -> tuple[MoveCheck, ...]:
    """AttachDisk's rules for `disk` coming from `source_id` to `target`, in the API's order. `origin` is
    the instance a system disk boots (`system_disk_origin`); None when unknown."""
    target_id = options.target_instance_id
    if target is None:
        return (
            MoveCheck(
                "target-exists",
                "the target instance exists",
                CheckStatus.FAIL,
                f"Instance {target_id} does not exist in this region.",
                "InvalidInstanceId.NotFound",
            ),
        )
    if disk is None:
        return ()
    checks = [_check_identity(disk, source_id, target), _check_lock(target), _check_zone(disk, target)]
    checks += _check_multi(disk, target, options)
    checks.append(_check_category(disk, target, facts))
    checks += _check_system(disk, origin, target, target_disks, options)
    checks += _check_status(disk, target, target_disks, options, facts)
    return tuple(checks)


def _ok(name: str, condition: str, sentence: str) -> MoveCheck:
    return MoveCheck(name, condition, CheckStatus.PASS, sentence)


def _check_identity(disk: Disk, source_id: str, target: Instance) -> MoveCheck:
    condition = "the target is another instance"
    if target.instance_id in disk.attached_instance_ids:
        return MoveCheck(
            "target-other",
            condition,
            CheckStatus.FAIL,
            f"Disk {disk.disk_id} is already attached to {target.instance_id}.",
            "IncorrectDiskStatus",
        )
    if target.instance_id == source_id:  # detached from it (a move that failed after its first half)
        said = worded(
            "Disk {disk} is no longer attached to {source}, which it was detached from: putting it back "
            "is not a move: {put_back}.",
            disk_id=disk.disk_id,
            disk=disk.disk_id,
            source=source_id,
            put_back=(Choice.PUT_BACK, source_id),
        )
        return MoveCheck.naming("target-other", condition, CheckStatus.FAIL, said)
    return _ok("target-other", condition, f"{target.instance_id} is not the source.")


def _check_lock(target: Instance) -> MoveCheck:
    condition = "the target is not locked for security"
    if target.security_locked:
        return MoveCheck(
            "target-unlocked",
            condition,
            CheckStatus.FAIL,
            f"Instance {target.instance_id} is locked for security: AttachDisk is refused.",
            "InstanceLockedForSecurity",
        )
    return _ok("target-unlocked", condition, "No security lock.")


def _check_zone(disk: Disk, target: Instance) -> MoveCheck:
    condition = "the disk and the target are in the same zone"
    if disk.zone_id != target.zone_id:
        return MoveCheck(
            "same-zone",
            condition,
            CheckStatus.FAIL,
            f"Disk {disk.disk_id} is in {disk.zone_id}, instance {target.instance_id} in {target.zone_id}: "
            "a disk attaches only to an instance of its own zone.",
            "ResourcesNotInSameZone",
        )
    return _ok("same-zone", condition, f"Both in {disk.zone_id}.")


def _check_multi(disk: Disk, target: Instance, options: MoveOptions) -> list[MoveCheck]:
    if not disk.is_multi_attach:
        return []
    condition = "multi-attach rules"
    if options.bootable:
        return [
            MoveCheck(
                "multi-attach",
                condition,
                CheckStatus.FAIL,
                f"Disk {disk.disk_id} is a multi-attach disk: it cannot be attached as a system disk.",
                "InvalidOperation.CanNotAttachMultiAttachDiskAsSystemDisk",
            )
        ]
    if len(disk.attached_instance_ids) - 1 >= MAX_MULTI_ATTACHMENTS:
        return [
            MoveCheck(
                "multi-attach",
                condition,
                CheckStatus.FAIL,
                f"Disk {disk.disk_id} is on {MAX_MULTI_ATTACHMENTS} instances already.",
                "DiskAttachedNumberExceeded",
            )
        ]
    return [
        _ok(
            "multi-attach",
            condition,
            f"Multi-attach disk: only the attachment to the source moves (DeleteWithInstance is not set); "
            f"it joins {target.instance_id}.",
        )
    ]


def _check_category(disk: Disk, target: Instance, facts: PlatformFacts | None) -> MoveCheck:
    condition = "the target's instance type takes the disk's category"
    refused = facts.categories_refused_by(target.instance_type) if facts is not None else None
    if refused is None:
        return MoveCheck(
            "category-on-type",
            condition,
            CheckStatus.UNKNOWN,
            f"Unknown whether {target.instance_type} takes {disk.category} disks; the API decides.",
        )
    if disk.category in refused:
        return MoveCheck(
            "category-on-type",
            condition,
            CheckStatus.FAIL,
            f"Instance type {target.instance_type} does not take {disk.category} disks.",
            "InvalidInstanceType.NotSupportDiskCategory",
        )
    return _ok("category-on-type", condition, f"{target.instance_type} takes {disk.category} disks.")


def system_disk_origin(disk: Disk | None, source_id: str, journal: Journal | None) -> str | None:
    """The instance whose system disk `disk` is (AttachDisk boots it only there): the source while it is
    attached there as the system device, else the newest journaled DetachDisk of it from that device.
    None when neither says (a system disk attached elsewhere as a data disk by someone else)."""
    if disk is None or not disk.is_system:
        return None
    if source_id and disk.device_on(source_id) == SYSTEM_DEVICE:
        return source_id
    if journal is None:
        return None
    origin = None
    for intent, outcome in journal.operations():
        if (
            intent.action == "DetachDisk"
            and intent.disk_id == disk.disk_id
            and intent.context.get("device") == SYSTEM_DEVICE
            and outcome is not None
            and outcome.succeeded
        ):
            origin = intent.instance_id
    return origin


def _check_system(
    disk: Disk, origin: str | None, target: Instance, target_disks: Sequence[Disk], options: MoveOptions
) -> list[MoveCheck]:
    if not options.bootable:
        return []
    condition = "a system disk: original instance, no system disk there, credentials"
    name = "system-disk"
    if not disk.is_system:
        return [
            MoveCheck(
                name,
                condition,
                CheckStatus.FAIL,
                f"Disk {disk.disk_id} is a data disk: it cannot be attached as a system disk.",
                "InvalidDisk.DiskNotBootable",
            )
        ]
    if origin is not None and origin != target.instance_id:
        return [
            MoveCheck.naming(
                name,
                condition,
                CheckStatus.FAIL,
                worded(
                    "Disk {disk} is the system disk of {origin}: AttachDisk attaches a system disk as a "
                    "system disk only to its original instance. Move it as a data disk (without "
                    "{bootable}) to repair it from the target.",
                    disk=disk.disk_id,
                    origin=origin,
                ),
                "InvalidInstance.NotOriginInstance",
            )
        ]
    if any(d.is_system for d in target_disks if d.disk_id != disk.disk_id):
        return [
            MoveCheck(
                name,
                condition,
                CheckStatus.FAIL,
                f"Instance {target.instance_id} has a system disk already.",
                "InvalidDevice.InUse",
            )
        ]
    if options.credential not in ("password", "key-pair"):
        return [
            MoveCheck(
                name,
                condition,
                CheckStatus.FAIL,
                "A system disk is attached only with the logon credentials AttachDisk requires: give a "
                "password (--password-env) or a key pair (--key-pair).",
                "InvalidParameter.AllEmpty",
            )
        ]
    if origin is None:
        return [
            MoveCheck(
                name,
                condition,
                CheckStatus.UNKNOWN,
                f"Unknown here whether {target.instance_id} is the instance disk {disk.disk_id} came from "
                "(AttachDisk boots a system disk only there); the API decides.",
            )
        ]
    return [
        _ok(
            name,
            condition,
            f"Attached back as the system disk of {target.instance_id}, its own, with a "
            f"{options.credential}.",
        )
    ]


def _check_status(
    disk: Disk,
    target: Instance,
    target_disks: Sequence[Disk],
    options: MoveOptions,
    facts: PlatformFacts | None,
) -> list[MoveCheck]:
    checks: list[MoveCheck] = []
    condition = "the target's status allows the attach"
    status, target_id = target.status, target.instance_id
    if status in INSTANCE_TRANSITIONAL:
        checks.append(
            MoveCheck(
                "target-status",
                condition,
                CheckStatus.FAIL,
                f"Instance {target_id} is {status}; try again once it is Running or Stopped.",
                "IncorrectInstanceStatus",
            )
        )
    elif status != INSTANCE_STOPPED and _needs_stopped_target(target, options, facts):
        why = "a system disk" if options.bootable else f"instance type {target.instance_type} (no hot attach)"
        if options.stop_target:
            checks.append(
                MoveCheck(
                    "target-status",
                    condition,
                    CheckStatus.FIXABLE,
                    f"Instance {target_id} is {status}; {why} needs it Stopped: the plan stops it.",
                )
            )
        else:
            checks.append(
                MoveCheck.naming(
                    "target-status",
                    condition,
                    CheckStatus.FAIL,
                    worded(
                        "Instance {target} is {status}; {why} needs it Stopped. Allow stopping it "
                        "({stop_target}) to go on.",
                        target=target_id,
                        status=status,
                        why=why,
                    ),
                    "IncorrectInstanceStatus",
                )
            )
    else:
        checks.append(_ok("target-status", condition, f"Instance {target_id} is {status}."))
    if not options.bootable:
        data = [d for d in target_disks if not d.is_system]
        if len(data) >= MAX_DATA_DISKS:
            checks.append(
                MoveCheck(
                    "free-device",
                    "a free device on the target",
                    CheckStatus.FAIL,
                    f"Instance {target_id} has {len(data)} data disks, the most an instance takes.",
                    "InstanceDiskLimitExceeded",
                )
            )
        else:
            checks.append(
                _ok("free-device", "a free device on the target", f"{len(data)} data disks on {target_id}.")
            )
    return checks


def _needs_stopped_target(target: Instance, options: MoveOptions, facts: PlatformFacts | None) -> bool:
    if options.bootable:
        return True
    no_hot = facts.no_hot_detach_types if facts is not None else None
    return target.status == INSTANCE_RUNNING and no_hot is not None and target.instance_type in no_hot


# -- the plan ----------------------------------------------------------------------------------------------


def prepare_move(
    client: WorkflowClient,
    disk_id: str,
    options: MoveOptions,
    *,
    facts: FactsSource = None,
    timeout: float = DEFAULT_TIMEOUT,
    journal: Journal | None = None,
    guest_time: GuestTime | None = None,
) -> MovePlan:
    """Fresh reads of both sides and the one plan of the move (nothing is sent). `guest_time` is how the
    guest probe waits (`options.guest_check`), as for a detach."""
    known = facts_now(facts)
    detach = prepare(
        client,
        disk_id,
        options.detach_options(),
        facts=known,
        timeout=timeout,
        journal=journal,
        guest_time=guest_time,
    )
    source_id = detach.instance_id
    if not source_id and journal is not None:
        last = journal.last_detach(disk_id)  # killed between the halves: the disk names no instance now
        source_id = last[0].instance_id if last is not None else ""
    disk = read_disk(client, disk_id)
    target_id = options.target_instance_id
    target = read_instance(client, target_id)
    target_disks = _disks_of(client, target_id) if target is not None else []
    earlier = journal.last_detach(disk_id) if journal is not None else None
    on_target = (
        disk is not None
        and not disk.is_multi_attach
        and tuple(disk.attached_instance_ids) == (target_id,)
        and earlier is not None
        and earlier[0].instance_id != target_id
    )
    if on_target and earlier is not None:  # killed after its AttachDisk: the move is done, or finishing
        source_id = earlier[0].instance_id
        checks: tuple[MoveCheck, ...] = ()
    else:
        origin = system_disk_origin(disk, source_id, journal)
        checks = check_target(disk, source_id, target, target_disks, options, known, origin=origin)
    stop_target = any(c.name == "target-status" and c.status is CheckStatus.FIXABLE for c in checks)
    attach = plan_reattach(
        disk_id,
        options.target_instance_id,
        detach.region_id or client.region_id,
        system_disk=options.bootable,
        credential=options.credential,
        start_after=stop_target and options.start_target,
        durations=known.durations if known is not None else None,
        timeout=timeout,
        target=aliyun_target(client),
    )
    if stop_target:
        attach = replace(attach, steps=(*_stop_steps(detach, options), *attach.steps))
    resumed = "attached" if on_target else "detached" if detach.nothing_to_do and source_id else ""
    return MovePlan(
        plan=_combined(detach, attach, checks, options, source_id, resumed),
        resumed=resumed,
        detach=detach,
        attach=attach,
        checks=checks,
        options=options,
        stop_target=stop_target,
        target=target,
    )


def prepare_move_back(
    client: WorkflowClient,
    record: JournalRecord,
    *,
    facts: FactsSource = None,
    timeout: float = DEFAULT_TIMEOUT,
    journal: Journal | None = None,
) -> MovePlan:
    """Undo a move: the plan that moves the disk back to the instance the move's AttachDisk record names
    as its source (`context["move_from"]`)."""
    source = record.context.get("move_from") if record.action == "AttachDisk" else None
    if not isinstance(source, str) or not source:
        raise ValueError("only the AttachDisk of a move can be undone by moving the disk back")
    options = MoveOptions(target_instance_id=source, source_instance_id=record.instance_id)
    return prepare_move(client, record.disk_id, options, facts=facts, timeout=timeout, journal=journal)


def _disks_of(client: WorkflowClient, instance_id: str) -> list[Disk]:
    lister = getattr(client, "list_disks", None)
    if lister is None:
        return []
    disks: list[Disk] = lister(instance_id=instance_id)
    return disks


def _stop_steps(detach: Plan, options: MoveOptions) -> tuple[PlanStep, ...]:
    """StopInstance of the target and the wait, as the detach plan words its own stop."""
    from ecs_detach.plan import aliyun_command

    target, region = options.target_instance_id, detach.region_id
    params = {"InstanceId": target} | ({"ForceStop": "true"} if options.force_stop else {})
    return (
        PlanStep(
            StepKind.STOP_INSTANCE,
            f"Stop the target instance {target}",
            f"instance {target}: Running → Stopping",
            0.0,
            aliyun_command("StopInstance", region, params),
            params,
        ),
        PlanStep(
            StepKind.WAIT_INSTANCE_STOPPED,
            f"Wait until instance {target} is Stopped",
            f"instance {target}: Stopping → Stopped",
            0.0,
            aliyun_command("DescribeInstances", region, {"InstanceIds": f'["{target}"]'}),
        ),
    )


def _between_halves_warning(detach: Plan, target: str, source_id: str) -> str:
    """Where the disk is between the halves: Available, or (a multi-attach disk) still attached to its
    other instances; and where it stays if the attach fails."""
    disk = detach.preconditions.disk if detach.preconditions is not None else None
    others = [i for i in (disk.attached_instance_ids if disk else ()) if i not in (source_id, target)]
    back = f"attach it to {target} or back to {source_id or 'its source'}"
    if disk is not None and disk.is_multi_attach and others:
        return (
            f"Between the two halves disk {detach.disk_id} is still attached to {', '.join(others)} only "
            f"(multi-attach: the detach removes only its attachment to {source_id}); if the attach fails it "
            f"stays attached there, and the result says how to {back}."
        )
    return (
        f"Between the two halves disk {detach.disk_id} is attached nowhere (Available); if the attach "
        f"fails it stays Available, and the result says how to {back}."
    )


def _combined(
    detach: Plan,
    attach: Plan,
    checks: tuple[MoveCheck, ...],
    options: MoveOptions,
    source_id: str,
    resumed: str,
) -> Plan:
    target = options.target_instance_id
    failing = [c for c in checks if c.failing]
    warnings = [] if resumed == "attached" else list(detach.warnings)
    warnings += list(attach.warnings)
    refusal = ""
    said: Worded | None = None  # the refusal as data, when it names a choice
    if resumed == "attached":
        warnings.append(
            f"Disk {detach.disk_id} is already attached to {target} (an earlier run of this move, from "
            f"{source_id}): AttachDisk is not sent again, the move is only followed to In_use."
        )
    elif failing:
        first = failing[0]
        answers = f" (the API answers {first.code})" if first.code else ""
        refusal = f"Target {target}: {first.sentence}{answers}"
        if first.worded is not None:
            said = first.worded.after(f"Target {target}: ").then(answers)
    elif not detach.executable:
        refusal = f"Source {detach.instance_id or source_id}: {detach.refusal}"
        if detach.refusal_worded is not None:
            said = detach.refusal_worded.after(f"Source {detach.instance_id or source_id}: ")
    elif detach.nothing_to_do and not resumed:
        said = worded(
            "Disk {disk} is attached nowhere and no earlier detach of it is journaled; {attach_anew}.",
            disk_id=detach.disk_id,
            disk=detach.disk_id,
            attach_anew=(Choice.ATTACH_ANEW, target),
        )
        refusal = said.say(CLI_WORDS)
    elif not attach.executable:
        refusal = f"Target {target}: {attach.refusal}"
    if resumed == "detached":
        warnings.insert(
            0,
            f"Disk {detach.disk_id} is already detached from {source_id} (an earlier run): only the attach "
            "to the target is left.",
        )
    if resumed != "attached":
        warnings.append(_between_halves_warning(detach, target, source_id))
    steps = () if resumed else detach.steps
    return Plan(
        action="move",
        disk_id=detach.disk_id,
        instance_id=source_id,
        region_id=detach.region_id,
        steps=(*steps, *attach.steps),
        warnings=tuple(warnings),
        executable=not refusal,
        refusal=refusal,
        nothing_to_do=False,
        options=detach.options,
        preconditions=detach.preconditions,
        timeout=detach.timeout,
        refusal_worded=said,
    )


# -- the run -----------------------------------------------------------------------------------------------


def run_move(
    client: WorkflowClient,
    move: MovePlan,
    *,
    journal: Journal | None = None,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float | None = None,
    password: str | None = None,
    key_pair_name: str | None = None,
) -> RunResult:
    """Run a confirmed move: fresh checks of the target, the detach, then the attach. Never raises
    `EcsError`. `password` / `key_pair_name` go to AttachDisk (a system disk) and nowhere else."""
    wait = timeout if timeout is not None else move.plan.timeout
    shared: dict[str, Any] = {
        "journal": journal,
        "facts": facts,
        "on_progress": on_progress,
        "cancel": cancel,
        "clock": clock,
        "sleep": sleep,
        "timeout": wait,
    }
    disk_id, target_id = move.disk_id, move.target_instance_id
    if not move.executable:
        return RunResult(Outcome.BLOCKED, move.refusal, disk_id, move.source_instance_id)
    # Fresh reads of both sides; the guest was read for the plan (its unmount step, if any, releases it).
    fresh = replace(move.options, guest_check=False)
    again = prepare_move(client, disk_id, fresh, facts=facts, timeout=wait, journal=journal)
    if not again.executable:
        return RunResult(
            Outcome.BLOCKED, f"The state changed since the plan: {again.refusal}", disk_id, target_id
        )
    detached: RunResult | None = None
    if move.detach.executable and not again.detach.nothing_to_do and not again.resumed:
        detached = run(client, move.detach, **shared)
        if detached.outcome is not Outcome.DONE:
            return detached
    result = _attach_half(client, move, shared, password=password, key_pair_name=key_pair_name)
    if result.outcome is Outcome.DONE:
        source = move.source_instance_id or "its source"
        message = f"Disk {disk_id} moved from {source} to {target_id}: it is In_use there."
        extra = result.message.partition(" again.")[2].strip()
        if detached is not None and detached.snapshot_id:
            message += f" Snapshot {detached.snapshot_id} was taken first."
        return replace(
            result,
            message=" ".join(part for part in (message, extra) if part),
            steps=(*(detached.steps if detached else ()), *result.steps),
            snapshot_id=detached.snapshot_id if detached else "",
            elapsed=result.elapsed + (detached.elapsed if detached else 0.0),
        )
    return _between_halves(client, move, result, detached)


def _attach_half(
    client: WorkflowClient,
    move: MovePlan,
    shared: Mapping[str, Any],
    *,
    password: str | None,
    key_pair_name: str | None,
) -> RunResult:
    runner = Runner(client, **shared)
    runner.disk_id, runner.instance_id = move.disk_id, move.target_instance_id
    try:
        if move.stop_target:
            target = read_instance(client, move.target_instance_id)
            if target is not None and target.status == INSTANCE_RUNNING:
                dur = durations_of(runner)
                options = DetachOptions(
                    force_stop=move.options.force_stop, stopped_mode=move.options.stopped_mode
                )
                stop_for_detach(runner, options, runner.timeout or DEFAULT_TIMEOUT, dur.stop)
        result = run_reattach(
            runner,
            move.attach,
            password=password,
            key_pair_name=key_pair_name,
            context={"move_from": move.source_instance_id},
        )
        return result
    except RunStopped as stop:
        return stop.result


def _between_halves(
    client: WorkflowClient, move: MovePlan, failed: RunResult, detached: RunResult | None
) -> RunResult:
    """The attach half did not finish: say where the disk is (Available, never lost) and what to do."""
    disk_id, target_id, source = move.disk_id, move.target_instance_id, move.source_instance_id
    try:
        disk = read_disk(client, disk_id)
    except EcsError:
        disk = None
    where = _where(disk)
    remedy = worded(
        "Attach it to {target}: {attach}; or put it back: {put_back}.",
        disk_id=disk_id,
        target=target_id,
        attach=(Choice.ATTACH, target_id),
        put_back=(Choice.PUT_BACK, source),
    )
    return replace(
        failed,
        message=f"Disk {disk_id} was detached from {source} but the attach to {target_id} did not finish: "
        f"{failed.message} The disk is {where}.",
        remedy=remedy.say(CLI_WORDS),
        remedy_worded=remedy,
        steps=(*(detached.steps if detached else ()), *failed.steps),
        snapshot_id=detached.snapshot_id if detached else "",
        disk=disk or failed.disk,
    )


def _where(disk: Disk | None) -> str:
    if disk is None:
        return "in an unknown state (it could not be read)"
    if disk.status == DISK_AVAILABLE and not disk.attached_instance_ids:
        return "Available, attached nowhere (not lost, not attached twice)"
    attached = ", ".join(disk.attached_instance_ids) or "nowhere"
    return f"{disk.status}, attached to {attached}"
