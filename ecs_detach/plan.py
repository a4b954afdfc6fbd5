"""Plans: the ordered steps of a detach (or a re-attach), before anything is sent (pure: no I/O).

A plan shows the calls, the expected state changes, the ETA and the equivalent ``aliyun ecs ...``
commands, so the operator confirms exactly what will happen. `ecs_detach.workflow.run` executes a
confirmed plan and refuses to do anything the plan did not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecs_detach._display import Displayable
from ecs_detach.detach.fixes import FIXES, FixPlan
from ecs_detach.detach.snapshot import BILLING_WARNING, snapshot_refusal
from ecs_detach.detach.steps import (
    DEFAULT_TIMEOUT,
    MUTATING_STEPS,
    NO_TARGET,
    SECRET_PLACEHOLDER,
    AliyunTarget,
    PlanStep,
    StepKind,
    aliyun_command,
    api_bool,
    api_step,
    detach_params,
    guest_params,
    guest_shown,
    snapshot_params,
    start_params,
    wait_attachment_gone_line,
    wait_disk_line,
    wait_instance_line,
)
from ecs_detach.guest import GuestState, Remount, remount_words
from ecs_detach.models import INSTANCE_STOPPED, INSTANCE_STOPPING
from ecs_detach.preconditions import DetachOptions, Durations, FixKind, Preconditions, Verdict
from ecs_detach.wording import CLI_WORDS, Worded, Words, worded

__all__ = [
    "DEFAULT_TIMEOUT",
    "AliyunTarget",
    "Plan",
    "PlanStep",
    "StepKind",
    "aliyun_command",
    "plan_detach",
    "plan_reattach",
]


@dataclass(frozen=True, slots=True)
class Plan(Displayable):
    action: str  # "detach" | "reattach"
    disk_id: str
    instance_id: str
    region_id: str
    steps: tuple[PlanStep, ...]
    warnings: tuple[str, ...]
    executable: bool
    refusal: str  # why the plan cannot run ("" when it can)
    nothing_to_do: bool
    options: DetachOptions = field(default_factory=DetachOptions)
    preconditions: Preconditions | None = field(default=None, compare=False)
    timeout: float = DEFAULT_TIMEOUT
    refusal_worded: Worded | None = field(default=None, compare=False)  # `refusal` as data (names a choice)
    warnings_worded: tuple[Worded, ...] = field(default=(), compare=False)
    """The `warnings` that name a choice, as data (the others are every face's plain text)."""
    undoes: str = ""  # a reattach: the journal's operation id of the DetachDisk it undoes ("" when none)

    def refusal_in(self, words: Words) -> str:
        """Why the plan cannot run, with any choice it names worded as a face names it (flag, control)."""
        return self.refusal_worded.say(words) if self.refusal_worded is not None else self.refusal

    def warnings_in(self, words: Words) -> tuple[str, ...]:
        """The warnings, with any choice they name worded as a face names it."""
        said = {w.say(CLI_WORDS): w for w in self.warnings_worded}  # by its text: a replace() keeps it true
        return tuple(said[text].say(words) if text in said else text for text in self.warnings)

    def _text(self) -> str:
        from ecs_detach.render import plan_text

        return plan_text(self)

    def _html(self) -> str:
        from ecs_detach.render import plan_html

        return plan_html(self)

    @property
    def eta_seconds(self) -> float:
        return sum(step.eta_seconds for step in self.steps)

    @property
    def aliyun_commands(self) -> tuple[str, ...]:
        return tuple(step.aliyun for step in self.steps)

    @property
    def calls(self) -> tuple[str, ...]:
        """The mutating API actions, in order."""
        return tuple(step.action for step in self.steps if step.action)

    def has_step(self, kind: StepKind) -> bool:
        return any(step.kind is kind for step in self.steps)

    def describe(self) -> str:
        """The plan as plain text, for a terminal or a confirmation dialog."""
        lines = [f"Plan: {self.action} disk {self.disk_id} / instance {self.instance_id} ({self.region_id})"]
        if self.nothing_to_do:
            lines.append("Nothing to do.")
        elif not self.executable:
            lines.append(f"Cannot run: {self.refusal}")
        for index, step in enumerate(self.steps, 1):
            lines.append(
                f"  {index}. {step.description}  [{step.expected_change}; ~{step.eta_seconds:.0f} s]"
            )
            lines.append(f"     $ {step.aliyun}")
        if self.steps:
            lines.append(f"ETA: about {self.eta_seconds:.0f} s (timeout {self.timeout:.0f} s per wait)")
        lines.extend(f"Warning: {warning}" for warning in self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "disk_id": self.disk_id,
            "instance_id": self.instance_id,
            "region_id": self.region_id,
            "executable": self.executable,
            "refusal": self.refusal,
            "nothing_to_do": self.nothing_to_do,
            "eta_seconds": self.eta_seconds,
            "timeout": self.timeout,
            "warnings": list(self.warnings),
            "steps": [
                {
                    "kind": step.kind.value,
                    "action": step.action,
                    "description": step.description,
                    "expected_change": step.expected_change,
                    "eta_seconds": step.eta_seconds,
                    "params": dict(step.params),
                    "aliyun": step.aliyun,
                }
                for step in self.steps
            ],
        }


def plan_detach(
    preconditions: Preconditions,
    options: DetachOptions | None = None,
    *,
    durations: Durations | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    stopped_earlier: str = "",
    no_start: str = "",
    target: AliyunTarget = NO_TARGET,
) -> Plan:
    """The steps to detach the disk the preconditions were checked for.

    Steps: wait for transitional states to settle, stop the instance (only if needed and `allow_stop`),
    wait until Stopped, DetachDisk, wait until detached, and start the instance again if `restart` and
    this plan (or an earlier run, `stopped_earlier`: when, as a phrase, from the journal) stopped it.

    An earlier run's stop counts on every path, also when the disk is already detaching (follow it, then
    start) or already detached (only the start is left): with `restart` the plan starts the instance
    again, without it the plan warns that the instance was left Stopped and how to start it. `no_start`
    (why the instance must not be started, e.g. its system disk is detached) keeps the start out.
    A system disk's instance is never started.
    """
    draft = _DetachDraft(
        preconditions,
        options or preconditions.options,
        durations or Durations(),
        timeout,
        stopped_earlier,
        no_start,
        target,
    )
    pre, opts = draft.pre, draft.opts
    if draft.multi and opts.delete_with_instance is not None:
        return draft.plan(
            executable=False,
            refusal=(
                f"Disk {pre.disk_id} is a multi-attach disk: DeleteWithInstance cannot be set for it; "
                "leave it unset."
            ),
        )
    if pre.verdict is Verdict.ALREADY_DETACHED:
        if draft.earlier_stopped and pre.instance_id:
            draft.steps.append(draft.detached_wait())
            if draft.after_earlier_stop():
                return draft.plan(executable=True)
            draft.steps.clear()
        return draft.plan(executable=True, nothing=True)
    if pre.verdict is Verdict.BLOCKED:
        return draft.plan(executable=False, refusal=pre.reason)
    if pre.verdict is Verdict.IN_PROGRESS:
        if opts.snapshot:
            draft.warnings.append(
                f"Disk {pre.disk_id} is already detaching: no snapshot can be taken before this detach."
            )
        draft.steps.append(draft.detached_wait())
        draft.after_earlier_stop()
        return draft.plan(executable=True)
    if pre.needs_stop and not opts.allow_stop:
        instance = pre.instance
        why = (
            "a system disk" if pre.is_system_disk else f"instance type {instance and instance.instance_type}"
        )
        return draft.plan(
            executable=False,
            refusal=worded(
                "Instance {instance} must be stopped first ({why} cannot be detached while it runs); "
                "allow stopping it ({stop_instance}) to go on.",
                instance=pre.instance_id,
                why=why,
            ),
        )
    if opts.snapshot and (refusal := snapshot_refusal(pre.disk, pre.instance)[0]):
        return draft.plan(executable=False, refusal=refusal)
    fixing = FixPlan(pre, opts, draft.dur, timeout, draft.to)
    for fix in pre.fixes:  # a fix the options do not allow (e.g. an unmount without --unmount)
        refuse = FIXES[fix.kind].refusal
        not_allowed = refuse(fixing, fix) if refuse is not None else None
        if not_allowed is not None:
            return draft.plan(executable=False, refusal=not_allowed)
    draft.guest_warnings()
    for fix in pre.fixes:
        draft.add_fix(fix.kind)
    if opts.snapshot:
        draft.add_snapshot()
    draft.add_detach()
    draft.add_restart()
    return draft.plan(executable=True)


class _DetachDraft:
    """A detach plan while it is drawn up: the steps and warnings so far, and how to add each kind."""

    def __init__(
        self,
        pre: Preconditions,
        opts: DetachOptions,
        dur: Durations,
        timeout: float,
        stopped_earlier: str,
        no_start: str,
        target: AliyunTarget,
    ) -> None:
        self.pre, self.opts, self.dur, self.timeout, self.to = pre, opts, dur, timeout, target
        self.stopped_earlier, self.no_start = stopped_earlier, no_start
        self.region, self.disk_id, self.instance_id = pre.region_id, pre.disk_id, pre.instance_id
        self.multi = pre.disk is not None and pre.disk.is_multi_attach
        instance = pre.instance
        self.earlier_stopped = bool(stopped_earlier) and instance is not None and instance.status in _DOWN
        self.warnings: list[str | Worded] = []
        self.steps: list[PlanStep] = []

    def plan(self, *, executable: bool, refusal: str | Worded = "", nothing: bool = False) -> Plan:
        said = refusal if isinstance(refusal, Worded) else None
        return Plan(
            action="detach",
            disk_id=self.disk_id,
            instance_id=self.instance_id,
            region_id=self.region,
            steps=tuple(self.steps),
            warnings=tuple(w.say(CLI_WORDS) if isinstance(w, Worded) else w for w in self.warnings),
            executable=executable,
            refusal=said.say(CLI_WORDS) if said is not None else str(refusal),
            nothing_to_do=nothing,
            options=self.opts,
            preconditions=self.pre,
            timeout=self.timeout,
            refusal_worded=said,
            warnings_worded=tuple(w for w in self.warnings if isinstance(w, Worded)),
        )

    def detached_wait(self) -> PlanStep:
        return _detached_wait_step(self.pre, self.multi, self.dur, self.timeout, self.to)

    def start_steps(self, why: str) -> list[PlanStep]:
        instance_id, region = self.instance_id, self.region
        params = start_params(instance_id)
        return [
            api_step(
                StepKind.START_INSTANCE,
                f"Start instance {instance_id} again (stopped by {why})",
                f"instance {instance_id}: Stopped → Starting",
                region,
                params,
                self.to,
            ),
            PlanStep(
                StepKind.WAIT_INSTANCE_RUNNING,
                f"Wait until instance {instance_id} is Running",
                f"instance {instance_id}: Starting → Running",
                self.dur.start,
                wait_instance_line(region, instance_id, "Running", self.timeout, self.to),
            ),
        ]

    def after_earlier_stop(self) -> bool:
        """Warnings (and, with `restart`, the start) for an instance an earlier run stopped and left
        Stopped; True if the start is planned."""
        if not self.earlier_stopped:
            return False
        instance_id, opts = self.instance_id, self.opts
        self.warnings.append(
            f"Instance {instance_id} was stopped by an earlier ecs-detach run ({self.stopped_earlier}) "
            "and not started again."
        )
        start = aliyun_command(
            MUTATING_STEPS[StepKind.START_INSTANCE].action,
            self.region,
            start_params(instance_id),
            target=self.to,
        )
        if self.pre.is_system_disk:
            if opts.restart:
                self.warnings.append(
                    f"Not restarting instance {instance_id}: an instance whose system disk was detached "
                    "cannot start."
                )
            return False
        if self.no_start:
            self.warnings.append(
                f"Not restarting instance {instance_id}: {self.no_start} It is left Stopped."
            )
            return False
        if not opts.restart:
            self.warnings.append(
                worded(
                    "Instance {instance_id} is left Stopped: this plan does not start it. Start it with "
                    "`{start}` (or ask for a restart: {restart}).",
                    instance_id=instance_id,
                    start=start,
                )
            )
            return False
        self.steps.extend(self.start_steps("an earlier run"))
        return True

    def add_fix(self, kind: FixKind) -> None:
        """The steps (and warnings) of one rung of the fix ladder, as its spec draws them."""
        drawn = FIXES[kind].plan_steps(FixPlan(self.pre, self.opts, self.dur, self.timeout, self.to))
        self.steps.extend(drawn.steps)
        self.warnings.extend(drawn.warnings)

    def add_snapshot(self) -> None:
        """CreateSnapshot, then wait until it is accomplished: the disk's data is kept before it goes."""
        disk_id, region, to = self.disk_id, self.region, self.to
        params = snapshot_params(disk_id, self.instance_id)
        self.steps.append(
            api_step(
                StepKind.CREATE_SNAPSHOT,
                f"Snapshot disk {disk_id} first",
                f"a snapshot of disk {disk_id}: progressing",
                region,
                params,
                to,
            )
        )
        limit = min(int(self.timeout), 600)
        wait = f"--waiter expr='Snapshots.Snapshot[0].Status' to=accomplished timeout={limit}"
        self.steps.append(
            PlanStep(
                StepKind.WAIT_SNAPSHOT,
                f"Wait until the snapshot of disk {disk_id} is accomplished (progress shown)",
                "snapshot: progressing → accomplished",
                self.dur.snapshot,
                aliyun_command(
                    "DescribeSnapshots",
                    region,
                    {"DiskId": disk_id, "SnapshotName": params["SnapshotName"]},
                    waiter=wait,
                    target=to,
                ),
            )
        )
        self.warnings.append(BILLING_WARNING.format(disk_id=disk_id))

    def guest_warnings(self) -> None:
        guest = self.pre.guest
        if guest is None:
            return
        if guest.state is GuestState.SKIPPED:
            self.warnings.append(
                f"The guest check was skipped (--skip-guest-check): if disk {self.disk_id} is mounted in the "
                "guest, writes in flight are lost and an /etc/fstab line left behind can stop the next boot."
            )
        elif guest.state in (GuestState.AGENT_ABSENT, GuestState.AGENT_OFFLINE, GuestState.UNREADABLE):
            self.warnings.append(
                f"The guest of {self.instance_id} could not be read ({guest.detail.rstrip('.')}): check by "
                f"hand that nothing of disk {self.disk_id} is mounted or in /etc/fstab before going on."
            )

    def add_detach(self) -> None:
        disk_id, instance_id, opts = self.disk_id, self.instance_id, self.opts
        params = detach_params(disk_id, instance_id, opts)
        after = "the attachment to " + instance_id + " is gone" if self.multi else "Detaching"
        self.steps.append(
            api_step(
                StepKind.DETACH_DISK,
                f"Detach disk {disk_id} from instance {instance_id}",
                f"disk {disk_id}: In_use → {after}",
                self.region,
                params,
                self.to,
            )
        )
        self.steps.append(self.detached_wait())
        if self.pre.is_system_disk:
            self.warnings.append(
                f"Disk {disk_id} is the system disk: instance {instance_id} cannot start until a system disk "
                "is attached again (re-attach it with Bootable and a password or key pair)."
            )
            if opts.delete_with_instance is None or opts.delete_with_instance:
                self.warnings.append(
                    f"DeleteWithInstance defaults to true for a system disk: disk {disk_id} would be "
                    f"released with instance {instance_id}; pass DeleteWithInstance=false to keep it."
                )

    def add_restart(self) -> None:
        """After the detach: start the instance again when this plan (or an earlier run) stopped it."""
        instance_id, opts, pre, instance = self.instance_id, self.opts, self.pre, self.pre.instance
        if self.earlier_stopped:
            self.after_earlier_stop()
        elif opts.restart and pre.is_system_disk:
            self.warnings.append(
                f"Not restarting instance {instance_id}: an instance whose system disk was detached cannot "
                "start."
            )
        elif opts.restart and pre.needs_stop:
            self.steps.extend(self.start_steps("this plan"))
        elif opts.restart and instance is not None and instance.status in _DOWN:
            # Stopping too: e.g. a run killed right after its StopInstance; the resumed plan must not hide it.
            self.warnings.append(
                f"Instance {instance_id} was {instance.status} before this plan; it is left Stopped."
            )


_DOWN = (INSTANCE_STOPPED, INSTANCE_STOPPING)


def _detached_wait_step(
    pre: Preconditions, multi: bool, dur: Durations, timeout: float, to: AliyunTarget
) -> PlanStep:
    region, disk_id, instance_id = pre.region_id, pre.disk_id, pre.instance_id
    if multi:
        return PlanStep(
            StepKind.WAIT_DISK_DETACHED,
            f"Wait until disk {disk_id} is no longer attached to {instance_id}",
            f"disk {disk_id}: attachment to {instance_id} removed",
            dur.detach,
            wait_attachment_gone_line(region, disk_id, instance_id, timeout, to),
        )
    return PlanStep(
        StepKind.WAIT_DISK_DETACHED,
        f"Wait until disk {disk_id} is Available",
        f"disk {disk_id}: Detaching → Available",
        dur.detach,
        wait_disk_line(region, disk_id, "Available", timeout, to),
    )


def _remount_step(
    disk_id: str, instance_id: str, region_id: str, remount: Remount, to: AliyunTarget
) -> PlanStep:
    """RunCommand of the remount script, shown word for word (the undo of our unmount)."""
    params = guest_params(instance_id, remount.command_type, remount.script)
    where = ", ".join(remount.mount_points) or f"disk {disk_id}"
    if remount.command_type == "RunPowerShellScript":
        description = f"Bring disk {disk_id} online again in the guest of {instance_id} ({where})"
    else:
        restore = " and restore its /etc/fstab line" if remount.fstab_backup else ""
        description = f"Mount {where} back in the guest of {instance_id}{restore}"
    return api_step(
        StepKind.GUEST_REMOUNT,
        description,
        f"guest: {where} {remount_words(remount.command_type).again}",
        region_id,
        params,
        to,
        shown=guest_shown(params),
    )


def plan_reattach(
    disk_id: str,
    instance_id: str,
    region_id: str,
    *,
    system_disk: bool,
    credential: str | None = None,
    delete_with_instance: bool | None = None,
    start_after: bool = False,
    durations: Durations | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    target: AliyunTarget = NO_TARGET,
    remount: Remount | None = None,
    undoes: str = "",
) -> Plan:
    """The steps to attach a detached disk back to its instance (undo); with `remount` (our unmount
    preceded the detach), a last step mounts it back in the guest once it is attached (and running).
    `undoes` is the journal's operation id of that DetachDisk (what running the undo again names).

    For a system disk `credential` is "password" or "key-pair" (which the caller will pass; the value is
    never in a plan); without one the plan cannot run, as AttachDisk would refuse
    (InvalidParameter.AllEmpty).
    """
    dur = durations or Durations()
    to = target
    params: dict[str, str] = {"InstanceId": instance_id, "DiskId": disk_id}
    warnings: list[str] = []
    refusal = ""
    if system_disk:
        params["Bootable"] = "true"
        if credential == "password":
            params["Password"] = SECRET_PLACEHOLDER
        elif credential == "key-pair":
            params["KeyPairName"] = "<key-pair-name>"
        else:
            refusal = (
                "Re-attaching a system disk needs the logon credentials AttachDisk requires: "
                "give a password or a key pair name."
            )
        warnings.append(f"Instance {instance_id} must be Stopped and have no system disk.")
    if delete_with_instance is not None:
        params["DeleteWithInstance"] = api_bool(delete_with_instance)
    shown = {k: v for k, v in params.items() if k != "Password"} | (
        {"Password": SECRET_PLACEHOLDER} if "Password" in params else {}
    )
    api_params = {k: v for k, v in params.items() if k not in ("Password", "KeyPairName")}
    steps = [
        api_step(
            StepKind.ATTACH_DISK,
            f"Attach disk {disk_id} to instance {instance_id}"
            + (" as its system disk" if system_disk else ""),
            f"disk {disk_id}: Available → Attaching",
            region_id,
            api_params,
            to,
            shown=shown,
        ),
        PlanStep(
            StepKind.WAIT_DISK_IN_USE,
            f"Wait until disk {disk_id} is In_use",
            f"disk {disk_id}: Attaching → In_use",
            dur.attach,
            wait_disk_line(region_id, disk_id, "In_use", timeout, to),
        ),
    ]
    if start_after:
        start = start_params(instance_id)
        steps.append(
            api_step(
                StepKind.START_INSTANCE,
                f"Start instance {instance_id}",
                f"instance {instance_id}: Stopped → Starting",
                region_id,
                start,
                to,
            )
        )
        steps.append(
            PlanStep(
                StepKind.WAIT_INSTANCE_RUNNING,
                f"Wait until instance {instance_id} is Running",
                f"instance {instance_id}: Starting → Running",
                dur.start,
                wait_instance_line(region_id, instance_id, "Running", timeout, to),
            )
        )
    if remount is not None:
        steps.append(_remount_step(disk_id, instance_id, region_id, remount, to))
    return Plan(
        action="reattach",
        disk_id=disk_id,
        instance_id=instance_id,
        region_id=region_id,
        steps=tuple(steps),
        warnings=tuple(warnings),
        executable=not refusal,
        refusal=refusal,
        nothing_to_do=False,
        timeout=timeout,
        undoes=undoes,
    )
