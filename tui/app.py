"""The Textual operator UI: ``ecs-detach`` (the user's account) or ``ecs-detach --demo`` (the built-in
emulator).

``main(argv)`` parses the options, opens a session through ``ecs_detach.session`` and runs
:class:`EcsDetachApp`. The app is given its :class:`~tui.services.Services` (client, clock, journal,
emulator), so tests build it the same way around the in-process emulator with a manual clock.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual._context import active_message_pump
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import WorkerFailed

from ecs_detach.models import Disk, Instance

from .formatting import error_text
from .jobs import Job, JobBoard
from .messages import JobFinished, JobProgress, RegionsLoaded
from .policy import write_refusal
from .screens.browse import BrowseScreen
from .services import Services
from .text import escape_markup, marked, plain
from .widgets.identity import Identity, IdentityBar
from .words import TUI_WORDS

if TYPE_CHECKING:
    from ecs_detach import workflow
    from ecs_detach.plan import Plan
    from ecs_detach.preconditions import DetachOptions

MAX_SURVIVED_ERRORS = 20
"""After this many unexpected errors in one session the app ends (exit code 1) rather than go on."""


def one_line(error: BaseException) -> str:
    """``"KeyError: 'x'"``: the error's type and its message's first line, never a traceback."""
    message = (str(error) or "").strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def _screen_of(node: object) -> Screen[Any] | None:
    """The screen a failing widget (or screen) belongs to."""
    if isinstance(node, Screen):
        return node
    if isinstance(node, DOMNode):
        for ancestor in node.ancestors_with_self:
            if isinstance(ancestor, Screen):
                return ancestor
    return None


# Planning and running detaches (workflow, plan, preconditions: ~20 ms to import) are imported by the methods
# that use them, at the first check or detach, not with the app.


class EcsDetachApp(App[int]):
    """Browse, check, detach, follow and undo, on one account and region at a time."""

    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "ecs-detach"
    # Typed by Textual's own declaration (a ClassVar annotation here is refused by mypy as an override).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012
    """Every screen gets these classes for the terminal's size: app.tcss lays out 80x24 with them."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("f1", "help", "Help", show=False, id="help-f1"),  # where other terminal tools put help
        Binding("j", "journal", "Journal", id="journal"),
        Binding("o", "operations", "Jobs", id="operations"),
        Binding("ctrl+w", "toggle_writes", "Writes on/off", id="toggle-writes"),
        Binding("P", "pick_profile", "Profile", show=False, id="profile"),
        Binding("q", "quit_app", "Quit", id="quit"),
    ]

    def __init__(
        self,
        services: Services,
        *,
        read_only: bool = False,
        auto_refresh: bool = True,
    ) -> None:
        super().__init__()
        self.services = services
        self.read_only = read_only or services.protected
        self.live_refresh = auto_refresh
        self.jobs = JobBoard()
        self.instances: list[Instance] = []
        self.disks: list[Disk] = []
        self._cancels: list[workflow.CancelToken] = []
        self.unexpected_errors: list[BaseException] = []
        self.exit_line = ""
        """Set when an unexpected error ends the app: the one line to print after it."""
        """Exceptions the app caught and survived (each shown to the operator)."""
        self._apply_read_only()

    # --- identity and read-only

    @property
    def identity(self) -> Identity:
        identity = self.services.identity(read_only=self.read_only)
        browse = self.browse
        if browse is not None and browse.all_regions:
            identity = replace(
                identity, region="ALL", region_note="actions use each disk's region; g picks one"
            )
        return identity

    def _apply_read_only(self) -> None:
        """The client refuses mutations itself while read-only (safety rule 2); keep its flag in step."""
        client = self.services.client
        if getattr(client, "read_only", self.read_only) == self.read_only:
            return
        with_read_only = getattr(client, "with_read_only", None)
        if callable(with_read_only):
            self.services = self.services.with_client(with_read_only(self.read_only))

    def show_identity(self) -> None:
        self._show_identity()

    def _show_identity(self) -> None:
        for bar in self.query(IdentityBar):
            bar.show(self.identity)
        for screen in self.screen_stack:
            for bar in screen.query(IdentityBar):
                bar.show(self.identity)

    def writes_allowed(self, what: str) -> bool:
        """False (and says why) while read-only: every mutating key goes through here."""
        reason = write_refusal(read_only=self.read_only, protected=self.services.protected)
        if reason is None:
            return True
        self.notify(reason, title=f"Cannot {what}", severity="warning")
        return False

    def action_toggle_writes(self) -> None:
        if not self.read_only:
            self.set_read_only(True)
            self.notify("Writes are off again: every mutating key is inert.", title="Read-only")
            return
        if self.services.protected:
            arm_name = self.services.arm_name or self.services.profile
            body = marked(
                "Profile [b]$profile[/b] is marked [b]protected[/b]: it starts read-only.\n"
                "Arming writes lets detach, stop and re-attach reach it (each still checked, planned and "
                "confirmed). ctrl+w disarms them again.",
                profile=self.services.profile,
            )
            from .screens.confirm import ConfirmScreen

            dialog = ConfirmScreen(
                "Arm writes on a PROTECTED profile?", body, confirm_label="Arm writes", typed_id=arm_name
            )
            self.push_screen(dialog, self._armed)
            return
        self.set_read_only(False)
        self.notify("Writes are armed: detach, stop and re-attach are possible (ctrl+w to disarm).")

    def _armed(self, ok: bool | None) -> None:
        if ok:
            self.set_read_only(False)
            self.notify(f"Writes armed on protected profile {self.services.profile}.", severity="warning")

    def set_read_only(self, value: bool) -> None:
        self.read_only = value
        self._apply_read_only()
        self._show_identity()
        self.refresh_bindings()

    # --- screens

    def get_default_screen(self) -> Screen[Any]:
        """The browse screen is the app's first screen (not pushed over an empty default one)."""
        return BrowseScreen()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        if self.services.journal is not None:
            # Settled right after the first frame (its notification says what it found), not before it.
            self.call_after_refresh(self._reconcile_journal)

    @work(thread=True, group="reconcile")
    def _reconcile_journal(self) -> None:
        """Safety rule 3: calls whose outcome was never recorded are settled by reading the live state."""
        journal = self.services.journal
        try:
            if not journal.pending():
                return
            settled = journal.reconcile(self.services.client)
        except Exception as error:
            self.call_from_thread(self.show_error, error, "Could not reconcile the journal")
            return
        if settled:
            lines = [f"{r.action} {r.disk_id or r.instance_id}: {r.result}" for r in settled]
            self.call_from_thread(
                self.notify,
                "\n".join(lines) + "\n(j shows the journal)",
                title=f"Reconciled {len(settled)} unfinished operation(s) from a previous session",
                severity="warning",
                timeout=15,
            )

    def _tick(self) -> None:
        """Once a second while a job runs: elapsed and ETA move on every screen that shows jobs."""
        if self.jobs.active_count:
            self._jobs_changed()

    @property
    def browse(self) -> BrowseScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, BrowseScreen):
                return screen
        return None

    def fleet_changed(self, instances: Sequence[Instance], disks: Sequence[Disk]) -> None:
        self.instances = list(instances)
        self.disks = list(disks)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_journal(self) -> None:
        from .screens.journal import JournalScreen

        self.push_screen(JournalScreen())

    def action_operations(self) -> None:
        from .screens.operations import OperationsScreen

        self.push_screen(OperationsScreen())

    def open_wizard(self, disk: Disk, instance_id: str | None, *, check_only: bool = False) -> None:
        from .screens.wizard import DetachWizard

        wizard = DetachWizard(disk.disk_id, instance_id, check_only=check_only, region_id=disk.region_id)
        self.push_screen(wizard)

    def open_bulk(self, disks: Sequence[Disk]) -> None:
        from .screens.bulk import BulkDetachScreen

        self.push_screen(
            BulkDetachScreen([d.disk_id for d in disks], {d.disk_id: d.region_id for d in disks})
        )

    def open_move(self, disk: Disk, source_id: str | None, instances: Sequence[Instance]) -> None:
        """`m`: pick the target among the region's instances (its own zone first), then the move plan."""
        from .screens.move import MoveScreen
        from .screens.pickers import PickerScreen, move_source, move_target_choices, move_title

        choices = move_target_choices(disk, source_id, instances)
        if not choices:
            self.notify("No other instance in this region to move it to.", title="Nothing to pick")
            return
        source = move_source(disk, source_id)

        def picked(target: str | None) -> None:
            if target:
                self.push_screen(MoveScreen(disk.disk_id, target, source_id=source, region_id=disk.region_id))

        self.push_screen(PickerScreen(move_title(disk, source_id), choices), picked)

    def prepare_move(self, disk_id: str, options: Any, region_id: str | None = None) -> Any:
        """Fresh reads of both sides and the move's plan, with the journal (call from a thread worker)."""
        from ecs_detach import workflow

        return workflow.prepare_move(
            self.client_for(region_id),
            disk_id,
            options,
            facts=self.facts_source(),
            journal=self.services.journal,
            guest_time=self.guest_time(),
        )

    def run_move(self, move: Any, *, password: str | None = None) -> Job:
        """Run a confirmed move in a thread worker, as a job. `password` goes to AttachDisk only (a move
        that boots the target from the disk)."""
        from ecs_detach import workflow

        job = self.jobs.start(
            "move",
            move.disk_id,
            move.target_instance_id,
            now=self.services.clock(),
            expected_seconds=move.plan.eta_seconds,
        )
        cancel = workflow.CancelToken()
        self._cancels.append(cancel)
        self._run_move_job(job.job_id, move, cancel, workflow.Secrets(password=password))
        self._jobs_changed()
        return job

    @work(thread=True, group="jobs")
    def _run_move_job(
        self, job_id: int, move: Any, cancel: workflow.CancelToken, secrets: workflow.Secrets
    ) -> None:
        from ecs_detach import workflow

        self._drive_job(
            job_id,
            lambda progress: workflow.run_move(
                self.client_for(move.plan.region_id),
                move,
                journal=self.services.journal,
                facts=self.facts_source(),
                on_progress=progress,
                cancel=cancel,
                clock=self.services.clock,
                sleep=self._sleeper(cancel),
                password=secrets.password,
            ),
        )

    def _drive_job(
        self,
        job_id: int,
        start: Callable[[Callable[[workflow.ProgressEvent], None]], workflow.RunResult],
    ) -> None:
        """Run one job's workflow call in this worker thread: its progress and its end become messages."""

        def progress(event: workflow.ProgressEvent) -> None:
            self.post_message(
                JobProgress(job_id, event.phase, event.state, event.message, self.services.clock())
            )

        try:
            result = start(progress)
        except Exception as error:  # the workflow reports EcsErrors itself; anything else still becomes words
            title, body = error_text(error)
            self.post_message(
                JobFinished(job_id, "failed", f"{title}: {body}", "", (), self.services.clock())
            )
            return
        self.post_message(
            JobFinished(
                job_id,
                result.outcome.value,
                result.message,
                result.remedy_in(TUI_WORDS),
                result.request_ids,
                self.services.clock(),
            )
        )

    def undo(self, disk_id: str | None) -> None:
        from .screens.undo import UndoScreen

        self.push_screen(UndoScreen(disk_id))

    # --- regions and profiles

    def action_pick_region(self) -> None:
        self._load_regions()

    @work(thread=True, exclusive=True, group="regions")
    def _load_regions(self) -> None:
        try:
            regions = self.services.client.describe_regions()
        except Exception as error:
            self.call_from_thread(self.show_error, error, "Could not list regions")
            return
        self.post_message(RegionsLoaded(regions))

    @on(RegionsLoaded)
    def _regions_loaded(self, message: RegionsLoaded) -> None:
        from .screens.pickers import PickerScreen

        browse = self.browse
        current = "*" if browse is not None and browse.all_regions else self.services.client.region_id
        options = [("*", "All regions (every region at once)")]
        options += [(r.region_id, f"{r.region_id}  {r.local_name}".rstrip()) for r in message.regions]
        self.push_screen(PickerScreen("Switch region", options, current=current), self._region_picked)

    def _region_picked(self, region_id: str | None) -> None:
        browse = self.browse
        if not region_id or browse is None:
            return
        if region_id == "*":
            browse.all_regions = True
        else:
            browse.all_regions = False
            if region_id != self.services.client.region_id:
                self.services = self.services.with_client(self.services.client.with_region(region_id))
                self._apply_read_only()
        self._show_identity()
        browse.action_refresh()

    def action_pick_profile(self) -> None:
        if self.services.reopen is None or not self.services.profiles:
            self.notify("No other profiles are configured (aliyun configure --profile NAME adds one).")
            return
        from .screens.pickers import PickerScreen

        options = [(name, name) for name in self.services.profiles]
        self.push_screen(
            PickerScreen("Switch profile", options, current=self.services.profile), self._profile_picked
        )

    def _profile_picked(self, profile: str | None) -> None:
        if not profile or profile == self.services.profile or self.services.reopen is None:
            return
        try:
            services = self.services.reopen(profile)
        except Exception as error:
            self.show_error(error, f"Could not open profile {profile}")
            return
        self.services = services
        self.read_only = self.read_only or services.protected
        self._apply_read_only()
        self._show_identity()
        if self.browse is not None:
            self.browse.load(stream=True)  # another account: nothing shown so far is its

    # --- errors

    def show_error(self, error: BaseException, context: str = "") -> None:
        title, body = error_text(error)
        self.notify(body, title=f"{context}: {title}" if context else title, severity="error", timeout=12)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast, always as plain text: what it says comes from the API, the journal or a plan (screens'
        and widgets' ``notify`` ask for markup by default; it is never wanted here)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _handle_exception(self, error: Exception) -> None:
        """An unexpected exception never ends the app with a traceback (Textual's own method ends it).

        Textual calls this for an exception in any handler, compose, timer or failed worker. A handler's
        exception has stopped its node's message loop, so the screen it belongs to is closed (a fresh browse
        screen replaces a broken one); the operator is told what happened, and the app, its jobs and their
        follow-up go on. Only when the app's own loop failed, or errors keep coming, does it end: exit code
        1 and one line, the details in the error log."""
        failure = error.error if isinstance(error, WorkerFailed) else error
        node = active_message_pump.get(None)
        if not self.is_running or node is self:
            self._stop_on(failure, error, self._record_unexpected(failure))
            return
        broken = None if isinstance(error, WorkerFailed) else _screen_of(node)
        self._survive(failure, broken, error)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Textual runs every key binding's action in the app's own loop, so a bug in a screen's action
        would end the app: it closes that screen instead, as a bug in the screen's own loop does."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:
            if not self.is_running:
                raise
            self._survive(error, _screen_of(default_namespace), error)
            return True

    def _record_unexpected(self, failure: BaseException) -> Path | None:
        self.unexpected_errors.append(failure)
        return self._save_error_details(failure)

    def _stop_on(self, failure: BaseException, error: Exception, saved: Path | None) -> None:
        """End the app on an error it cannot survive: exit code 1 and one line after the terminal is back."""
        line = f"ecs-detach stopped on an unexpected error: {one_line(failure)}"
        line += f" (details: {saved})" if saved else ""
        self.exit_line = line  # printed by tui.launch once the terminal is back (Rich would wrap it)
        self.exit(return_code=1)
        if self._exception is None:  # as Textual's own method: a test run raises it, a pilot wakes
            self._exception = failure if isinstance(failure, Exception) else error
            self._exception_event.set()
        self._close_messages_no_wait()  # the failed loop may be the app's: it ends now

    def _survive(self, failure: BaseException, broken: Screen[Any] | None, error: Exception) -> None:
        """Close ``broken`` (None: nothing to close) and say what happened; the app and its jobs go on."""
        saved = self._record_unexpected(failure)
        if len(self.unexpected_errors) > MAX_SURVIVED_ERRORS:
            self._stop_on(failure, error, saved)
            return
        if broken is not None:
            self.call_later(self._close_broken, broken)
        where = "This screen was closed; nothing more was sent. " if broken is not None else ""
        self.notify(
            f"{one_line(failure)}\n{where}The app and its jobs go on."
            + (f" Details: {saved}" if saved else "")
            + "\nIf it happens again, report it with the steps that led here.",
            title="Unexpected error",
            severity="error",
            timeout=20,
        )

    def _close_broken(self, broken: Screen[Any]) -> None:
        """Close a screen whose message loop stopped (and any screen over it); a broken browse screen is
        replaced by a fresh one."""
        stack = self.screen_stack
        if broken not in stack:
            return
        while len(self.screen_stack) > 1 and self.screen_stack[-1] is not broken:
            self.pop_screen()
        if isinstance(broken, BrowseScreen) or len(self.screen_stack) == 1:
            if not broken._result_callbacks:  # the first screen was never pushed, and Textual pops one
                broken._push_result_callback(broken, None)
            self.switch_screen(BrowseScreen())
        else:
            self.pop_screen()

    def _save_error_details(self, failure: BaseException) -> Path | None:
        """The traceback, appended to the error log (never on screen): for a report, not for the operator."""
        path = self.services.error_log
        if path is None:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log:
                log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
                log.write("".join(traceback.format_exception(failure)))
        except OSError:
            return None
        return path

    # --- workflow

    def facts_source(self) -> Any:
        """What the preconditions know about the platform, as the session gave it (`Services.facts`)."""
        return self.services.facts

    def client_for(self, region_id: str | None) -> Any:
        """The session's client, aimed at ``region_id`` (the all-regions view acts in each disk's region)."""
        client = self.services.client
        if not region_id or region_id == client.region_id:
            return client
        return client.with_region(region_id)

    def prepare_plan(
        self,
        disk_id: str,
        options: DetachOptions,
        region_id: str | None = None,
        *,
        cancel: workflow.CancelToken | None = None,
    ) -> Plan:
        """Fresh reads, every precondition and the plan, with the journal (call from a thread worker).

        The workflow's one way to plan, as the CLI's: a detach an earlier, killed run left under way is
        followed, and an instance it stopped is named (and started again if ``options.restart``).
        ``cancel`` stops the wait for the guest's probe (the guest is then reported not read)."""
        from ecs_detach import workflow

        return workflow.prepare(
            self.client_for(region_id),
            disk_id,
            options,
            facts=self.facts_source(),
            journal=self.services.journal,
            guest_time=self.guest_time(cancel),
        )

    def guest_time(self, cancel: workflow.CancelToken | None = None) -> workflow.GuestTime:
        """How a guest probe waits: on the emulator's own clock when the app's time is a test's (its sleep
        may hold jobs), else in real time (the demo's scaled clock runs by itself), waking at once when
        `cancel` is cancelled."""
        from ecs_detach import workflow

        services = self.services
        scale = services.time_scale or 1.0
        emulator = services.emulator
        token = cancel if cancel is not None else workflow.CancelToken()
        real: Callable[[float], object] = (
            emulator.advance
            if emulator is not None and services.sleep is not None
            else (lambda seconds: token.wait(seconds / scale))
        )
        return workflow.GuestTime(sleep=real, clock=services.clock, cancelled=lambda: token.cancelled)

    def run_plan(self, plan: Plan, *, password: str | None = None, key_pair_name: str | None = None) -> Job:
        """Run a confirmed plan in a thread worker; the job is followed wherever the operator goes."""
        from ecs_detach import workflow

        kind = "reattach" if plan.action == "reattach" else "detach"
        self._keep_listed(kind, [plan])
        job = self.jobs.start(
            kind, plan.disk_id, plan.instance_id, now=self.services.clock(), expected_seconds=plan.eta_seconds
        )
        cancel = workflow.CancelToken()
        self._cancels.append(cancel)
        # The secrets go to the worker masked: its description (repr of its arguments) is logged.
        self._run_job(job.job_id, plan, cancel, workflow.Secrets(password, key_pair_name))
        self._jobs_changed()
        return job

    def _keep_listed(self, kind: str, plans: Sequence[Plan]) -> None:
        """A disk being detached stays listed under its instance (the cursor and u stay on it)."""
        if kind == "detach" and self.browse is not None:
            for plan in plans:
                if plan.instance_id:
                    self.browse.note_detached(plan.disk_id, plan.instance_id)

    def _sleeper(self, cancel: workflow.CancelToken) -> Any:
        if self.services.sleep is not None:
            return self.services.sleep
        scale = max(self.services.time_scale, 1e-6)
        return lambda seconds: cancel.wait(seconds / scale)

    @work(thread=True, group="jobs")
    def _run_job(
        self,
        job_id: int,
        plan: Plan,
        cancel: workflow.CancelToken,
        secrets: workflow.Secrets,
    ) -> None:
        from ecs_detach import workflow

        self._drive_job(
            job_id,
            lambda progress: workflow.run(
                self.client_for(plan.region_id),
                plan,
                journal=self.services.journal,
                facts=self.facts_source(),
                on_progress=progress,
                cancel=cancel,
                clock=self.services.clock,
                sleep=self._sleeper(cancel),
                password=secrets.password,
                key_pair_name=secrets.key_pair_name,
            ),
        )

    def run_bulk(self, plans: Sequence[Plan]) -> list[Job]:
        """Run several confirmed detach plans together (workflow.run_bulk); one job each."""
        from ecs_detach import workflow

        now = self.services.clock()
        batch = self.jobs.new_batch()
        jobs = [
            self.jobs.start(
                "detach", p.disk_id, p.instance_id, now=now, expected_seconds=p.eta_seconds, batch=batch
            )
            for p in plans
        ]
        self._keep_listed("detach", plans)
        cancel = workflow.CancelToken()
        self._cancels.append(cancel)
        by_region: dict[str, list[Plan]] = {}
        for plan in plans:
            by_region.setdefault(plan.region_id, []).append(plan)
        ids = {job.disk_id: job.job_id for job in jobs}
        for region_plans in by_region.values():
            self._run_bulk_worker(region_plans, {p.disk_id: ids[p.disk_id] for p in region_plans}, cancel)
        self._jobs_changed()
        return jobs

    @work(thread=True, group="jobs")
    def _run_bulk_worker(
        self, plans: list[Plan], job_ids: dict[str, int], cancel: workflow.CancelToken
    ) -> None:
        from ecs_detach import workflow

        def progress(event: workflow.ProgressEvent) -> None:
            job_id = job_ids.get(event.disk_id)
            if job_id is not None:
                self.post_message(
                    JobProgress(job_id, event.phase, event.state, event.message, self.services.clock())
                )

        try:
            report = workflow.run_bulk(
                self.client_for(plans[0].region_id if plans else None),
                plans,
                journal=self.services.journal,
                facts=self.facts_source(),
                on_progress=progress,
                cancel=cancel,
                clock=self.services.clock,
                sleep=self._sleeper(cancel),
            )
        except Exception as error:
            title, body = error_text(error)
            for failed_id in job_ids.values():
                self.post_message(
                    JobFinished(failed_id, "failed", f"{title}: {body}", "", (), self.services.clock())
                )
            return
        for result in report.results:
            result_id = job_ids.get(result.disk_id)
            if result_id is not None:
                self.post_message(
                    JobFinished(
                        result_id,
                        result.outcome.value,
                        result.message,
                        result.remedy_in(TUI_WORDS),
                        result.request_ids,
                        self.services.clock(),
                    )
                )

    @on(JobProgress)
    def _job_progress(self, message: JobProgress) -> None:
        job = self.jobs.get(message.job_id)
        if job is None:
            return
        changed = job.apply(message.phase, message.state, message.message, message.at)
        self._jobs_changed()
        if changed and message.state and self.browse is not None:
            self.browse.refresh_moving((job.disk_id, job.instance_id))  # by id, not the whole region

    @on(JobFinished)
    def _job_finished(self, message: JobFinished) -> None:
        job = self.jobs.get(message.job_id)
        if job is None:
            return
        now = self.services.clock()
        job.finish(message.outcome, message.message, message.remedy, message.request_ids, message.at)
        if job.batch:
            self._notify_batch(job.batch)
        else:
            text = f"{job.title}: {job.status_line(now)}\n{job.message}"
            if job.remedy and not job.succeeded:
                text += f"\n→ {job.remedy}"
            self.notify(
                text,
                title="Job finished" if job.succeeded else "Job did not finish",
                severity="information" if job.succeeded else "error",
                timeout=10,
            )
        self._jobs_changed()
        if self.browse is not None:
            self.browse.refresh_moving((job.disk_id, job.instance_id))

    def _notify_batch(self, batch: int) -> None:
        """A bulk run says how it ended once, when its last job ends."""
        from .jobs import batch_summary

        jobs = self.jobs.batch(batch)
        if any(job.active for job in jobs):
            return
        title, body, ok = batch_summary(jobs)
        self.notify(body, title=title, severity="information" if ok else "error", timeout=15)

    def _jobs_changed(self) -> None:
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_jobs", None)
            if callable(refresh) and screen.is_mounted:
                # a screen being built or torn down shows the jobs when it is ready
                with contextlib.suppress(NoMatches):
                    refresh()

    def action_quit_app(self) -> None:
        """Quit; while jobs run, ask first (their operations go on in the cloud, only the following stops)."""
        from .screens.confirm import ConfirmScreen

        if isinstance(self.screen, ConfirmScreen):
            return
        active = self.jobs.active
        if not active:
            self.exit(0)
            return
        lines = [f"• {job.title}: {job.state}  (later: ecs-detach check {job.disk_id})" for job in active]
        lines += ["", "Quitting stops following them; the operations themselves go on in the cloud."]
        dialog = ConfirmScreen(
            f"Quit with {len(active)} job(s) still running?", plain("\n".join(lines)), confirm_label="Quit"
        )
        self.push_screen(dialog, lambda ok: self.exit(0) if ok else None)

    def on_unmount(self) -> None:
        for cancel in self._cancels:  # stop waiting (never the operations in the cloud)
            cancel.cancel()

    # --- command palette

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh", "Read instances and disks again", self._cmd_refresh)
        yield SystemCommand("Switch region", "Pick another region, or all regions", self.action_pick_region)
        yield SystemCommand("Switch profile", "Open another configured profile", self.action_pick_profile)
        yield SystemCommand(
            "Journal", "What was done, with request ids; re-attach from here", self.action_journal
        )
        yield SystemCommand("Jobs", "Operations in progress and finished", self.action_operations)
        yield SystemCommand("Arm / disarm writes", "Toggle read-only mode", self.action_toggle_writes)
        yield SystemCommand("Keys", "Every key, on every screen", self.action_help)
        for disk in self.disks[:2000]:
            on = ", ".join(disk.attached_instance_ids) or "attached nowhere"
            yield SystemCommand(  # the palette reads both as markup: API text is escaped
                escape_markup(f"Go to disk {disk.disk_id}"),
                escape_markup(f"{disk.name or '-'} · {disk.type} · {disk.status} · {on}"),
                lambda d=disk.disk_id: self._cmd_goto_disk(d),
            )

    def _cmd_refresh(self) -> None:
        if self.browse is not None:
            self.browse.action_refresh()

    async def _cmd_goto_disk(self, disk_id: str) -> None:
        if self.browse is not None:
            await self.browse.select_disk(disk_id)


# --- command line


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ecs-detach",
        description="Detach disks from Alibaba Cloud ECS instances safely (terminal UI).",
        epilog=(
            "Other faces: ecs-detach emulator | instances | disks | check | detach | attach | journal"
            " | snapshot-fleet (each with --help)"
        ),
    )
    parser.add_argument("--demo", action="store_true", help="run on the built-in emulator with a demo fleet")
    parser.add_argument("--profile", help="credentials profile (aliyun CLI config or credentials.ini)")
    parser.add_argument("--region", help="region id, e.g. cn-hangzhou")
    parser.add_argument("--endpoint", help="API endpoint URL (e.g. an emulator over HTTP)")
    parser.add_argument("--read-only", action="store_true", help="start with writes off (ctrl+w arms them)")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)  # bad usage: argparse prints a clear message and exits 2
    from .launch import run

    return run(args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
