"""A job's progress: title, state timeline, elapsed and ETA, a progress bar; words first, the bar is extra."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, Static

from ..jobs import Job
from ..text import marked, plain


class JobCard(Vertical):
    """One job; ``update_job`` is called with the job and the current (virtual) time."""

    def __init__(self, job: Job, now: float, *, hint: bool = True) -> None:
        super().__init__(id=f"job-{job.job_id}")
        self._hint = hint
        self._job = job
        self._now = now
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Label("", classes="job-title")
        yield Static("", classes="job-status")
        yield ProgressBar(total=100, show_eta=False, show_percentage=True)
        yield Static("", classes="job-timeline")

    def on_mount(self) -> None:
        self._ready = True
        self.update_job(self._job, self._now)

    def update_job(self, job: Job, now: float) -> None:
        self._job, self._now = job, now
        if not self._ready:  # not composed yet: on_mount shows the latest
            return
        self.border_title = f"job {job.job_id}"
        self.query_one(".job-title", Label).update(marked("[b]$title[/b]", title=job.title))
        lines = [job.status_line(now)]
        if job.active and self._hint:
            lines[0] += "   (it goes on if you leave this screen; o lists every job)"
        if job.message and not job.active:
            lines.append(job.message)
        if job.remedy and not job.succeeded:
            lines.append(f"→ {job.remedy}")
        if job.request_ids:
            lines.append(f"request id {', '.join(job.request_ids)}")
        self.query_one(".job-status", Static).update(plain("\n".join(lines)))
        bar = self.query_one(ProgressBar)
        bar.display = job.active or job.succeeded  # an end without success shows no "100 %"
        bar.update(progress=round(job.progress(now) * 100))
        self.query_one(".job-timeline", Static).update(plain("timeline: " + job.timeline_text()))
