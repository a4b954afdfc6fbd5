"""Move a disk to another instance: both sides checked, one plan, one confirmation (`m` on a disk).

The plan comes from `workflow.prepare_move` in a thread worker (fresh reads of the disk, its instance, its
guest and the target, the journal), again on every option change; the job runs `workflow.run_move`
(`app.run_move`). Only the options that can change the plan are offered: the stop of either side when
it is needed, the guest unmount when the guest has the disk mounted, the snapshot (refused, with why, where
CreateSnapshot would be), and for a system disk the boot of the target from it, with the logon password
AttachDisk requires (typed here, masked, sent to AttachDisk only).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Static

from ecs_detach.models import INSTANCE_RUNNING
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import Verdict

from ..formatting import error_text
from ..text import plain
from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.jobcard import JobCard
from ..widgets.toggles import TickBox
from ..words import MOVE_WORDS
from .base import AppScreen
from .confirm import ConfirmScreen
from .pickers import PickerScreen
from .wizard import SNAPSHOT_LABEL, show_snapshot_option, snapshot_note, unmount_offered

if TYPE_CHECKING:
    from ecs_detach.workflow import MoveOptions, MovePlan


CHECK_SYMBOLS = {"pass": "✓", "fail": "✗", "fixable": "↻", "unknown": "?"}

PASSWORD_SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/"
"""The special characters AttachDisk's Password takes (besides letters and digits)."""


def password_problem(password: str, *, windows: bool = False) -> str:
    """What is wrong with a logon password for AttachDisk, in words that never repeat it ("" if nothing):
    8 to 30 characters, at least three of upper case, lower case, digits and the special characters, and
    on Windows not starting with ``/``."""
    if not password:
        return (
            "Type the logon password the target's root (Administrator on Windows) user will have: "
            "AttachDisk needs it to attach a system disk."
        )
    if not 8 <= len(password) <= 30:
        return f"The password has {len(password)} characters; AttachDisk takes 8 to 30."
    if any(not (c.isascii() and (c.isalnum() or c in PASSWORD_SPECIALS)) for c in password):
        return (
            "The password may hold only letters, digits and these characters: "
            f"{PASSWORD_SPECIALS} (no spaces, no other characters)."
        )
    kinds = [
        any(c.isupper() for c in password),
        any(c.islower() for c in password),
        any(c.isdigit() for c in password),
        any(c in PASSWORD_SPECIALS for c in password),
    ]
    if sum(kinds) < 3:
        return (
            f"The password mixes {sum(kinds)} kind(s) of character; AttachDisk needs three of: upper-case "
            "letters, lower-case letters, digits, special characters."
        )
    if windows and password.startswith("/"):
        return "A Windows instance's password cannot start with /."
    return ""


class MovePlanned(Message):
    def __init__(self, options: MoveOptions, move: MovePlan) -> None:
        super().__init__()
        self.options, self.move = options, move


class MoveFailed(Message):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


PASSED_IN_SHORT = {
    "target-other": "another instance",
    "target-unlocked": "no security lock",
    "same-zone": "the same zone",
    "category-on-type": "takes the disk's category",
    "target-status": "its status",
    "free-device": "a free device",
}
"""Target checks that, when they pass, share one line (so the steps stay in sight at 80x24)."""


def move_lines(move: MovePlan) -> list[str]:
    """The target checks, then the steps, as the screen and the confirmation show them (pure): the checks
    that pass in one line, any other in full. A move that would be refused lists no steps (it sends
    nothing)."""
    passed = [c for c in move.checks if c.status.value == "pass" and c.name in PASSED_IN_SHORT]
    lines = [f"✓ the target: {', '.join(PASSED_IN_SHORT[c.name] for c in passed)}."] if passed else []
    lines += [
        f"{CHECK_SYMBOLS.get(c.status.value, '?')} {c.condition}: {c.sentence_in(MOVE_WORDS)}"
        for c in move.checks
        if c not in passed
    ]
    lines.append("")
    if not move.executable:
        lines.append("Nothing to run: the move would be refused (above, the reason and what to do).")
        return lines
    for number, step in enumerate(move.plan.steps, 1):
        eta = f" (~{step.eta_seconds:.0f} s)" if step.eta_seconds else ""
        lines.append(f"{number}. {step.description}{eta}")
    return lines


def after_job_lines(move: MovePlan, succeeded: bool) -> list[str]:
    """Once the move's job has ended: where the disk is now (the fresh read of `move`), then what is
    left (pure). After a failure, what a new move would do from here (its checks and steps)."""
    pre = move.detach.preconditions
    disk = pre.disk if pre is not None else None
    if disk is None:
        where = f"Read again just now: disk {move.disk_id} was not found."
    elif disk.attached_instance_ids:
        where = (
            f"Read again just now: disk {disk.disk_id} is {disk.status} on "
            f"{', '.join(disk.attached_instance_ids)}."
        )
    else:
        where = f"Read again just now: disk {disk.disk_id} is {disk.status}, attached to no instance."
    if succeeded:
        return [where, "", "Nothing left to do: the move went through. Esc goes back to the list."]
    again = "A new move from here (Esc, then m on the disk) would go like this:"
    return [where, "", again, *move_lines(move)]


def source_blocked(move: MovePlan) -> bool:
    """Whether the source side refuses for good (a local disk, a lock, ...): no option of the move helps."""
    pre = move.detach.preconditions
    return pre is not None and pre.verdict is Verdict.BLOCKED and not move.resumed


TARGET_FOR_GOOD = frozenset({"target-exists", "target-other", "target-unlocked", "same-zone"})
"""Target checks no option of the move changes (no stop, unmount, snapshot or boot makes them pass)."""


def refused_for_good(move: MovePlan) -> bool:
    """Whether the move is refused whatever the options: its source refuses for good, or its target fails a
    check no option changes (another instance, a lock, the zone; or the instance the disk was detached
    from, which is the undo's to put back)."""
    failed = {c.name for c in move.checks if c.status.value == "fail"}
    return source_blocked(move) or bool(failed & TARGET_FOR_GOOD)


def target_needs_stop(move: MovePlan) -> bool:
    """Whether stopping the (Running) target is what its status check asks for."""
    target = move.target
    if target is None or target.status != INSTANCE_RUNNING:
        return False
    return any(c.name == "target-status" and c.status.value in ("fail", "fixable") for c in move.checks)


class MoveScreen(AppScreen[None]):
    """The move of one disk to the instance picked: checks of both sides, the plan, Move… to confirm."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("i", "pick_source", "From (multi-attach)", id="pick-source"),
        Binding("o", "app.operations", "Jobs"),
    ]

    def __init__(self, disk_id: str, target_id: str, *, source_id: str | None, region_id: str | None) -> None:
        super().__init__()
        from ecs_detach.workflow import MoveOptions

        self.disk_id, self.target_id, self.region_id = disk_id, target_id, region_id
        self.options = MoveOptions(
            target_instance_id=target_id, source_instance_id=source_id, guest_check=True
        )
        self.move: MovePlan | None = None
        self.job: Any = None
        self._rechecked = False  # read again once the job has ended

    def compose(self) -> ComposeResult:
        yield IdentityBar(self.ecs_app.identity)
        where = f" from {self.options.source_instance_id}" if self.options.source_instance_id else ""
        yield Label(
            plain(f"Move disk {self.disk_id}{where} to {self.target_id}"),
            id="move-title",
            classes="pane-title",
        )
        yield Static(
            "Reading the disk, its instance and the target…", id="verdict", classes="verdict neutral"
        )
        yield Vertical(id="progress")
        with VerticalScroll(id="move-body"):
            yield TickBox(SNAPSHOT_LABEL, id="move-snapshot")
            yield Static("", id="move-snapshot-why", classes="option-why")
            yield TickBox("Stop the source instance (the detach needs it)", id="move-stop-source")
            yield TickBox(
                "Unmount it in the source's guest (its fstab lines commented out, backed up)",
                id="move-unmount",
            )
            yield TickBox("Stop the target instance (the attach needs it)", id="move-stop-target")
            with Vertical(id="boot-section"):
                yield TickBox("Boot the target from it (attach as its system disk)", id="move-bootable")
                yield Input(
                    placeholder="the target's new logon password (8-30 characters)",
                    password=True,
                    id="move-password",
                )
                yield Static("", id="password-problem")
            yield Label("Checks and plan", classes="section-title", id="move-plan-title")
            yield Static("", id="move-plan")
        with Horizontal(classes="wizard-actions"):
            yield Button("Cancel", id="cancel", variant="primary")
            yield Button("Move…", id="go", variant="error", disabled=True)
            yield Label("tab: next · enter: press", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        for option in (
            "#move-snapshot",
            "#move-snapshot-why",
            "#move-stop-source",
            "#move-unmount",
            "#move-stop-target",
        ):
            self.query_one(option).display = False
        for part in ("#boot-section", "#move-password", "#password-problem"):
            self.query_one(part).display = False
        self.query_one("#cancel", Button).focus()
        self.check()

    def check(self) -> None:
        self.query_one("#go", Button).disabled = True
        self._plan_in_worker(self.options)

    @work(thread=True, exclusive=True, group="move")
    def _plan_in_worker(self, options: MoveOptions) -> None:
        try:
            move = self.ecs_app.prepare_move(self.disk_id, options, self.region_id)
        except Exception as error:
            self.post_message(MoveFailed(error))
            return
        self.post_message(MovePlanned(options, move))

    @on(MoveFailed)
    def _failed(self, message: MoveFailed) -> None:
        title, body = error_text(message.error)
        self.query_one("#verdict", Static).update(plain(f"✗ Could not check: {title}\n{body}"))
        self.move = None
        self.ecs_app.show_error(message.error, "Could not check the move")

    @on(MovePlanned)
    def _planned(self, message: MovePlanned) -> None:
        if message.options != self.options:
            return  # a newer plan is on its way
        move = self.move = message.move
        self._show_options(move)
        if self.job is not None and not self.job.active:  # the fresh reads after the job: where it is now
            lines = after_job_lines(move, self.job.succeeded)
            self.query_one("#move-plan-title", Label).update("Where the disk is now")
            self.query_one("#move-plan", Static).update(plain("\n".join(lines)))
            self._update_go()
            self.refresh_bindings()
            return
        self._show_title(move)
        verdict = self.query_one("#verdict", Static)
        if self.job is None:
            if move.executable:
                verdict.update(
                    plain(f"✓ ready — {len(move.plan.calls)} call(s), ETA ~{move.plan.eta_seconds:.0f} s")
                )
                verdict.set_classes("verdict ready")
            else:
                verdict.update(plain(f"✗ blocked — {move.refusal_in(MOVE_WORDS)}"))
                verdict.set_classes("verdict blocked")
        warnings = [f"⚠ {w}" for w in move.plan.warnings_in(MOVE_WORDS)] if move.executable else []
        self.query_one("#move-plan", Static).update(plain("\n".join([*move_lines(move), "", *warnings])))
        self._update_go()
        self.refresh_bindings()

    def _show_title(self, move: MovePlan) -> None:
        pre = move.detach.preconditions
        disk = pre.disk if pre is not None else None
        kind = ""
        if disk is not None:
            kind = " (multi-attach)" if disk.is_multi_attach else f" ({disk.type} disk)"
        source = move.source_instance_id
        where = f" from {source}" if source else ""
        if source and disk is not None and source not in disk.attached_instance_ids:
            where = f" (detached from {source})"  # an earlier run detached it (the journal says where from)
        self.query_one("#move-title", Label).update(
            plain(f"Move {move.disk_id}{kind}{where} to {move.target_instance_id}")
        )

    def _show_options(self, move: MovePlan) -> None:
        """Offer only what can change this plan; the snapshot says why where the API would refuse it."""
        pre = move.detach.preconditions
        blocked = refused_for_good(move) or self.job is not None
        snapshot, why = (
            self.query_one("#move-snapshot", Checkbox),
            self.query_one("#move-snapshot-why", Static),
        )
        note = snapshot_note(pre) if pre is not None else ""
        show_snapshot_option(snapshot, why, note, SNAPSHOT_LABEL)
        snapshot.display = pre is not None and not blocked
        why.display = why.display and snapshot.display
        needs_stop = pre is not None and pre.needs_stop
        self.query_one("#move-stop-source").display = needs_stop and not blocked
        self.query_one("#move-unmount").display = pre is not None and unmount_offered(pre) and not blocked
        self.query_one("#move-stop-target").display = (
            target_needs_stop(move) or self.options.stop_target
        ) and not blocked
        system = pre is not None and pre.is_system_disk
        self.query_one("#boot-section").display = system and not blocked
        booting = system and self.options.bootable and not blocked
        self.query_one("#move-password").display = booting and self.job is None
        self.query_one("#password-problem").display = booting and self.job is None

    def _password(self) -> str:
        return self.query_one("#move-password", Input).value

    def _password_problem(self) -> str:
        """Why the password typed cannot go to AttachDisk ("" when it can, or when none is needed)."""
        if not self.options.bootable:
            return ""
        target = self.move.target if self.move is not None else None
        windows = target is not None and target.os_type.lower() == "windows"
        return password_problem(self._password(), windows=windows)

    def _update_go(self) -> None:
        move = self.move
        problem = self._password_problem()
        self.query_one("#password-problem", Static).update(
            plain(f"✗ {problem}" if problem else "✓ The password meets AttachDisk's rules.")
        )
        ready = move is not None and move.executable and move.options == self.options
        go = self.query_one("#go", Button)
        go.disabled = not ready or bool(problem) or self.job is not None
        go.display = move is None or not refused_for_good(move)

    @on(Input.Changed, "#move-password")
    def _password_changed(self) -> None:
        self._update_go()  # the password never goes into the plan: nothing to read again

    @on(Checkbox.Changed)
    def _options_changed(self) -> None:
        bootable = self.query_one("#move-bootable", Checkbox).value
        options = replace(
            self.options,
            snapshot=self.query_one("#move-snapshot", Checkbox).value,
            allow_stop_source=self.query_one("#move-stop-source", Checkbox).value,
            unmount=self.query_one("#move-unmount", Checkbox).value,
            stop_target=self.query_one("#move-stop-target", Checkbox).value,
            bootable=bootable,
            credential="password" if bootable else None,
        )
        if options != self.options:
            self.options = options
            self.check()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_source":
            return bool(self._attachments()) and self.job is None
        return True

    def _attachments(self) -> list[str]:
        """The instances a multi-attach disk is on (the move takes it from one of them); else none."""
        pre = self.move.detach.preconditions if self.move is not None else None
        disk = pre.disk if pre is not None else None
        if disk is None or not disk.is_multi_attach:
            return []
        return [i for i in disk.attached_instance_ids if i != self.target_id]

    def action_pick_source(self) -> None:
        """Choose which attachment of a multi-attach disk moves (the others stay)."""
        choices = self._attachments()
        if not choices or self.job is not None:
            return
        self.app.push_screen(
            PickerScreen(
                f"Move {self.disk_id} from which instance? (it stays on the others)",
                [(i, i) for i in choices],
                current=self.move.source_instance_id if self.move is not None else "",
            ),
            self._source_picked,
        )

    def _source_picked(self, source: str | None) -> None:
        if source and source != self.options.source_instance_id:
            self.options = replace(self.options, source_instance_id=source)
            self.query_one("#verdict", Static).update(plain(f"Reading {self.disk_id} on {source} again…"))
            self.check()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        move = self.move
        if move is None or not move.executable or self.job is not None or move.options != self.options:
            return
        if self._password_problem() or not self.ecs_app.writes_allowed("move"):
            return
        pre = move.plan.preconditions
        risky = move.plan.has_step(StepKind.STOP_INSTANCE) or (pre is not None and pre.is_system_disk)
        boots = (
            [f"{move.target_instance_id} boots from it, with the logon password typed (not shown)", ""]
            if move.options.bootable
            else []
        )
        body = "\n".join(
            [
                f"Disk {move.disk_id}: from {move.source_instance_id} to {move.target_instance_id}",
                *boots,
                "",
                *move_lines(move),
            ]
        )
        self.app.push_screen(
            ConfirmScreen(
                plain("Move this disk?"),
                plain(body),
                confirm_label="Move",
                typed_id=move.disk_id if risky else None,
            ),
            lambda ok: self._confirmed(bool(ok)),
        )

    def _confirmed(self, ok: bool) -> None:
        if not ok or self.move is None:
            self.query_one("#cancel", Button).focus()
            return
        self.query_one("#go", Button).disabled = True
        self.query_one("#cancel", Button).label = "Back"
        secret = self.query_one("#move-password", Input)
        password = secret.value if self.move.options.bootable else None
        secret.value = ""  # the job has it now; the screen keeps no copy
        self.job = self.ecs_app.run_move(self.move, password=password)
        self._show_options(self.move)
        self.refresh_bindings()
        self.query_one("#progress", Vertical).mount(JobCard(self.job, self.ecs_app.services.clock()))
        self.query_one("#verdict", Static).update(plain(f"… moving {self.disk_id} to {self.target_id}"))

    def refresh_jobs(self) -> None:
        if self.job is None:
            return
        for card in self.query(JobCard):
            card.update_job(self.job, self.ecs_app.services.clock())
        if not self.job.active:
            symbol = "✓" if self.job.succeeded else "✗"
            self.query_one("#verdict", Static).update(plain(f"{symbol} {self.job.message}"))
            self.query_one("#verdict", Static).set_classes(
                f"verdict {'ready' if self.job.succeeded else 'blocked'}"
            )
            if not self._rechecked:
                self._rechecked = True
                self.query_one("#move-plan", Static).update("Reading the disk again…")
                self.check()  # the plan shown was made before the job: show where the disk is now
