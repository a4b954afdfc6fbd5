"""Jobs: every operation of this session, live. It keeps following while the operator browses elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Label

from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.jobcard import JobCard
from .base import AppScreen

if TYPE_CHECKING:
    pass


class OperationsScreen(AppScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "refresh_jobs", "Refresh now"),
    ]

    def compose(self) -> ComposeResult:
        yield IdentityBar(self.ecs_app.identity)
        yield Label("Jobs: operations of this session (they go on while you browse)", classes="pane-title")
        with VerticalScroll(id="jobs", classes="screen-body"):
            yield Label("No jobs yet: d on a disk starts a detach.", id="no-jobs")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.refresh_jobs()

    def refresh_jobs(self) -> None:
        container = self.query_one("#jobs", VerticalScroll)
        now = self.ecs_app.services.clock()
        jobs = self.ecs_app.jobs.jobs
        self.query_one("#no-jobs").display = not jobs
        for job in jobs:  # oldest first, each new card on top: newest first on screen
            cards = container.query(f"#job-{job.job_id}")
            if cards:
                card = cards.first(JobCard)
                card.update_job(job, now)
            else:
                card = JobCard(job, now, hint=False)
                container.mount(card, before=1 if len(container.children) > 1 else None)

    def action_refresh_jobs(self) -> None:
        self.refresh_jobs()
