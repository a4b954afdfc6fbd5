"""The DetachDisk preconditions, checked before anything is sent (pure: no I/O).

`check_detach` walks every row of the decision table in `design.md` for one disk, its instance and the chosen
options, and reports each row as pass, fail, fixable, not applicable or unknown, with a sentence an operator
understands, the remedy, and the API code the row would return. The verdict says what to do next:

- ``ready``: nothing stands in the way;
- ``fixable``: the toolkit can make it ready (stop the instance, wait for a transitional state);
  `fixes` lists how;
- ``blocked``: nothing the toolkit may do gets around it, `reason` says why;
- ``already-detached``: the disk is attached nowhere, nothing to do;
- ``in-progress``: the disk is already detaching from this instance, nothing to send, only to follow.

`predicted_code` is the code the API would answer to DetachDisk right now (the first failing row), or None.
Rows whose trigger the real service does not publish (11, 13, 15, 17, 18) need `PlatformFacts`; a fact left as
None is reported as "unknown, the API decides" and never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ecs_detach._display import Displayable
from ecs_detach.guest import GuestReport, GuestState, manual_commands
from ecs_detach.models import (
    DISK_ATTACHING,
    DISK_AVAILABLE,
    DISK_DETACHING,
    DISK_IN_USE,
    INSTANCE_RUNNING,
    INSTANCE_STOPPED,
    INSTANCE_STOPPING,
    INSTANCE_TRANSITIONAL,
    Disk,
    Instance,
)
from ecs_detach.wording import CLI_WORDS, Worded, Words, worded

__all__ = [
    "ALREADY_DETACHED",
    "API_ORDER",
    "DETACHING_FROM_THIS",
    "GUEST_MOUNTED",
    "GUEST_RULES",
    "NOT_ATTACHED_HERE",
    "ROWS",
    "RULES",
    "DetachOptions",
    "Durations",
    "FixKind",
    "FixStep",
    "PlatformFacts",
    "Preconditions",
    "Row",
    "RowSpec",
    "RowStatus",
    "Rule",
    "Subject",
    "Verdict",
    "check_detach",
    "facts_from_fleet",
    "resolve_instance_id",
]


class RowStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    FIXABLE = "fixable"
    NOT_APPLICABLE = "not-applicable"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    READY = "ready"
    FIXABLE = "fixable"
    BLOCKED = "blocked"
    ALREADY_DETACHED = "already-detached"
    IN_PROGRESS = "in-progress"


class FixKind(StrEnum):
    """A rung of the fix ladder, in the order the ladder climbs it (each one's plan steps and executor:
    `ecs_detach.detach.fixes.FIXES`)."""

    GUEST_UNMOUNT = "guest-unmount"  # release the disk in the guest (RunCommand): first, while the guest runs
    WAIT_DISK = "wait-disk"  # the disk is Attaching: wait until it is In_use
    WAIT_INSTANCE = "wait-instance"  # the instance is Starting/Stopping/Pending: wait until it settles
    STOP_INSTANCE = "stop-instance"  # StopInstance, then wait until Stopped
    WAIT_DETACHES = "wait-detaches"  # other disks are detaching from the instance: wait until they finish


@dataclass(frozen=True, slots=True)
class FixStep:
    kind: FixKind
    target_id: str
    description: str


@dataclass(frozen=True, slots=True)
class RowSpec:
    number: int
    condition: str
    http_status: int
    code: str


ELASTIC_EPHEMERAL_CATEGORIES = frozenset(
    {"elastic_ephemeral_disk_standard", "elastic_ephemeral_disk_premium"}
)


@dataclass(frozen=True, slots=True)
class Durations:
    """How long the asynchronous transitions take, in seconds (for ETAs). Defaults: the real service's."""

    detach: float = 60.0
    attach: float = 60.0
    stop: float = 30.0
    start: float = 30.0
    snapshot: float = 300.0  # CreateSnapshot to accomplished: minutes for a large disk (a first snapshot)


@dataclass(frozen=True, slots=True)
class PlatformFacts:
    """What the API does not expose. None means unknown: the row is reported as "unknown, the API decides"."""

    no_hot_detach_types: frozenset[str] | None = None
    no_system_detach_types: frozenset[str] | None = None
    deleted_image_ids: frozenset[str] | None = None
    whitelist_disk_ids: frozenset[str] | None = None  # disks needing a whitelist the account lacks
    detaching_limit: int | None = None  # per instance
    detaching_counts: Mapping[str, int] | None = None  # instance id -> disks Detaching from it now
    # (disk id, instance id) of every attachment being detached now; the API shows it only per disk, so a
    # multi-attach disk still In_use on other instances hides it (None: read it from Status alone).
    detaching_pairs: frozenset[tuple[str, str]] | None = None
    regions: frozenset[str] | None = None
    durations: Durations = field(default_factory=Durations)
    no_ephemeral_detach_types: frozenset[str] | None = None  # types that cannot detach an ephemeral disk
    missing_base_image_disk_ids: frozenset[str] | None = None  # disks whose base image no longer exists
    # (instance type, disk categories it cannot take): AttachDisk's InvalidInstanceType.NotSupportDiskCategory
    unsupported_disk_categories: tuple[tuple[str, frozenset[str]], ...] | None = None

    def categories_refused_by(self, instance_type: str) -> frozenset[str] | None:
        """The disk categories `instance_type` cannot take (None: unknown, the API decides)."""
        if self.unsupported_disk_categories is None:
            return None
        return dict(self.unsupported_disk_categories).get(instance_type, frozenset())

    def with_detaching_counts(self, disks: Collection[Disk]) -> PlatformFacts:
        """These facts with `detaching_counts` computed from `disks` (e.g. the instance's, read live).

        Attachments in `detaching_pairs` count too (a multi-attach disk detaching from one instance only).
        """
        pairs = set(self.detaching_pairs or ())
        for disk in disks:
            if disk.status == DISK_DETACHING:
                pairs.update((disk.disk_id, instance_id) for instance_id in disk.attached_instance_ids)
        counts: dict[str, int] = {}
        for _, instance_id in pairs:
            counts[instance_id] = counts.get(instance_id, 0) + 1
        return replace(self, detaching_counts=counts)


@dataclass(frozen=True, slots=True)
class DetachOptions:
    """What the operator chose. `instance_id` picks the attachment (required for a multi-attach disk)."""

    instance_id: str | None = None
    delete_with_instance: bool | None = None
    allow_stop: bool = False
    force_stop: bool = False
    stopped_mode: str | None = None  # "StopCharging" | "KeepCharging" | None (the account's default)
    restart: bool = False
    snapshot: bool = False  # CreateSnapshot of the disk first, accomplished before the detach (billed)
    unmount: bool = False  # may unmount the disk in the guest (and comment out its /etc/fstab lines)
    guest_check: bool = False  # read the guest (Cloud Assistant) before planning
    skip_guest_check: bool = False  # with guest_check: do not read it, report it unknown (and warn)


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    condition: str
    status: RowStatus
    sentence: str
    remedy: str
    code: str
    http_status: int
    fix: tuple[FixStep, ...] = ()
    remedy_worded: Worded | None = None  # the remedy as data, when it names a choice (`remedy`: CLI words)

    @property
    def failing(self) -> bool:
        return self.status in (RowStatus.FAIL, RowStatus.FIXABLE)

    def remedy_in(self, words: Words) -> str:
        """The remedy with its choice named as a face names it (the CLI's flag, the TUI's control)."""
        return self.remedy_worded.say(words) if self.remedy_worded is not None else self.remedy


@dataclass(frozen=True, slots=True)
class Preconditions(Displayable):
    disk_id: str
    instance_id: str
    region_id: str
    options: DetachOptions
    rows: tuple[Row, ...]
    verdict: Verdict
    summary: str
    reason: str
    fixes: tuple[FixStep, ...]
    predicted_code: str | None
    disk: Disk | None = field(default=None, compare=False)
    instance: Instance | None = field(default=None, compare=False)
    guest: GuestReport | None = field(default=None, compare=False)
    reason_worded: Worded | None = field(default=None, compare=False)  # `reason` as data (see Row.worded)

    def reason_in(self, words: Words) -> str:
        """Why the detach is blocked, with any choice it names worded as a face names it."""
        return self.reason_worded.say(words) if self.reason_worded is not None else self.reason

    def _text(self) -> str:
        from ecs_detach.render import report_text

        return report_text(self)

    def _html(self) -> str:
        from ecs_detach.render import report_html

        return report_html(self)

    def row(self, number: int) -> Row:
        """The row numbered `number` (the decision table's numbers; rows are kept in that order)."""
        return next(row for row in self.rows if row.number == number)

    def rule(self, name: str) -> Row:
        """The row of the rule named `name` (e.g. ``preconditions.NOT_ATTACHED_HERE``)."""
        return _row_of(self.rows, name)

    @property
    def failing_rows(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.failing)

    @property
    def unknown_rows(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.status is RowStatus.UNKNOWN)

    @property
    def needs_stop(self) -> bool:
        return any(fix.kind is FixKind.STOP_INSTANCE for fix in self.fixes)

    @property
    def is_system_disk(self) -> bool:
        return self.disk is not None and self.disk.is_system

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for `--json` and notebooks)."""
        view = self._rows_dict()
        if self.guest is not None:
            view["guest"] = self.guest.to_dict()
        return view

    def _rows_dict(self) -> dict[str, Any]:
        return {
            "disk_id": self.disk_id,
            "instance_id": self.instance_id,
            "region_id": self.region_id,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "reason": self.reason,
            "predicted_code": self.predicted_code,
            "fixes": [
                {"kind": f.kind.value, "target": f.target_id, "description": f.description}
                for f in self.fixes
            ],
            "rows": [
                {
                    "row": r.number,
                    "condition": r.condition,
                    "status": r.status.value,
                    "sentence": r.sentence,
                    "remedy": r.remedy,
                    "code": r.code,
                    "http_status": r.http_status,
                }
                for r in self.rows
            ],
        }


def resolve_instance_id(disk: Disk | None, options: DetachOptions) -> str:
    """The instance the detach targets: the chosen one, else the disk's only attachment, else ""."""
    if options.instance_id:
        return options.instance_id
    if disk is None:
        return ""
    attached = disk.attached_instance_ids
    return attached[0] if len(attached) == 1 else ""


_UNKNOWN = "unknown, the API decides"


def check_detach(
    disk: Disk | None,
    instance: Instance | None,
    options: DetachOptions | None = None,
    *,
    facts: PlatformFacts | None = None,
    disk_id: str | None = None,
    region_id: str | None = None,
    guest: GuestReport | None = None,
) -> Preconditions:
    """Every row of the decision table for detaching `disk` from `instance`.

    `disk` / `instance` are None when the read said they do not exist (pass `disk_id` then).
    `instance` must be the instance the detach targets (`resolve_instance_id`).
    `region_id` is the region the request goes to. With a `guest` report (what the guest does with the disk,
    read through Cloud Assistant) the guest rows (`GUEST_RULES`) follow the API's rows.
    """
    opts = options or DetachOptions()
    d_id = disk.disk_id if disk is not None else (disk_id or "")
    i_id = resolve_instance_id(disk, opts)
    if instance is not None and not i_id:
        i_id = instance.instance_id
    region = region_id or (disk.region_id if disk else "") or (instance.region_id if instance else "")
    subject = Subject(d_id, i_id, region, disk, instance, opts, facts or PlatformFacts(), guest)
    rows: dict[str, Row] = {}
    for rule in RULES + (GUEST_RULES if guest is not None else ()):  # `moot_when` names only earlier rules
        rows[rule.name] = _check_rule(rule, subject, rows)
    by_number = tuple(sorted(rows.values(), key=lambda row: row.number))
    return replace(_conclude(d_id, i_id, region, opts, by_number, disk, instance), guest=guest)


def _check_rule(rule: Rule, subject: Subject, earlier: Mapping[str, Row]) -> Row:
    disk, instance = subject.disk, subject.instance
    if rule.needs_both and (disk is None or instance is None):
        if rule.alone is None or not rule.alone(subject):
            missing = "the disk was not found" if disk is None else "the instance was not found"
            if not subject.instance_id and disk is not None:
                missing = "no instance was chosen"
            return _make(rule.number, RowStatus.NOT_APPLICABLE, f"Not checked: {missing}.", "")
    else:
        for name in rule.moot_when:
            if earlier[name].failing:
                sentence = _MOOT[name](subject)
                return _make(rule.number, RowStatus.NOT_APPLICABLE, sentence, "")
    return rule.check(subject)


def _conclude(
    disk_id: str,
    instance_id: str,
    region_id: str,
    options: DetachOptions,
    rows: tuple[Row, ...],
    disk: Disk | None,
    instance: Instance | None,
) -> Preconditions:
    in_api_order = sorted(rows, key=lambda row: _RANK[row.number])
    failing = [row for row in in_api_order if row.failing]
    api_failing = [
        row for row in failing if row.code
    ]  # the guest rows are not the API's: it never answers them
    predicted = api_failing[0].code if api_failing else None
    fails = [row for row in in_api_order if row.status is RowStatus.FAIL]
    fixes: list[FixStep] = []
    reason = ""
    reason_worded: Worded | None = None
    if disk is not None and disk.status == DISK_AVAILABLE and not disk.attached_instance_ids:
        verdict = Verdict.ALREADY_DETACHED
        summary = f"Disk {disk_id} is already detached (attached to no instance): there is nothing to do."
    elif _row_of(rows, DETACHING_FROM_THIS).failing:
        verdict = Verdict.IN_PROGRESS
        summary = (
            f"Disk {disk_id} is already detaching from {instance_id}: nothing to send; "
            "follow it until it is Available."
        )
    elif fails:
        verdict = Verdict.BLOCKED
        first = fails[0]
        reason = f"{first.sentence} {first.remedy}".strip()
        if first.remedy_worded is not None:
            reason_worded = first.remedy_worded.after(f"{first.sentence} ")
        summary = f"Detaching {disk_id} is blocked: {reason}"
    elif failing:
        verdict = Verdict.FIXABLE
        for row in failing:
            for fix in row.fix:
                if fix not in fixes:
                    fixes.append(fix)
        fixes.sort(key=_fix_order)
        steps = "; then ".join(fix.description for fix in fixes)
        summary = f"Detaching {disk_id} from {instance_id} needs a fix first: {steps}."
    else:
        verdict = Verdict.READY
        summary = f"Disk {disk_id} can be detached from {instance_id} now."
        unknown = [row.number for row in rows if row.status is RowStatus.UNKNOWN and row.code]
        if unknown:
            summary += f" (Rows {', '.join(map(str, unknown))} are unknown: the API decides.)"
        if any(row.status is RowStatus.UNKNOWN and not row.code for row in rows):
            summary += " The guest could not be read: check it by hand first (row 22)."
    return Preconditions(
        disk_id=disk_id,
        instance_id=instance_id,
        region_id=region_id,
        options=options,
        rows=rows,
        verdict=verdict,
        summary=summary,
        reason=reason,
        fixes=tuple(fixes),
        predicted_code=predicted,
        disk=disk,
        instance=instance,
        reason_worded=reason_worded,
    )


_FIX_RANK = {kind: rank for rank, kind in enumerate(FixKind)}  # the ladder climbs in FixKind's order


def _fix_order(fix: FixStep) -> int:
    return _FIX_RANK[fix.kind]


def _make(
    number: int, status: RowStatus, sentence: str, remedy: str | Worded, fix: tuple[FixStep, ...] = ()
) -> Row:
    spec = _SPEC[number]
    if isinstance(remedy, Worded):
        text = remedy.say(CLI_WORDS)
        return Row(number, spec.condition, status, sentence, text, spec.code, spec.http_status, fix, remedy)
    return Row(number, spec.condition, status, sentence, remedy, spec.code, spec.http_status, fix)


def _row1(disk_id: str, instance_id: str, disk: Disk | None) -> Row:
    if not disk_id:
        return _make(1, RowStatus.FAIL, "No disk id was given.", "Name the disk to detach (d-...).")
    if not instance_id:
        if disk is not None and len(disk.attached_instance_ids) > 1:
            choices = ", ".join(disk.attached_instance_ids)
            return _make(
                1,
                RowStatus.FAIL,
                f"Disk {disk_id} is attached to several instances and none was chosen.",
                f"Choose the instance to detach it from: {choices}.",
            )
        # The instance comes from the disk: when the disk is missing or attached nowhere, the row that says
        # so (4 or 7) is the one that stands in the way, not the instance id nobody had to give.
        if disk is None:
            return _make(
                1,
                RowStatus.NOT_APPLICABLE,
                f"No instance was named; it would come from disk {disk_id}, which was not found (row 4).",
                "",
            )
        if disk.status == DISK_AVAILABLE and not disk.attached_instance_ids:
            return _make(
                1,
                RowStatus.NOT_APPLICABLE,
                f"No instance was named, and disk {disk_id} is attached to none (row 7).",
                "",
            )
        return _make(
            1, RowStatus.FAIL, "No instance id was given.", "Name the instance to detach the disk from."
        )
    return _make(1, RowStatus.PASS, f"Disk {disk_id} and instance {instance_id} are both named.", "")


def _row2(region_id: str, disk: Disk | None, instance: Instance | None, facts: PlatformFacts) -> Row:
    if not region_id:
        return _make(2, RowStatus.NOT_APPLICABLE, "No region is sent; the endpoint decides.", "")
    if facts.regions is not None:
        if region_id in facts.regions:
            return _make(2, RowStatus.PASS, f"Region {region_id} is a valid region.", "")
        return _make(
            2,
            RowStatus.FAIL,
            f"Region {region_id} is not a valid region.",
            "Choose a region the account can use.",
        )
    found_in = (disk and disk.region_id == region_id) or (instance and instance.region_id == region_id)
    if found_in:
        return _make(2, RowStatus.PASS, f"Region {region_id} is valid (the resources were found there).", "")
    return _make(2, RowStatus.UNKNOWN, f"Whether region {region_id} is valid is {_UNKNOWN}.", "")


def _row3(instance_id: str, instance: Instance | None) -> Row:
    if not instance_id:
        return _make(3, RowStatus.NOT_APPLICABLE, "No instance was chosen.", "")
    if instance is None:
        return _make(
            3,
            RowStatus.FAIL,
            f"Instance {instance_id} does not exist in this region.",
            "Check the instance id and the region.",
        )
    return _make(3, RowStatus.PASS, f"Instance {instance_id} exists ({instance.status}).", "")


def _row4(disk_id: str, disk: Disk | None) -> Row:
    if not disk_id:
        return _make(4, RowStatus.NOT_APPLICABLE, "No disk was named.", "")
    if disk is None:
        return _make(
            4,
            RowStatus.FAIL,
            f"Disk {disk_id} does not exist in this region.",
            "Check the disk id for typos, and the region: list the region's disks to find it, or choose the "
            "region it is in.",
        )
    return _make(4, RowStatus.PASS, f"Disk {disk_id} exists ({disk.status}).", "")


def _row5(instance: Instance) -> Row:
    if instance.security_locked:
        detail = "; ".join(msg for msg in instance.lock_messages if msg)
        suffix = f" ({detail})" if detail else ""
        return _make(
            5,
            RowStatus.FAIL,
            f"Instance {instance.instance_id} is locked for security reasons{suffix}: "
            "every operation is refused.",
            "Nothing here can lift a security lock; contact Alibaba Cloud support "
            "or the account's security team.",
        )
    return _make(5, RowStatus.PASS, f"Instance {instance.instance_id} has no security lock.", "")


def _row6(disk: Disk, options: DetachOptions) -> Row:
    if not disk.is_multi_attach:
        return _make(6, RowStatus.NOT_APPLICABLE, f"Disk {disk.disk_id} is not a multi-attach disk.", "")
    if options.delete_with_instance is not None:
        return _make(
            6,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} is a multi-attach disk, and DeleteWithInstance cannot be set for it.",
            "Leave DeleteWithInstance unset.",
        )
    return _make(6, RowStatus.PASS, "DeleteWithInstance is not set, as a multi-attach disk requires.", "")


def _row7(disk: Disk) -> Row:
    if disk.status == DISK_AVAILABLE:
        return _make(
            7,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} is Available: it is attached to no instance.",
            "Nothing to do: the disk is already detached.",
        )
    return _make(7, RowStatus.PASS, f"Disk {disk.disk_id} is attached ({disk.status}).", "")


def _row8(disk: Disk, instance_id: str) -> Row:
    attached = disk.attached_instance_ids
    if instance_id not in attached:
        where = ", ".join(attached) if attached else "no instance"
        return _make(
            8,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} is not attached to {instance_id} (it is attached to {where}).",
            "Choose the instance the disk is attached to.",
        )
    return _make(8, RowStatus.PASS, f"Disk {disk.disk_id} is attached to {instance_id}.", "")


def _row9(disk: Disk, instance_id: str, facts: PlatformFacts) -> Row:
    if facts.detaching_pairs is not None:
        # The disk's own, fresher status counts too: facts read a moment before the disk may predate a detach
        # (another operator's), which must not turn "detaching" into "blocked: not In_use".
        detaching = (disk.disk_id, instance_id) in facts.detaching_pairs or (
            disk.status == DISK_DETACHING and instance_id in disk.attached_instance_ids
        )
    elif disk.is_multi_attach and disk.status != DISK_DETACHING:
        return _make(
            9,
            RowStatus.UNKNOWN,
            f"Whether this attachment of multi-attach disk {disk.disk_id} is already detaching "
            f"is {_UNKNOWN}.",
            "",
        )
    else:
        detaching = disk.status == DISK_DETACHING and instance_id in disk.attached_instance_ids
    if detaching:
        return _make(
            9,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} is already detaching from {instance_id}.",
            "Nothing to send: wait until the disk is Available.",
        )
    return _make(9, RowStatus.PASS, f"Disk {disk.disk_id} is not detaching.", "")


def _row10(disk: Disk) -> Row:
    if not disk.portable:
        why, remedy = _not_portable(disk)
        return _make(
            10,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} is not portable ({why}): it shares the instance's lifecycle "
            "and cannot be detached.",
            remedy,
        )
    return _make(10, RowStatus.PASS, f"Disk {disk.disk_id} is portable.", "")


def _not_portable(disk: Disk) -> tuple[str, str]:
    """Why a disk is not portable, and the remedy for that kind of disk."""
    category = disk.category or ""
    if category.startswith(("local", "ephemeral")):
        return (
            f"a {category} local disk",
            "A local disk can never be detached: copy the data you need off it from inside the instance.",
        )
    if disk.charge_type == "PrePaid":
        return (
            "a subscription (PrePaid) data disk",
            "Convert it to pay-as-you-go (ModifyDiskChargeType), which can make it portable, then check "
            "again.",
        )
    return (
        f"a {category or 'non-portable'} disk",
        "The API marks this disk as not portable: there is no way to detach it.",
    )


def _row11(disk: Disk, facts: PlatformFacts) -> Row:
    if facts.whitelist_disk_ids is None:
        return _make(11, RowStatus.UNKNOWN, f"Whether the account needs a disk whitelist is {_UNKNOWN}.", "")
    if disk.disk_id in facts.whitelist_disk_ids:
        return _make(
            11,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} needs a whitelist this account is not on.",
            "Ask Alibaba Cloud support to add the account to the disk whitelist.",
        )
    return _make(11, RowStatus.PASS, "No disk whitelist is needed.", "")


def _row12(disk: Disk) -> Row:
    if disk.financially_locked:
        return _make(
            12,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} is locked for an overdue payment.",
            "Settle the account's overdue payment, then check again.",
        )
    if disk.status == DISK_IN_USE:
        return _make(12, RowStatus.PASS, f"Disk {disk.disk_id} is In_use.", "")
    if disk.status == DISK_ATTACHING:
        fix = FixStep(FixKind.WAIT_DISK, disk.disk_id, f"wait until disk {disk.disk_id} finishes attaching")
        return _make(
            12,
            RowStatus.FIXABLE,
            f"Disk {disk.disk_id} is still Attaching.",
            "Wait until it is In_use.",
            (fix,),
        )
    return _make(
        12,
        RowStatus.FAIL,
        f"Disk {disk.disk_id} is {disk.status}, and only an In_use disk can be detached.",
        "Check again once the disk is In_use.",
    )


def _row13(disk: Disk, instance: Instance, facts: PlatformFacts) -> Row:
    if not disk.is_system:
        return _make(13, RowStatus.NOT_APPLICABLE, "A data disk: the system-disk rules do not apply.", "")
    if facts.no_system_detach_types is None:
        return _make(
            13,
            RowStatus.UNKNOWN,
            f"Whether type {instance.instance_type} can detach its system disk is {_UNKNOWN}.",
            "",
        )
    if instance.instance_type in facts.no_system_detach_types:
        return _make(
            13,
            RowStatus.FAIL,
            f"Instance type {instance.instance_type} cannot have its system disk detached.",
            "There is no way around it for this instance type.",
        )
    return _make(
        13, RowStatus.PASS, f"Instance type {instance.instance_type} can detach its system disk.", ""
    )


def _stop_fixes(instance: Instance) -> tuple[FixStep, ...]:
    i_id = instance.instance_id
    stop = FixStep(FixKind.STOP_INSTANCE, i_id, f"stop instance {i_id} and wait until it is Stopped")
    if instance.status == INSTANCE_STOPPING:
        return (FixStep(FixKind.WAIT_INSTANCE, i_id, f"wait until instance {i_id} is Stopped"),)
    if instance.status in INSTANCE_TRANSITIONAL:
        wait = FixStep(FixKind.WAIT_INSTANCE, i_id, f"wait until instance {i_id} leaves {instance.status}")
        return (wait, stop)
    return (stop,)


def _row14(disk: Disk, instance: Instance) -> Row:
    if not disk.is_system:
        return _make(14, RowStatus.NOT_APPLICABLE, "A data disk: the instance need not be stopped.", "")
    if instance.status == INSTANCE_STOPPED:
        return _make(14, RowStatus.PASS, f"Instance {instance.instance_id} is Stopped.", "")
    fixes = _stop_fixes(instance)
    if instance.status == INSTANCE_RUNNING or instance.status in INSTANCE_TRANSITIONAL:
        return _make(
            14,
            RowStatus.FIXABLE,
            f"Disk {disk.disk_id} is a system disk, and instance {instance.instance_id} "
            f"is {instance.status}, not Stopped.",
            "Stop the instance first (its workloads go down).",
            fixes,
        )
    return _make(
        14,
        RowStatus.FAIL,
        f"Instance {instance.instance_id} is {instance.status}; a system disk needs it Stopped.",
        "Check again once the instance can be stopped.",
    )


def _row15(disk: Disk, instance: Instance, facts: PlatformFacts) -> Row:
    if not disk.is_system:
        return _make(15, RowStatus.NOT_APPLICABLE, "A data disk: the image rule does not apply.", "")
    if facts.deleted_image_ids is None:
        return _make(
            15, RowStatus.UNKNOWN, f"Whether image {instance.image_id or '?'} still exists is {_UNKNOWN}.", ""
        )
    if instance.image_id in facts.deleted_image_ids:
        return _make(
            15,
            RowStatus.FAIL,
            f"The image of instance {instance.instance_id} ({instance.image_id}) was deleted, "
            "so its system disk cannot be detached.",
            "There is no way around it; a snapshot of the disk keeps its data.",
        )
    return _make(15, RowStatus.PASS, f"The instance's image {instance.image_id} exists.", "")


def _row16(disk: Disk, instance: Instance) -> Row:
    if disk.is_system:
        return _make(16, RowStatus.NOT_APPLICABLE, "A system disk: row 14 applies instead.", "")
    if instance.status in (INSTANCE_RUNNING, INSTANCE_STOPPED):
        return _make(16, RowStatus.PASS, f"Instance {instance.instance_id} is {instance.status}.", "")
    if instance.status in INSTANCE_TRANSITIONAL:
        i_id = instance.instance_id
        fix = FixStep(FixKind.WAIT_INSTANCE, i_id, f"wait until instance {i_id} leaves {instance.status}")
        return _make(
            16,
            RowStatus.FIXABLE,
            f"Instance {i_id} is {instance.status}; a data disk needs it Running or Stopped.",
            "Wait until the instance settles.",
            (fix,),
        )
    return _make(
        16,
        RowStatus.FAIL,
        f"Instance {instance.instance_id} is {instance.status}; a data disk needs it Running or Stopped.",
        "Check again once the instance is Running or Stopped.",
    )


def _row17(disk: Disk, instance: Instance, facts: PlatformFacts) -> Row:
    if disk.is_system:
        return _make(17, RowStatus.NOT_APPLICABLE, "A system disk: hot-detach does not apply.", "")
    if instance.status != INSTANCE_RUNNING:
        return _make(17, RowStatus.NOT_APPLICABLE, f"Instance {instance.instance_id} is not Running.", "")
    if facts.no_hot_detach_types is None:
        return _make(
            17,
            RowStatus.UNKNOWN,
            f"Whether type {instance.instance_type} can hot-detach a disk is {_UNKNOWN}.",
            "If the API refuses, stop the instance first.",
        )
    if instance.instance_type in facts.no_hot_detach_types:
        return _make(
            17,
            RowStatus.FIXABLE,
            f"Instance type {instance.instance_type} cannot detach a disk while Running.",
            "Stop the instance first (its workloads go down).",
            _stop_fixes(instance),
        )
    return _make(17, RowStatus.PASS, f"Instance type {instance.instance_type} can hot-detach disks.", "")


def _row18(disk: Disk, instance: Instance, facts: PlatformFacts) -> Row:
    if facts.detaching_limit is None or facts.detaching_counts is None:
        return _make(
            18, RowStatus.UNKNOWN, f"The limit of disks detaching at once per instance is {_UNKNOWN}.", ""
        )
    count = facts.detaching_counts.get(instance.instance_id, 0)
    if count >= facts.detaching_limit:
        i_id = instance.instance_id
        fix = FixStep(FixKind.WAIT_DETACHES, i_id, f"wait until the disks detaching from {i_id} finish")
        return _make(
            18,
            RowStatus.FIXABLE,
            f"{count} disk(s) are already detaching from {i_id} (the limit is {facts.detaching_limit}).",
            "Wait until they finish.",
            (fix,),
        )
    return _make(
        18,
        RowStatus.PASS,
        f"{count} disk(s) detaching from the instance (limit {facts.detaching_limit}).",
        "",
    )


def _row19(disk: Disk, instance: Instance, facts: PlatformFacts) -> Row:
    if disk.category not in ELASTIC_EPHEMERAL_CATEGORIES:
        return _make(19, RowStatus.NOT_APPLICABLE, "Not an elastic ephemeral disk.", "")
    if facts.no_ephemeral_detach_types is None:
        return _make(
            19,
            RowStatus.UNKNOWN,
            f"Whether type {instance.instance_type} can detach an elastic ephemeral disk is {_UNKNOWN}.",
            "",
        )
    if instance.instance_type in facts.no_ephemeral_detach_types:
        return _make(
            19,
            RowStatus.FAIL,
            f"Instance type {instance.instance_type} cannot detach elastic ephemeral disk {disk.disk_id}.",
            "There is no way to detach it from this instance; it is released with the instance.",
        )
    return _make(
        19, RowStatus.PASS, f"Instance type {instance.instance_type} can detach elastic ephemeral disks.", ""
    )


def _row20(disk: Disk, options: DetachOptions) -> Row:
    if disk.category not in ELASTIC_EPHEMERAL_CATEGORIES:
        return _make(20, RowStatus.NOT_APPLICABLE, "Not an elastic ephemeral disk.", "")
    if options.delete_with_instance is not True:
        return _make(
            20,
            RowStatus.FAIL,
            f"Disk {disk.disk_id} is an elastic ephemeral disk: the API detaches it only with "
            "DeleteWithInstance set to true.",
            "Detach it again with DeleteWithInstance true (it can later be attached back only to "
            "the instance it came from).",
        )
    return _make(20, RowStatus.PASS, "DeleteWithInstance is true, as an elastic ephemeral disk needs.", "")


def _row21(disk: Disk, facts: PlatformFacts) -> Row:
    if not _str_field(disk, "ImageId"):
        return _make(21, RowStatus.NOT_APPLICABLE, "The disk was not made from an image.", "")
    if facts.missing_base_image_disk_ids is None:
        return _make(21, RowStatus.UNKNOWN, f"Whether the disk's base image still exists is {_UNKNOWN}.", "")
    if disk.disk_id in facts.missing_base_image_disk_ids:
        return _make(
            21,
            RowStatus.FAIL,
            f"The base image disk {disk.disk_id} was made from no longer exists, so the API refuses to "
            "detach it.",
            "There is no way around it; a snapshot of the disk keeps its data.",
        )
    return _make(21, RowStatus.PASS, f"The base image of disk {disk.disk_id} exists.", "")


@dataclass(frozen=True, slots=True)
class Subject:
    """What one check is about: the ids, the disk and instance as read (None: not found), the options, the
    facts."""

    disk_id: str
    instance_id: str
    region_id: str
    disk: Disk | None
    instance: Instance | None
    options: DetachOptions
    facts: PlatformFacts
    guest: GuestReport | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One precondition: its row of the decision table, the API code it answers, and its check (which
    returns the row, with the fixes if the toolkit can make it pass).

    `needs_both`: checked only when both the disk and the instance were found, unless `alone` says it can
    be checked without the missing one. `moot_when`: names of earlier rules whose failure makes this one
    not applicable (the sentence says why, `_MOOT`).
    """

    number: int
    name: str
    condition: str
    http_status: int
    code: str
    check: Callable[[Subject], Row]
    needs_both: bool = True
    alone: Callable[[Subject], bool] | None = None
    moot_when: tuple[str, ...] = ()

    @property
    def spec(self) -> RowSpec:
        return RowSpec(self.number, self.condition, self.http_status, self.code)


ALREADY_DETACHED = "attached-nowhere"
NOT_ATTACHED_HERE = "not-attached-here"
DETACHING_FROM_THIS = "detaching-from-this"
_ATTACHED = (ALREADY_DETACHED, NOT_ATTACHED_HERE)


def _disk(subject: Subject) -> Disk:
    assert subject.disk is not None  # `needs_both` / `alone` guarantee it
    return subject.disk


def _instance(subject: Subject) -> Instance:
    assert subject.instance is not None
    return subject.instance


# The rules in the order the API checks them (the first failing one answers). Adding a precondition: one
# `Rule` here (at its place in the API's order) and its check function.
RULES: tuple[Rule, ...] = (
    Rule(
        1,
        "ids-given",
        "DiskId or InstanceId missing or empty",
        400,
        "InvalidParameter",
        lambda s: _row1(s.disk_id, s.instance_id, s.disk),
        needs_both=False,
    ),
    Rule(
        2,
        "region-valid",
        "RegionId given but not a valid region",
        400,
        "InvalidRegionId.MalFormed",
        lambda s: _row2(s.region_id, s.disk, s.instance, s.facts),
        needs_both=False,
    ),
    Rule(
        3,
        "instance-exists",
        "no such instance",
        404,
        "InvalidInstanceId.NotFound",
        lambda s: _row3(s.instance_id, s.instance),
        needs_both=False,
    ),
    Rule(
        4,
        "disk-exists",
        "no such disk",
        404,
        "InvalidDiskId.NotFound",
        lambda s: _row4(s.disk_id, s.disk),
        needs_both=False,
    ),
    Rule(
        5,
        "instance-unlocked",
        "instance locked for security",
        403,
        "InstanceLockedForSecurity",
        lambda s: _row5(_instance(s)),
        alone=lambda s: s.instance is not None,
    ),
    Rule(
        6,
        "multi-attach-keeps-dwi",
        "DeleteWithInstance given for a multi-attach disk",
        403,
        "DeleteWithInstance.Conflict",
        lambda s: _row6(_disk(s), s.options),
        alone=lambda s: s.disk is not None,
    ),
    Rule(
        19,
        "ephemeral-detachable",
        "elastic ephemeral disk on an instance type that cannot detach it",
        403,
        "InvalidOperation.DiskCategoryUnsupported",
        lambda s: _row19(_disk(s), _instance(s), s.facts),
    ),
    Rule(
        20,
        "ephemeral-dwi-true",
        "elastic ephemeral disk and DeleteWithInstance not true",
        403,
        "InvalidParameter.DeleteWithInstance",
        lambda s: _row20(_disk(s), s.options),
    ),
    Rule(
        7,
        ALREADY_DETACHED,
        "disk Available (attached nowhere)",
        404,
        "InvalidDisk.AlreadyDetached",
        lambda s: _row7(_disk(s)),
        alone=lambda s: s.disk is not None and s.disk.status == DISK_AVAILABLE,
    ),
    Rule(
        21,
        "base-image-exists",
        "the disk's base image no longer exists",
        404,
        "InvalidDiskId.OperationNotSupported",
        lambda s: _row21(_disk(s), s.facts),
        moot_when=(ALREADY_DETACHED,),
    ),
    Rule(
        8,
        NOT_ATTACHED_HERE,
        "disk not attached to this instance",
        403,
        "DependencyViolation",
        lambda s: _row8(_disk(s), s.instance_id),
        moot_when=(ALREADY_DETACHED,),
    ),
    Rule(
        9,
        DETACHING_FROM_THIS,
        "disk already Detaching from this instance",
        403,
        "InvalidOperation.DiskDetachingFromThisEcs",
        lambda s: _row9(_disk(s), s.instance_id, s.facts),
        moot_when=_ATTACHED,
    ),
    Rule(
        10,
        "disk-portable",
        "disk not portable",
        403,
        "DiskNotPortable",
        lambda s: _row10(_disk(s)),
        moot_when=_ATTACHED,
    ),
    Rule(
        11,
        "whitelisted",
        "disk needs a whitelist the account lacks",
        403,
        "UserNotInTheWhiteList",
        lambda s: _row11(_disk(s), s.facts),
        moot_when=_ATTACHED,
    ),
    Rule(
        12,
        "disk-in-use",
        "disk status not In_use, or a financial lock on the disk",
        403,
        "IncorrectDiskStatus",
        lambda s: _row12(_disk(s)),
        moot_when=_ATTACHED,
    ),
    Rule(
        13,
        "system-detachable-type",
        "system disk on an instance type that cannot detach it",
        403,
        "DiskTypeViolation",
        lambda s: _row13(_disk(s), _instance(s), s.facts),
        moot_when=_ATTACHED,
    ),
    Rule(
        14,
        "system-instance-stopped",
        "system disk and instance not Stopped",
        403,
        "IncorrectInstanceStatus",
        lambda s: _row14(_disk(s), _instance(s)),
        moot_when=_ATTACHED,
    ),
    Rule(
        15,
        "system-image-exists",
        "system disk and the instance's image was deleted",
        403,
        "InvalidInstance.ImageCategory",
        lambda s: _row15(_disk(s), _instance(s), s.facts),
        moot_when=_ATTACHED,
    ),
    Rule(
        16,
        "data-instance-settled",
        "data disk and instance neither Running nor Stopped",
        403,
        "IncorrectInstanceStatus",
        lambda s: _row16(_disk(s), _instance(s)),
        moot_when=_ATTACHED,
    ),
    Rule(
        17,
        "hot-detachable-type",
        "data disk, instance Running, type cannot hot-detach",
        400,
        "InvalidOperation.InstanceTypeNotSupport",
        lambda s: _row17(_disk(s), _instance(s), s.facts),
        moot_when=_ATTACHED,
    ),
    Rule(
        18,
        "detaching-limit",
        "too many disks already detaching on the instance",
        400,
        "DisksDetachingOnEcsExceeded",
        lambda s: _row18(_disk(s), _instance(s), s.facts),
        moot_when=_ATTACHED,
    ),
)


# --- The guest rows: what the operating system inside uses on the disk (read through Cloud Assistant) ---
# The API detaches a mounted disk (writes in flight are lost, an /etc/fstab line left behind can stop the next
# boot); these rows are ours, numbered after the API's and checked after them, with no API code.

GUEST_READABLE = "guest-readable"
GUEST_MOUNTED = "guest-not-mounted"
GUEST_FSTAB = "guest-no-fstab"
GUEST_MEMBER = "guest-not-member"


def _guest(subject: Subject) -> GuestReport:
    assert subject.guest is not None  # the guest rules run only with a report
    return subject.guest


def _unmount_fix(report: GuestReport) -> tuple[FixStep, ...]:
    what = ", ".join(report.mount_points) or "its /etc/fstab lines"
    if report.os_type == "windows":
        description = f"take disk {report.disk_id} offline in the guest ({what})"
    else:
        description = f"release disk {report.disk_id} in the guest of {report.instance_id} ({what})"
    return (FixStep(FixKind.GUEST_UNMOUNT, report.disk_id, description),)


def _row22(report: GuestReport) -> Row:
    state = report.state
    if state is GuestState.READ:
        return _make(22, RowStatus.PASS, f"Cloud Assistant read the guest of {report.instance_id}.", "")
    if state in (GuestState.NOT_RUNNING, GuestState.NOT_NEEDED):
        return _make(22, RowStatus.NOT_APPLICABLE, f"Not applicable: {report.detail}", "")
    commands = "; ".join(manual_commands(report.disk_id, report.os_type))
    remedy = f"Check the guest by hand before detaching (run in it: {commands})."
    return _make(22, RowStatus.UNKNOWN, f"Unknown: {report.detail}", remedy)


def _not_read(number: int, report: GuestReport) -> Row | None:
    if report.read:
        return None
    return _make(number, RowStatus.NOT_APPLICABLE, "Not checked: the guest was not read (row 22).", "")


def _row23(report: GuestReport) -> Row:
    unread = _not_read(23, report)
    if unread is not None:
        return unread
    if not report.found:
        return _make(23, RowStatus.PASS, "The guest does not see the disk: nothing of it is mounted.", "")
    mounted = report.mount_points
    if not mounted:
        return _make(23, RowStatus.PASS, "Nothing of the disk is mounted in the guest.", "")
    where = ", ".join(mounted)
    if report.holders:
        held = "; ".join(str(holder) for holder in report.holders)
        return _make(
            23,
            RowStatus.FAIL,
            f"Mounted in the guest at {where}, and busy: held by {held}.",
            "Stop what holds it (or move it elsewhere) in the guest, then check again.",
        )
    if report.os_type == "windows":
        sentence = f"Online in the guest as {where} (disk {report.disk_number})."
        remedy = worded("Take the disk offline first: {unmount} does it (Set-Disk -IsOffline $true).")
    else:
        fs = ", ".join(f"{p.mount_point} ({p.fstype})" for p in report.partitions if p.mount_point in mounted)
        sentence = f"Mounted in the guest at {fs}: detaching it now loses the writes in flight."
        remedy = worded("Unmount it first: {unmount} does it (umount, in the guest, by RunCommand).")
    return _make(23, RowStatus.FIXABLE, sentence, remedy, _unmount_fix(report))


def _row24(report: GuestReport) -> Row:
    unread = _not_read(24, report)
    if unread is not None:
        return unread
    if report.os_type == "windows":
        return _make(24, RowStatus.NOT_APPLICABLE, "Not applicable: a Windows guest has no /etc/fstab.", "")
    entries = report.active_fstab
    if not entries:
        return _make(24, RowStatus.PASS, "/etc/fstab does not name the disk.", "")
    lines = "; ".join(
        f"`{e.line}`" + ("" if e.nofail else " (no nofail: the next boot stops)") for e in entries
    )
    return _make(
        24,
        RowStatus.FIXABLE,
        f"/etc/fstab names the disk: {lines}.",
        worded("Comment it out first (a backup is kept): {unmount} does it."),
        _unmount_fix(report),
    )


def _row25(report: GuestReport) -> Row:
    unread = _not_read(25, report)
    if unread is not None:
        return unread
    steps = []
    if report.swap:
        devices = " ".join(report.swap)
        steps.append(f"swap on {devices}: swapoff {devices}, then remove its /etc/fstab line")
    for member in report.lvm:
        device = member.split()[0]
        steps.append(
            f"LVM physical volume {member}: pvmove {device}, vgreduce <VG> {device}, pvremove {device} "
            "(or unmount and vgchange -an <VG>)"
        )
    for member in report.raid:
        device = member.split()[0]
        steps.append(f"RAID member {member}: mdadm <ARRAY> --fail {device} --remove {device}")
    if not steps:
        return _make(25, RowStatus.PASS, "The disk is not swap, nor an LVM or RAID member.", "")
    return _make(
        25,
        RowStatus.FAIL,
        "The guest builds on the disk: " + "; ".join(steps) + ".",
        "ecs-detach does not take a volume apart: do these steps in the guest by hand, then check again.",
    )


GUEST_RULES: tuple[Rule, ...] = tuple(
    Rule(number, name, condition, 0, "", check, moot_when=_ATTACHED)
    for number, name, condition, check in (
        (22, GUEST_READABLE, "the guest can be read (Cloud Assistant online)", lambda s: _row22(_guest(s))),
        (23, GUEST_MOUNTED, "a file system of the disk is mounted in the guest", lambda s: _row23(_guest(s))),
        (24, GUEST_FSTAB, "/etc/fstab names the disk", lambda s: _row24(_guest(s))),
        (25, GUEST_MEMBER, "the disk is swap, an LVM or a RAID member", lambda s: _row25(_guest(s))),
    )
)


_BY_NAME = {rule.name: rule for rule in RULES + GUEST_RULES}
# The decision table by number (rows 19-21 are today's API page's additions, numbered after the older 18) and
# the order the API checks it in.
ROWS: tuple[RowSpec, ...] = tuple(sorted((rule.spec for rule in RULES), key=lambda spec: spec.number))
API_ORDER: tuple[int, ...] = tuple(rule.number for rule in RULES)
_SPEC = {spec.number: spec for spec in ROWS} | {rule.number: rule.spec for rule in GUEST_RULES}
_RANK = {number: rank for rank, number in enumerate(API_ORDER + tuple(r.number for r in GUEST_RULES))}
# Why a rule is not applicable when an earlier one (named) fails.
_MOOT: Mapping[str, Callable[[Subject], str]] = {
    ALREADY_DETACHED: lambda s: "Not applicable: the disk is attached nowhere.",
    NOT_ATTACHED_HERE: lambda s: f"Not applicable: the disk is not attached to {s.instance_id}.",
}


def _row_of(rows: tuple[Row, ...], name: str) -> Row:
    number = _BY_NAME[name].number
    return next(row for row in rows if row.number == number)


def _str_field(disk: Disk, key: str) -> str:
    value = disk.raw.get(key)
    return value if isinstance(value, str) else ""


def _categories_by_type(raw: object) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(raw, Mapping):
        return ()
    return tuple(
        (str(kind), frozenset(str(c) for c in categories))
        for kind, categories in raw.items()
        if isinstance(categories, list | tuple)
    )


def facts_from_fleet(fleet: Mapping[str, Any]) -> PlatformFacts:
    """PlatformFacts from a fleet file (demo mode: `emulator.state()`): its `Emulator` knobs, live counts.

    Knobs the section leaves out take the emulator's defaults (no special types, images or whitelist;
    a limit of 8 detaching disks per instance).
    """
    section = fleet.get("Emulator")
    knobs: Mapping[str, Any] = section if isinstance(section, Mapping) else {}

    def ids(key: str) -> frozenset[str]:
        value = knobs.get(key)
        if isinstance(value, list | tuple | set | frozenset):
            return frozenset(str(item) for item in value)
        return frozenset()

    durations_raw = knobs.get("Durations")
    dur: Mapping[str, Any] = durations_raw if isinstance(durations_raw, Mapping) else {}
    defaults = Durations()

    def seconds(action: str, default: float) -> float:
        value = dur.get(action)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return default

    limit_raw = knobs.get("MaxDetachingDisksPerInstance", _EMULATOR_DEFAULT_DETACHING_LIMIT)
    limit = limit_raw if isinstance(limit_raw, int) and not isinstance(limit_raw, bool) else None
    disks = [Disk.from_api(raw) for raw in fleet.get("Disks", []) if isinstance(raw, Mapping)]
    regions = frozenset(
        str(raw.get("RegionId"))
        for raw in fleet.get("Regions", [])
        if isinstance(raw, Mapping) and raw.get("RegionId")
    )
    pairs = {
        (str(entry.get("DiskId")), str(entry.get("InstanceId")))
        for entry in knobs.get("PendingTransitions", None) or []
        if isinstance(entry, Mapping) and entry.get("Action") == "DetachDisk" and entry.get("DiskId")
    }
    base = PlatformFacts(
        detaching_pairs=frozenset(pairs),
        no_hot_detach_types=ids("NoHotDetachInstanceTypes"),
        no_system_detach_types=ids("NoSystemDiskDetachInstanceTypes"),
        deleted_image_ids=ids("DeletedImageIds"),
        whitelist_disk_ids=ids("WhitelistRequiredDiskIds"),
        no_ephemeral_detach_types=ids("NoEphemeralDiskDetachInstanceTypes"),
        missing_base_image_disk_ids=ids("BaseImageMissingDiskIds"),
        unsupported_disk_categories=_categories_by_type(knobs.get("UnsupportedDiskCategories")),
        detaching_limit=limit,
        regions=regions or None,
        durations=Durations(
            detach=seconds("DetachDisk", defaults.detach),
            attach=seconds("AttachDisk", defaults.attach),
            stop=seconds("StopInstance", defaults.stop),
            start=seconds("StartInstance", defaults.start),
            snapshot=seconds("CreateSnapshot", defaults.snapshot),
        ),
    )
    facts = base.with_detaching_counts(disks)
    # Disks the fleet gives as Detaching detach from all their attachments.
    every = set(pairs)
    for disk in disks:
        if disk.status == DISK_DETACHING:
            every.update((disk.disk_id, instance_id) for instance_id in disk.attached_instance_ids)
    return replace(facts, detaching_pairs=frozenset(every))


_EMULATOR_DEFAULT_DETACHING_LIMIT = 8
