"""Move a disk to another instance: both sides checked, one plan, one confirmation (`m` on a disk).

The plan comes from `workflow.prepare_move` in a thread worker (fresh reads of the disk, its instance and the
target, the journal), again on every option change; the job runs `workflow.run_move` (`app.run_move`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Label, Static

from ecs_detach.plan import StepKind

from ..formatting import error_text
from ..text import plain
from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.jobcard import JobCard
from ..widgets.toggles import TickBox
from .base import AppScreen
from .confirm import ConfirmScreen

if TYPE_CHECKING:
    from ecs_detach.workflow import MoveOptions, MovePlan


CHECK_SYMBOLS = {"pass": "✓", "fail": "✗", "fixable": "↻", "unknown": "?"}


class MovePlanned(Message):
    def __init__(self, options: MoveOptions, move: MovePlan) -> None:
        super().__init__()
        self.options, self.move = options, move


class MoveFailed(Message):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


def move_lines(move: MovePlan) -> list[str]:
    """The target checks, then the steps, as the screen and the confirmation show them (pure)."""
    lines = [f"{CHECK_SYMBOLS.get(c.status.value, '?')} {c.condition}: {c.sentence}" for c in move.checks]
    lines.append("")
    for number, step in enumerate(move.plan.steps, 1):
        eta = f" (~{step.eta_seconds:.0f} s)" if step.eta_seconds else ""
        lines.append(f"{number}. {step.description}{eta}")
    return lines


class MoveScreen(AppScreen[None]):
    """The move of one disk to the instance picked: checks of both sides, the plan, Move… to confirm."""

    def __init__(self, disk_id: str, target_id: str, *, source_id: str | None, region_id: str | None) -> None:
        super().__init__()
        from ecs_detach.workflow import MoveOptions

        self.disk_id, self.target_id, self.region_id = disk_id, target_id, region_id
        self.options = MoveOptions(target_instance_id=target_id, source_instance_id=source_id)
        self.move: MovePlan | None = None
        self.job: Any = None

    def compose(self) -> ComposeResult:
        yield IdentityBar(self.ecs_app.identity)
        yield Label(plain(f"Move disk {self.disk_id} to {self.target_id}"), classes="pane-title")
        yield Static(
            "Reading the disk, its instance and the target…", id="verdict", classes="verdict neutral"
        )
        yield Vertical(id="progress")
        with VerticalScroll(id="move-body"):
            yield TickBox("Snapshot the disk first (CreateSnapshot; billed)", id="move-snapshot")
            yield TickBox("Stop the source instance if the detach needs it", id="move-stop-source")
            yield TickBox("Stop the target instance if the attach needs it", id="move-stop-target")
            yield Label("Checks and plan", classes="section-title")
            yield Static("", id="move-plan")
        with Horizontal(classes="wizard-actions"):
            yield Button("Cancel", id="cancel", variant="primary")
            yield Button("Move…", id="go", variant="error", disabled=True)
            yield Label("tab moves between buttons and options · enter presses", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
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
        verdict = self.query_one("#verdict", Static)
        if self.job is None:
            if move.executable:
                verdict.update(
                    plain(f"✓ ready — {len(move.plan.calls)} call(s), ETA ~{move.plan.eta_seconds:.0f} s")
                )
                verdict.set_classes("verdict ready")
            else:
                verdict.update(plain(f"✗ blocked — {move.refusal}"))
                verdict.set_classes("verdict blocked")
        lines = [*move_lines(move), "", *[f"⚠ {w}" for w in move.plan.warnings]]
        self.query_one("#move-plan", Static).update(plain("\n".join(lines)))
        self.query_one("#go", Button).disabled = not move.executable or self.job is not None

    @on(Checkbox.Changed)
    def _options_changed(self) -> None:
        options = replace(
            self.options,
            snapshot=self.query_one("#move-snapshot", Checkbox).value,
            allow_stop_source=self.query_one("#move-stop-source", Checkbox).value,
            stop_target=self.query_one("#move-stop-target", Checkbox).value,
        )
        if options != self.options:
            self.options = options
            self.check()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        move = self.move
        if move is None or not move.executable or self.job is not None or move.options != self.options:
            return
        if not self.ecs_app.writes_allowed("move"):
            return
        pre = move.plan.preconditions
        risky = move.plan.has_step(StepKind.STOP_INSTANCE) or (pre is not None and pre.is_system_disk)
        body = "\n".join(
            [
                f"Disk {move.disk_id}: from {move.source_instance_id} to {move.target_instance_id}",
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
        self.job = self.ecs_app.run_move(self.move)
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
