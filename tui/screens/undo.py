"""Undo: re-attach a disk to the instance it was detached from, as the journal recorded it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Static

from ecs_detach import workflow
from ecs_detach.guest import Remount, RemountNow, RemountState
from ecs_detach.journal import JournalRecord
from ecs_detach.models import DISK_AVAILABLE, DISK_IN_USE, Disk
from ecs_detach.plan import Plan, StepKind
from ecs_detach.vocabulary import DEMO_TIME

from ..checks import plan_lines, step_lines
from ..formatting import duration, error_text, status_text
from ..jobs import Job
from ..text import lines as text_lines
from ..text import marked, plain
from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.jobcard import JobCard
from ..widgets.toggles import RadioChoice, TickBox
from ..words import TUI_WORDS
from .base import AppScreen
from .confirm import ConfirmScreen

if TYPE_CHECKING:
    pass


@dataclass
class UndoFound(Message):
    record: JournalRecord | None
    disk: Disk | None
    plan: Plan | None
    remount: RemountNow | None = None  # attached there again: whether the guest still owes the remount


@dataclass
class UndoReading(Message):
    """The disk is attached to the record's instance again: its guest is being read."""

    instance_id: str


@dataclass
class UndoFailed(Message):
    error: BaseException


def reattachable(disk: Disk, instance_id: str) -> bool:
    """Whether AttachDisk can take ``disk`` back to ``instance_id`` now: an ordinary disk when it is
    Available (attached nowhere); a multi-attach disk also while In_use on its other instances."""
    if disk.is_multi_attach:
        return disk.status in (DISK_AVAILABLE, DISK_IN_USE) and instance_id not in disk.attached_instance_ids
    return disk.status == DISK_AVAILABLE and not disk.attached_instance_ids


class UndoScreen(AppScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("o", "app.operations", "Jobs"),
    ]

    def __init__(self, disk_id: str | None) -> None:
        super().__init__()
        self.disk_id = disk_id
        self.record: JournalRecord | None = None
        self.disk: Disk | None = None
        self.plan: Plan | None = None
        self.job: Job | None = None
        self.remount: RemountNow | None = None
        self._read_cancel = workflow.CancelToken()  # the guest read's wait ends with the screen

    def compose(self) -> ComposeResult:
        yield IdentityBar(self.ecs_app.identity)
        yield Label("Undo: re-attach a detached disk", id="undo-title", classes="pane-title")
        with VerticalScroll(classes="screen-body"):
            yield Static("Looking in the journal…", id="undo-summary", classes="verdict neutral")
            with Vertical(id="credential-section"):
                yield Label("A system disk needs logon credentials for AttachDisk", classes="section-title")
                with RadioSet(id="credential"):
                    yield RadioChoice("key pair", value=True)
                    yield RadioChoice("password")
                yield Input(placeholder="key pair name", id="secret")
                yield TickBox("Start the instance afterwards", id="start-after")
            with Vertical(id="remount-section"):
                yield TickBox("Mount it back in the guest", value=True, id="remount")
            yield Label("Plan", classes="section-title", id="plan-title")
            yield Static("", id="plan")
            yield Label("Equivalent aliyun commands", classes="section-title", id="commands-title")
            yield Static("", id="commands", classes="commands")
            with Horizontal(classes="wizard-actions"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Re-attach…", id="go", variant="warning", disabled=True)
            yield Vertical(id="progress")
        yield KeyFooter()

    def on_mount(self) -> None:
        for section in (
            "#credential-section",
            "#remount-section",
            "#plan-title",
            "#plan",
            "#commands-title",
            "#commands",
        ):
            self.query_one(section).display = False
        self.query_one("#cancel", Button).focus()
        self.find()

    def on_unmount(self) -> None:
        self._read_cancel.cancel()

    @work(thread=True, exclusive=True, group="undo")
    def find(self, credential: str | None = None, start_after: bool = False, remount: bool = True) -> None:
        app = self.ecs_app
        journal = app.services.journal
        try:
            found = journal.last_detach(self.disk_id, rotated=True) if journal is not None else None
            if found is None:
                self.post_message(UndoFound(None, None, None))
                return
            intent, _ = found
            client = app.client_for(intent.region or None)
            disk = client.get_disk(intent.disk_id)
            plan = workflow.prepare_reattach(
                client,
                intent,
                credential=credential,
                start_after=start_after,
                facts=app.facts_source(),
                remount=remount,
            )
            owed = None
            if disk is not None and intent.instance_id in disk.attached_instance_ids:
                # attached there again (an earlier undo): the run mounts it back only if still owed
                self.post_message(UndoReading(intent.instance_id))
                owed = workflow.read_remount(client, plan, guest_time=app.guest_time(self._read_cancel))
        except Exception as error:
            self.post_message(UndoFailed(error))
            return
        self.post_message(UndoFound(intent, disk, plan, owed))

    @on(UndoReading)
    def _reading(self, message: UndoReading) -> None:
        self.query_one("#undo-summary", Static).update(
            plain(f"The disk is attached to {message.instance_id} again: reading its guest…")
        )

    @on(UndoFailed)
    def _failed(self, message: UndoFailed) -> None:
        title, body = error_text(message.error)
        self.query_one("#undo-summary", Static).update(
            plain(f"✗ Could not prepare the undo: {title}\n{body}")
        )

    @on(UndoFound)
    def _found(self, message: UndoFound) -> None:
        summary = self.query_one("#undo-summary", Static)
        if message.record is None:
            where = f"disk {self.disk_id}" if self.disk_id else "any disk"
            summary.update(
                plain(
                    f"– Nothing to undo: the journal has no DetachDisk of {where} that went through.\n"
                    "Detaches made with ecs-detach (TUI, CLI or notebooks) are recorded; j shows the journal."
                )
            )
            return
        record, disk, plan = message.record, message.disk, message.plan
        self.record, self.disk, self.plan, self.remount = record, disk, plan, message.remount
        assert plan is not None and disk is not None
        if message.remount is not None:
            self._found_attached(record, disk, plan, message.remount)
            return
        device = record.context.get("device") or ""
        clock = (
            DEMO_TIME if self.ecs_app.services.emulator is not None else "UTC"
        )  # the demo's clock runs fast
        self.query_one("#undo-title", Label).update(
            plain(
                f"Undo: re-attach {record.disk_id} to {record.instance_id}"
                + (f" ({device})" if device else "")
            )
        )
        lines = [
            f"Detached at {record.at.replace('T', ' ')[:19]} ({clock}) from instance {record.instance_id}"
            f" (profile {record.profile or '-'}, region {record.region or '-'}).",
            f"Disk {disk.disk_id} is now {status_text(disk.status)}.",
        ]
        snapshot_id = record.context.get("snapshot_id")
        if snapshot_id:
            lines.insert(1, f"A snapshot was taken first: {snapshot_id} (accomplished before the detach).")
        ready = reattachable(disk, record.instance_id)
        if not ready and disk.is_multi_attach and record.instance_id in disk.attached_instance_ids:
            lines.append(f"– Nothing to undo: it is attached to {record.instance_id} again.")
        elif not ready and disk.is_multi_attach:
            lines.append(
                f"✗ A multi-attach disk can be attached to {record.instance_id} while it is Available or "
                "In_use elsewhere, not while it is attaching or detaching: wait, then press u again."
            )
        elif not ready:
            lines.append(
                "✗ It must be Available (attached nowhere) to re-attach it: wait, then press u again."
            )
        elif not plan.executable:
            lines.append(f"! {plan.refusal}")
        else:
            lines.append("✓ Ready to re-attach.")
        summary.update(plain("\n".join(lines)))
        summary.set_classes("verdict " + ("ready" if ready and plan.executable else "fixable"))
        needs_secret = disk.is_system and ready
        self.query_one("#credential-section").display = needs_secret
        remount = Remount.from_context(record.context)
        self.query_one("#remount-section").display = remount is not None and ready
        if remount is not None:
            where = ", ".join(remount.mount_points) or "its place"
            self.query_one("#remount", Checkbox).label = f"Mount it back at {where}" + (
                " and restore its /etc/fstab line" if remount.fstab_backup else ""
            )
        if needs_secret and self.job is None and not self._secret():
            self.query_one("#secret", Input).focus()  # the one thing to type; nothing is sent from here
        for section in ("#plan-title", "#plan", "#commands-title", "#commands"):
            self.query_one(section).display = ready
        body = plan_lines(plan)
        body.append(f"ETA about {duration(plan.eta_seconds)}")
        body.extend(f"⚠ {w}" for w in plan.warnings_in(TUI_WORDS))
        self.query_one("#plan", Static).update(plain("\n".join(body)))
        self.query_one("#commands", Static).update(plain("\n".join(plan.aliyun_commands)))
        go = self.query_one("#go", Button)
        go.display = True
        go.disabled = not ready or self.job is not None or (not plan.executable and not disk.is_system)
        if disk.is_system and not self._secret():
            go.disabled = True

    def _found_attached(self, record: JournalRecord, disk: Disk, plan: Plan, now: RemountNow) -> None:
        """The disk is attached to the record's instance again and the record carries a remount: the
        guest's fresh read says whether it is still owed; running the same undo then mounts it back."""
        words = now.words
        instance_id = record.instance_id
        lines = [f"Disk {disk.disk_id} is attached to {instance_id} again ({status_text(disk.status)})."]
        if now.state is RemountState.OWED:
            lines.append(f"Attached again; {now.what_is_owed}: {words.verb.capitalize()}.")
            lines.append(f"✓ Ready to {words.verb}: AttachDisk is not sent again.")
        elif now.state is RemountState.DONE:
            lines.append(f"– Nothing to undo: attached and {words.state} at {now.where}.")
        elif now.state is RemountState.NOT_RUNNING:
            lines.append(
                f"✗ Attached again, but {now.report.detail} Start instance {instance_id}, then press u "
                f"again to {words.verb}."
            )
        else:
            lines.append(
                f"✗ Attached again, but whether it is {words.back} in the guest is unknown: "
                f"{now.why_unknown}\nCheck the guest; to {words.verb} by hand, run this in the guest of "
                f"{instance_id}:\n{now.script}"
            )
        summary = self.query_one("#undo-summary", Static)
        summary.update(plain("\n".join(lines)))
        summary.set_classes("verdict " + ("ready" if now.owed else "fixable"))
        self.query_one("#undo-title", Label).update(
            plain(f"Undo: {words.verb} in the guest of {instance_id} ({disk.disk_id})")
        )
        for section in ("#credential-section", "#remount-section"):
            self.query_one(section).display = False
        steps = [step for step in plan.steps if step.kind is StepKind.GUEST_REMOUNT]
        for section in ("#plan-title", "#plan", "#commands-title", "#commands"):
            self.query_one(section).display = now.owed
        self.query_one("#plan", Static).update(plain("\n".join(step_lines(steps))))
        self.query_one("#commands", Static).update(plain("\n".join(step.aliyun for step in steps)))
        go = self.query_one("#go", Button)
        go.label = f"{words.verb.capitalize()}…"
        go.disabled = not now.owed or self.job is not None or not plan.executable
        go.display = now.owed  # nothing to send: no greyed button

    def _credential(self) -> str:
        return "password" if self.query_one("#credential", RadioSet).pressed_index == 1 else "key-pair"

    def _secret(self) -> str:
        return self.query_one("#secret", Input).value.strip()

    def _find_again(self) -> None:
        """Plan again with what the screen's choices say now."""
        start_after = self.query_one("#start-after", Checkbox).value
        self.find(self._credential(), start_after, self.query_one("#remount", Checkbox).value)

    @on(RadioSet.Changed, "#credential")
    @on(Checkbox.Changed, "#start-after")
    @on(Checkbox.Changed, "#remount")
    def _options(self) -> None:
        secret = self.query_one("#secret", Input)
        password = self._credential() == "password"
        secret.password = password
        secret.placeholder = "password" if password else "key pair name"
        self._find_again()

    @on(Input.Changed, "#secret")
    def _secret_changed(self) -> None:
        if self.plan is not None and self.disk is not None and self.disk.is_system:
            self._find_again()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        plan, disk = self.plan, self.disk
        if plan is None or disk is None or self.job is not None or not plan.executable:
            return
        if not self.ecs_app.writes_allowed("re-attach"):
            return
        if self.remount is not None:
            self._confirm_remount(plan, self.remount)
            return
        body = text_lines(
            [
                marked(
                    "Profile [b]$profile[/b] · region [b]$region[/b]",
                    profile=self.ecs_app.services.profile,
                    region=plan.region_id,
                ),
                "",
                *plan_lines(plan),
                *[f"⚠ {w}" for w in plan.warnings_in(TUI_WORDS)],
            ]
        )
        self.app.push_screen(
            ConfirmScreen(
                "Re-attach this disk?",
                body,
                confirm_label="Re-attach",
                typed_id=disk.disk_id if disk.is_system else None,
            ),
            lambda ok: self._confirmed(bool(ok)),
        )

    def _confirm_remount(self, plan: Plan, now: RemountNow) -> None:
        """The same undo again: the disk is attached, so its run reads the guest, then sends the remount."""
        if not now.owed:
            return
        words = now.words
        steps = [step for step in plan.steps if step.kind is StepKind.GUEST_REMOUNT]
        body = text_lines(
            [
                marked(
                    "Profile [b]$profile[/b] · region [b]$region[/b]",
                    profile=self.ecs_app.services.profile,
                    region=plan.region_id,
                ),
                "",
                *step_lines(steps),
                "",
                f"Disk {plan.disk_id} stays attached to {plan.instance_id}; the guest is read again first.",
            ]
        )
        self.app.push_screen(
            ConfirmScreen(
                f"{words.verb.capitalize()} in the guest?",
                body,
                confirm_label=f"{words.verb.capitalize()}",
            ),
            lambda ok: self._confirmed(bool(ok)),
        )

    def _confirmed(self, ok: bool) -> None:
        if not ok or self.plan is None:
            return
        secret = self._secret() or None
        password = secret if self._credential() == "password" and self.disk and self.disk.is_system else None
        key_pair = secret if self._credential() == "key-pair" and self.disk and self.disk.is_system else None
        self.job = self.ecs_app.run_plan(self.plan, password=password, key_pair_name=key_pair)
        self.query_one("#go", Button).disabled = True
        self.query_one("#cancel", Button).label = "Back"
        self.query_one("#progress", Vertical).mount(
            Label("Progress", classes="section-title"), JobCard(self.job, self.ecs_app.services.clock())
        )

    def refresh_jobs(self) -> None:
        if self.job is None:
            return
        for card in self.query(JobCard):
            card.update_job(self.job, self.ecs_app.services.clock())
