"""The detach wizard: preconditions as a checklist, the fix, the plan with its aliyun commands, confirmation,
then the job's progress (which goes on if the operator leaves)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Checkbox, Label, RadioSet, Static

from ecs_detach.detach.snapshot import snapshot_blocker
from ecs_detach.models import INSTANCE_STOPPED, INSTANCE_STOPPING
from ecs_detach.plan import Plan, StepKind
from ecs_detach.preconditions import DetachOptions, Preconditions, Verdict
from ecs_detach.workflow import CancelToken

from ..checks import checklist, needs_typed_id, plan_lines, verdict_banner
from ..formatting import duration, error_text, status_text
from ..jobs import Job, job_banner
from ..text import lines as text_lines
from ..text import marked, plain
from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.jobcard import JobCard
from ..widgets.signposted import SignpostedScroll
from ..widgets.toggles import RadioChoice, TickBox
from ..words import TUI_WORDS
from .base import AppScreen
from .confirm import ConfirmScreen

if TYPE_CHECKING:
    pass

STOPPED_MODES = ("", "KeepCharging", "StopCharging")

READING = "Reading the disk, its instance and its guest… (Esc stops the wait)"


SNAPSHOT_LABEL = "Snapshot the disk first (CreateSnapshot; billed)"
SNAPSHOT_SUGGESTED = "Snapshot first (suggested for a system disk; billed)"
SNAPSHOT_REFUSED = "Snapshot first: not possible now (why below)"


def snapshot_note(pre: Preconditions) -> str:
    """Why CreateSnapshot would be refused for this disk now ("" when it would not): shown under the
    option, which is then disabled (the move screen shows the same)."""
    why, code = snapshot_blocker(pre.disk, pre.instance)
    return f"No snapshot now: {why} (CreateSnapshot would answer {code})." if why else ""


def unmount_offered(pre: Preconditions) -> bool:
    """Whether to offer the guest unmount: the guest was read and has the disk mounted (or in /etc/fstab),
    and nothing holds it that an unmount cannot release (LVM, RAID)."""
    guest = pre.guest
    return guest is not None and bool(guest.mount_points or guest.active_fstab) and not guest.holders


def show_snapshot_option(box: Checkbox, why: Static, note: str, label: str) -> None:
    """The snapshot box with `label`, or disabled with the reason below it (`note`); a box already
    ticked stays free to untick."""
    box.disabled = bool(note) and not box.value
    box.label = SNAPSHOT_REFUSED if note else label
    why.display = bool(note)
    why.update(plain(note))


@dataclass
class Planned(Message):
    """Fresh preconditions and the plan for the wizard's disk (read just now, with the journal)."""

    requested: DetachOptions
    """The options the wizard asked for (a reply for options since changed is dropped)."""
    options: DetachOptions
    """The options the plan was made with (the keep-the-disk choice applied once the disk is known)."""
    plan: Plan
    restart_matters: bool
    """Whether "start it again" changes what the plan sends (e.g. an instance an earlier run stopped)."""
    read: CancelToken | None = None
    """The read's cancel: only the latest read's answer is shown."""
    stopped: bool = False
    """The operator stopped the wait for the guest (Esc): the guest was not read."""
    would: Plan | None = None
    """A check whose plan waits for the operator's say-so (a stop, an unmount): the plan d would run once
    it is given (shown, never run)."""


@dataclass
class CheckFailed(Message):
    error: BaseException


def effective_options(options: DetachOptions, pre: Preconditions, *, keep_disk: bool) -> DetachOptions:
    """The options with the keep-the-disk box applied: DeleteWithInstance=false for a system disk (not
    multi-attach) while the box is ticked, unset otherwise."""
    dwi_matters = pre.is_system_disk and not (pre.disk is not None and pre.disk.is_multi_attach)
    return replace(options, delete_with_instance=False if dwi_matters and keep_disk else None)


def fixes_allowed(options: DetachOptions, pre: Preconditions) -> DetachOptions:
    """The options with the say-so the detach wizard asks for given: the stop the instance needs, the
    unmount it offers (what a check shows d would do)."""
    return replace(
        options,
        allow_stop=options.allow_stop or pre.needs_stop,
        unmount=options.unmount or unmount_offered(pre),
    )


def would_title(plan: Plan, would: Plan | None) -> str:
    """The plan pane's title on a check, naming the say-so the plan shown needs, e.g. "What d would do,
    once you allow the stop"."""
    if would is None:
        return "What d would do"
    given = [
        word
        for word, now, then in (
            ("the stop", plan.options.allow_stop, would.options.allow_stop),
            ("the unmount", plan.options.unmount, would.options.unmount),
        )
        if then and not now
    ]
    return "What d would do" + (f", once you allow {' and '.join(given)}" if given else "")


def _restart_may_matter(plan: Plan) -> bool:
    """Whether "start it again" could change the plan besides a stop it makes: a data disk on a Stopped
    instance (which an earlier run of ours may have stopped)."""
    pre = plan.preconditions
    if pre is None or pre.instance is None or pre.is_system_disk or plan.has_step(StepKind.STOP_INSTANCE):
        return False
    return pre.instance.status in (INSTANCE_STOPPED, INSTANCE_STOPPING)


class DetachWizard(AppScreen[None]):
    """Check → fix → plan → confirm → follow, for one disk on one instance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "recheck", "Check again"),
        Binding("s", "allow_stop", "Allow the stop", id="allow-stop"),
        Binding("o", "app.operations", "Jobs"),
    ]

    def __init__(
        self, disk_id: str, instance_id: str | None, *, check_only: bool = False, region_id: str | None = None
    ) -> None:
        super().__init__()
        self.disk_id = disk_id
        self.region_id = region_id
        self.instance_id = instance_id
        self.check_only = check_only
        self.options = DetachOptions(instance_id=instance_id, guest_check=True)
        self.preconditions: Preconditions | None = None
        self.plan: Plan | None = None
        self.job: Job | None = None
        self.restart_matters = False
        self._keep_disk = True
        self._rechecked = False
        self._read_cancel: CancelToken | None = None
        """The wait of the read under way (the guest's probe can take a minute): Esc cancels it."""

    # --- layout

    def compose(self) -> ComposeResult:
        yield IdentityBar(self.ecs_app.identity)
        verb = "Check" if self.check_only else "Detach"
        yield Label(plain(f"{verb} disk {self.disk_id}"), id="wizard-title", classes="pane-title")
        yield Static(READING, id="verdict", classes="verdict neutral")
        yield Vertical(id="progress")
        with Horizontal(id="wizard-columns"):
            with SignpostedScroll(id="wizard-checks"):
                yield Label("Preconditions (what needs you first)", classes="section-title")
                yield Static("", id="checklist", classes="checklist")
            with SignpostedScroll(id="wizard-plan"):
                with Vertical(id="fix-section"):
                    yield Label("Fix: stop the instance first", classes="section-title")
                    yield TickBox("Stop the instance (its workloads go down)", id="allow-stop")
                    yield TickBox("Force stop (ForceStop: like pulling the plug)", id="force-stop")
                    with Horizontal(id="stopped-row"):
                        yield Label("StoppedMode:")
                        with RadioSet(id="stopped-mode"):
                            yield RadioChoice("default", value=True)
                            yield RadioChoice("KeepCharging")
                            yield RadioChoice("StopCharging")
                with Vertical(id="guest-section"):
                    yield Label("Fix: release the disk in the guest first", classes="section-title")
                    yield TickBox(
                        "Unmount it in the guest (/etc/fstab lines commented out)",
                        id="allow-unmount",
                    )
                with Vertical(id="restart-section"):
                    yield Label("", id="earlier-stop", classes="section-title")
                    yield TickBox("Start it again afterwards", id="restart")
                with Vertical(id="dwi-section"):
                    yield TickBox(
                        "Keep the disk when the instance is released",
                        id="keep-disk",
                        value=True,
                    )
                with Vertical(id="snapshot-section"):
                    yield TickBox(SNAPSHOT_LABEL, id="snapshot")
                    yield Static("", id="snapshot-why", classes="option-why")
                yield Static("", id="no-plan")
                yield Label("Plan", classes="section-title", id="plan-title")
                yield Static("", id="plan")
                yield Label("Equivalent aliyun commands", classes="section-title", id="commands-title")
                yield Static("", id="commands", classes="commands")
        with Horizontal(classes="wizard-actions"):
            yield Button("Cancel", id="cancel", variant="primary")
            yield Button("Detach…", id="go", variant="error", disabled=True)
            if self.check_only:
                yield Label("A check sends nothing. Back on the list, d starts a detach.", classes="hint")
            else:
                yield Label("tab moves on · enter presses", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        for section in (
            "#fix-section",
            "#guest-section",
            "#restart-section",
            "#dwi-section",
            "#snapshot-section",
            "#plan-title",
            "#plan",
            "#commands-title",
            "#commands",
        ):
            self.query_one(section).display = False
        self.query_one("#go").display = not self.check_only
        self.query_one("#cancel", Button).label = "Close" if self.check_only else "Cancel"
        self.query_one("#cancel", Button).focus()
        self.check()

    # --- reading and planning (one way, the workflow's: fresh reads, preconditions, journal)

    def check(self) -> None:
        """Read again and plan with the current options (the Go button waits for the new plan)."""
        self.query_one("#go", Button).disabled = True
        if self._read_cancel is not None:
            self._read_cancel.cancel()  # a read for older options: its answer is dropped anyway
        self._read_cancel = CancelToken()
        self._plan_in_worker(self.options, self._keep_disk, self._read_cancel)

    @work(thread=True, exclusive=True, group="check")
    def _plan_in_worker(self, requested: DetachOptions, keep_disk: bool, cancel: CancelToken) -> None:
        app = self.ecs_app
        region = self.region_id
        try:
            plan = app.prepare_plan(self.disk_id, requested, region, cancel=cancel)
            pre = plan.preconditions
            options = requested
            if pre is not None:
                options = effective_options(requested, pre, keep_disk=keep_disk)
                if options != requested:
                    plan = app.prepare_plan(self.disk_id, options, region, cancel=cancel)
            restart_matters = False
            if _restart_may_matter(plan):
                other = replace(options, restart=not options.restart)
                again = app.prepare_plan(self.disk_id, other, region, cancel=cancel)
                restart_matters = again.calls != plan.calls
            would = None
            if self.check_only and pre is not None and not plan.executable and not cancel.cancelled:
                allowed = fixes_allowed(options, pre)
                if allowed != options:
                    would = app.prepare_plan(self.disk_id, allowed, region, cancel=cancel)
        except Exception as error:
            self.post_message(CheckFailed(error))
            return
        self.post_message(Planned(requested, options, plan, restart_matters, cancel, cancel.cancelled, would))

    def action_back(self) -> None:
        """Esc: while the disk and its guest are being read, stop the wait (the guest is then not read, and
        nothing is sent); else back to the list."""
        reading = self._read_cancel
        if reading is not None and not reading.cancelled and self.job is None:
            reading.cancel()
            self.query_one("#verdict", Static).update("Stopping the wait for the guest…")
            return
        self.app.pop_screen()

    @on(CheckFailed)
    def _check_failed(self, message: CheckFailed) -> None:
        self._read_cancel = None  # the read is over: Esc goes back again
        title, body = error_text(message.error)
        self.query_one("#verdict", Static).update(plain(f"✗ Could not check: {title}\n{body}"))
        self.plan = None  # never confirm a plan the latest reads could not back
        self.query_one("#go", Button).disabled = True
        self.ecs_app.show_error(message.error, "Could not check the disk")

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        if message.requested != self.options or message.read is not self._read_cancel:
            return  # the options changed since, or the operator read again: a newer plan is on its way
        self._read_cancel = None  # the read is over: Esc goes back again
        plan = message.plan
        pre = plan.preconditions
        if pre is None:
            return
        self.options = message.options
        self.preconditions = pre
        self.restart_matters = message.restart_matters
        self.instance_id = pre.instance_id or self.instance_id
        self.refresh_bindings()
        disk, instance = pre.disk, pre.instance
        title = f"{'Check' if self.check_only else 'Detach'} disk {pre.disk_id}"
        if disk is not None:
            title += f" ({disk.type} disk, {disk.size_gib} GiB {disk.category})"
        if instance is not None:
            title += f" from {instance.instance_id} {instance.name} ({status_text(instance.status)})"
        self.query_one("#wizard-title", Label).update(plain(title))
        self._show_banner(pre)
        table = Table(box=None, show_header=False, padding=(0, 1, 0, 0), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        # A code or an fstab line longer than the column is folded onto the next line, not cut.
        table.add_column(ratio=1, overflow="fold")
        for line in checklist(pre, important_first=True):
            sentence = Text(line.sentence)
            if line.code:
                sentence.append(f" ({line.code})", style="dim")
            if line.remedy:
                sentence.append(f"\n→ {line.remedy}", style="italic")
            table.add_row(f"{line.symbol} {line.word}", f"{line.number}.", sentence)
        self.query_one("#checklist", Static).update(table)
        # After a detach that went through, the fresh reads say "already detached": that is no failure. The
        # checklist's pane goes (no empty pane under its title), the plan's takes the width.
        done = self.job is not None and self.job.succeeded
        self.query_one("#wizard-checks").display = not done
        self.query_one("#wizard-columns").set_class(done, "-done")
        needs_stop = pre.needs_stop
        self.query_one("#fix-section").display = needs_stop and not self.check_only
        self.query_one("#guest-section").display = unmount_offered(pre) and not self.check_only
        restart = (needs_stop or self.restart_matters) and not pre.is_system_disk
        self.query_one("#restart-section").display = restart and not self.check_only
        earlier = self.query_one("#earlier-stop", Label)
        earlier.display = self.restart_matters and not needs_stop
        earlier.update(plain(f"Instance {pre.instance_id} was stopped by an earlier run"))
        dwi_matters = pre.is_system_disk and not (disk is not None and disk.is_multi_attach)
        self.query_one("#dwi-section").display = dwi_matters and not self.check_only
        offer = not self.check_only and pre.verdict in (Verdict.READY, Verdict.FIXABLE)
        self.query_one("#snapshot-section").display = offer
        # One line, so the steps stay in sight at 80x24; suggested for a system disk.
        label = SNAPSHOT_SUGGESTED if pre.is_system_disk else SNAPSHOT_LABEL
        show_snapshot_option(
            self.query_one("#snapshot", Checkbox),
            self.query_one("#snapshot-why", Static),
            snapshot_note(pre),
            label,
        )
        self._show_plan(plan, message.would)
        if message.stopped:
            self._show_stopped(pre)

    def _show_stopped(self, pre: Preconditions) -> None:
        """The operator stopped the wait for the guest: say it was not read, and offer no detach on it."""
        banner = self.query_one("#verdict", Static)
        banner.update(
            plain(
                f"? GUEST NOT READ — you stopped the wait for the guest of {pre.instance_id} (Esc); nothing "
                "was sent. r reads it again, Esc goes back."
            )
        )
        banner.set_classes("verdict fixable")
        self.query_one("#go", Button).disabled = True

    # --- options and plan

    @on(Checkbox.Changed)
    @on(RadioSet.Changed)
    def _options_changed(self) -> None:
        mode = STOPPED_MODES[max(0, self.query_one("#stopped-mode", RadioSet).pressed_index)]
        keep = self.query_one("#keep-disk", Checkbox).value
        pre = self.preconditions
        self._keep_disk = keep
        options = replace(
            self.options,
            allow_stop=self.query_one("#allow-stop", Checkbox).value,
            force_stop=self.query_one("#force-stop", Checkbox).value,
            stopped_mode=mode or None,
            restart=self.query_one("#restart", Checkbox).value,
            snapshot=self.query_one("#snapshot", Checkbox).value,
            unmount=self.query_one("#allow-unmount", Checkbox).value,
        )
        if pre is not None:
            options = effective_options(options, pre, keep_disk=keep)
        if options != self.options:
            self.options = options
            self.check()  # plan again, from fresh reads (the plan may start an instance, or stop one)

    def _show_plan(self, plan: Plan, would: Plan | None = None) -> None:
        """The plan for the options ticked; on a check, the plan d would run (`would`, when the plan waits
        for a say-so), read-only under its own title."""
        pre = plan.preconditions
        if pre is None:
            return
        self.plan = plan
        go = self.query_one("#go", Button)
        blocked = pre.verdict is Verdict.BLOCKED
        runnable = would if would is not None and would.executable else None
        shown = runnable or plan
        in_plan = bool(shown.steps) and not blocked
        if self.check_only:
            self.query_one("#plan-title", Label).update(plain(would_title(plan, runnable)))
        for section in ("#plan-title", "#plan", "#commands-title", "#commands"):
            self.query_one(section).display = in_plan
        no_plan = self.query_one("#no-plan", Static)
        no_plan.display = blocked or plan.nothing_to_do
        lines: list[str | Content] = []
        job = self.job
        if job is not None and job.succeeded:  # the fresh reads after it: no refusal, nothing left to do
            no_plan.display = True
            lines.append(
                marked(
                    "[b]Nothing to do.[/b] The detach went through: disk $disk is detached from $instance.",
                    disk=job.disk_id,
                    instance=job.instance_id,
                )
            )
        elif blocked:
            lines.append(
                marked(
                    "[b]Nothing to run.[/b] This detach would be refused, so no plan, fix or button is "
                    "offered. The row marked ✗ says why and what, if anything, can be done outside this tool."
                )
            )
        elif plan.nothing_to_do:
            lines.append(marked("[b]Nothing to do.[/b] The disk is attached to no instance."))
        elif not plan.executable and pre.needs_stop and not self.check_only:
            no_plan.display = True
            lines.append(
                marked(
                    "[b]The plan needs your say-so to stop the instance.[/b]\nPress [b]s[/b] (or tick "
                    "“Stop the instance” above) to add the stop to the plan; nothing is sent until you "
                    "confirm."
                )
            )
        elif not plan.executable and self.query_one("#guest-section").display and not self.check_only:
            no_plan.display = True
            lines.append(
                marked(
                    "[b]The plan needs your say-so to release the disk in the guest.[/b]\nTick “Unmount it "
                    "in the guest” above to add the unmount to the plan; nothing is sent until you confirm."
                )
            )
        elif not plan.executable and plan.refusal and not self.check_only:  # e.g. no snapshot possible now
            no_plan.display = True
            note = snapshot_note(pre) if plan.options.snapshot else ""
            why = plan.refusal_in(TUI_WORDS)
            if note:
                why = f"{note} Untick “Snapshot first” to detach without one."
            lines.append(marked("[b]Nothing to run.[/b] $why", why=why))
        elif self.check_only and would is not None and not would.executable and would.refusal:
            no_plan.display = True
            lines.append(marked("[b]Nothing d could run.[/b] $why", why=would.refusal_in(TUI_WORDS)))
        if plan.warnings and not in_plan:  # e.g. an instance an earlier run left Stopped: always shown
            no_plan.display = True
            lines.extend(f"⚠ {w}" for w in plan.warnings_in(TUI_WORDS))
        no_plan.update(text_lines(lines))
        if in_plan:
            body = plan_lines(shown)
            eta, timeout = duration(shown.eta_seconds), duration(shown.timeout)
            body.append(f"ETA about {eta} (each wait gives up after {timeout})")
            body.extend(f"⚠ {w}" for w in shown.warnings_in(TUI_WORDS))
            self.query_one("#plan", Static).update(plain("\n".join(body)))
            self.query_one("#commands", Static).update(plain("\n".join(shown.aliyun_commands)))
        if self.check_only or self.job is not None:
            go.disabled = True
            go.display = not (self.check_only or (job is not None and job.succeeded))  # nothing left to press
            return
        go.disabled = not plan.executable or plan.nothing_to_do
        go.display = not (blocked or plan.nothing_to_do)
        detaches = plan.has_step(StepKind.DETACH_DISK)
        starts = plan.has_step(StepKind.START_INSTANCE)
        if pre.verdict is Verdict.IN_PROGRESS:
            go.label = "Follow, then start…" if starts else "Follow it"
            go.disabled = False
        elif plan.has_step(StepKind.STOP_INSTANCE):
            go.label = "Stop and detach…"
        elif plan.has_step(StepKind.GUEST_UNMOUNT):
            go.label = "Unmount and detach…"
        elif starts and not detaches:
            go.label = "Start it again…"
        else:
            go.label = "Detach…"
        if not plan.executable and pre.verdict is Verdict.FIXABLE and pre.needs_stop:
            go.tooltip = "Tick “Stop the instance” to include the fix in the plan."

    # --- confirm and run

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "allow_stop":
            pre = self.preconditions
            return bool(pre and pre.needs_stop and not self.check_only and self.job is None)
        return True

    def action_allow_stop(self) -> None:
        box = self.query_one("#allow-stop", Checkbox)
        box.value = not box.value

    def action_recheck(self) -> None:
        if self.job is None:
            self.query_one("#verdict", Static).update(READING)
            self.check()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        pre, plan = self.preconditions, self.plan
        if pre is None or plan is None or self.job is not None or plan.options != self.options:
            return  # no plan yet, a job already, or the plan for the latest options is still being made
        if not self.ecs_app.writes_allowed("detach"):
            return
        if not plan.calls:  # only following a detach already under way: nothing is sent
            self._start(pre, plan)
            return
        typed = needs_typed_id(pre, plan)
        body_lines: list[str | Content] = [
            marked(
                "Profile [b]$profile[/b] · region [b]$region[/b]",
                profile=self.ecs_app.services.profile,
                region=pre.region_id,
            ),
            marked(
                "Disk [b]$disk[/b] ($kind) from instance [b]$instance[/b]",
                disk=pre.disk_id,
                kind=pre.disk.type if pre.disk else "?",
                instance=pre.instance_id,
            ),
            "",
            *plan_lines(plan),
        ]
        if plan.warnings:
            body_lines += ["", *[f"⚠ {w}" for w in plan.warnings_in(TUI_WORDS)]]
        title, label = "Detach this disk?", "Detach"
        if typed and typed == pre.instance_id:
            title, label = "Stop the instance and detach?", "Stop and detach"
        elif not plan.has_step(StepKind.DETACH_DISK):
            title, label = f"Start instance {pre.instance_id} again?", "Start it"
        self.app.push_screen(
            ConfirmScreen(plain(title), text_lines(body_lines), confirm_label=label, typed_id=typed),
            lambda ok: self._confirmed(bool(ok)),
        )

    def _confirmed(self, ok: bool) -> None:
        if not ok or self.preconditions is None or self.plan is None:
            self.query_one("#cancel", Button).focus()
            return
        self._start(self.preconditions, self.plan)

    def _show_banner(self, pre: Preconditions | None) -> None:
        """The verdict of the latest check; once a job runs, the job's state and then how it ended."""
        if self.job is not None:
            text, css = job_banner(self.job, self.ecs_app.services.clock())
        elif pre is not None:
            text, css = verdict_banner(pre)
        else:
            return
        banner = self.query_one("#verdict", Static)
        banner.update(plain(text))
        banner.set_classes(f"verdict {css}")

    def _start(self, pre: Preconditions, plan: Plan) -> None:
        self.query_one("#go", Button).disabled = True
        self.query_one("#cancel", Button).label = "Back"
        job = self.ecs_app.run_plan(plan)
        self.job = job
        self._show_banner(pre)
        self.query_one("#progress", Vertical).mount(JobCard(job, self.ecs_app.services.clock()))

    def refresh_jobs(self) -> None:
        if self.job is None:
            return
        self._show_banner(self.preconditions)
        for card in self.query(JobCard):
            card.update_job(self.job, self.ecs_app.services.clock())
        if not self.job.active and not self._rechecked:
            self._rechecked = True
            self.check()  # show where things stand now that the job is over
