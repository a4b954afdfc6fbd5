"""Jobs the operator started and is following: pure state, fed by the workflow's progress events.

A job is one ``workflow.run`` (a detach, a re-attach) running in a thread worker. Its progress events arrive
on the UI thread and are applied here; the job keeps a timeline of the states it went through, elapsed time,
ETA and the outcome. Nothing here does I/O or knows Textual."""

from __future__ import annotations

from dataclasses import dataclass, field

from .formatting import duration, eta_text

RUNNING = "running"
QUEUED = "confirmed"
GOOD_OUTCOMES = frozenset({"done", "already-detached"})

PHASE_WORDS = {
    "check": "checking",
    "wait-disk-in-use": "waiting for the disk",
    "wait-instance-settled": "waiting for the instance",
    "stop-instance": "stopping the instance",
    "wait-instance-stopped": "waiting for Stopped",
    "wait-detaches": "waiting for other detaches",
    "detach-disk": "DetachDisk sent",
    "wait-disk-detached": "waiting for the detach",
    "attach-disk": "AttachDisk sent",
    "create-snapshot": "CreateSnapshot sent",
    "wait-snapshot-accomplished": "waiting for the snapshot",
    "start-instance": "starting the instance",
    "wait-instance-running": "waiting for Running",
    "reconcile": "reconciling",
    "throttled": "throttled, backing off",
}

OUTCOME_SYMBOLS = {
    "done": "✓",
    "already-detached": "✓",
    "blocked": "✗",
    "aborted": "✗",
    "failed": "✗",
    "timed-out": "⌛",
    "cancelled": "–",
}


@dataclass
class Job:
    job_id: int
    kind: str
    """"detach", "reattach" or "move"."""
    disk_id: str
    instance_id: str
    started_at: float
    expected_seconds: float
    timeline: list[tuple[float, str]] = field(default_factory=list)
    outcome: str = RUNNING
    message: str = ""
    remedy: str = ""
    request_ids: list[str] = field(default_factory=list)
    finished_at: float | None = None
    batch: int = 0
    """Jobs started together by one bulk run share a batch number (0: a job of its own)."""

    @property
    def active(self) -> bool:
        return self.outcome == RUNNING

    @property
    def succeeded(self) -> bool:
        return self.outcome in GOOD_OUTCOMES

    @property
    def title(self) -> str:
        if self.kind == "reattach":
            return f"Re-attach {self.disk_id} to {self.instance_id}"
        if self.kind == "move":
            return f"Move {self.disk_id} to {self.instance_id}"
        return f"Detach {self.disk_id} from {self.instance_id}"

    @property
    def state(self) -> str:
        return self.timeline[-1][1] if self.timeline else "starting"

    def elapsed(self, now: float) -> float:
        end = self.finished_at if self.finished_at is not None else now
        return max(0.0, end - self.started_at)

    def apply(self, phase: str, state: str, message: str, now: float) -> bool:
        """Record one progress event; True when the visible state changed."""
        label = state or PHASE_WORDS.get(phase, phase)
        self.message = message or self.message
        if self.timeline and self.timeline[-1][1] == label:
            return False
        if (
            label.startswith("progressing ")
            and self.timeline
            and self.timeline[-1][1].startswith("progressing ")
        ):
            self.timeline[-1] = (self.timeline[-1][0], label)  # a snapshot's progress: one line, updated
            return True
        self.timeline.append((now, label))
        return True

    def finish(
        self, outcome: str, message: str, remedy: str, request_ids: tuple[str, ...], now: float
    ) -> None:
        self.outcome = outcome
        self.message = message
        self.remedy = TUI_REMEDIES.get(outcome, remedy)  # the workflow's own names CLI commands and flags
        self.request_ids = list(request_ids)
        self.finished_at = now
        word = "done" if outcome in GOOD_OUTCOMES else outcome
        if not self.timeline or self.timeline[-1][1] != word:
            self.timeline.append((now, word))

    @property
    def sent(self) -> bool:
        """Did the job send anything that the API answered (a request id)?"""
        return bool(self.request_ids)

    def progress(self, now: float) -> float:
        """0..1 against the expected duration: held below 1 until the job is really done, and 1 only then."""
        if not self.active and self.succeeded:
            return 1.0
        if self.expected_seconds <= 0:
            return 0.0
        return min(0.99, self.elapsed(now) / self.expected_seconds)

    def status_line(self, now: float) -> str:
        elapsed = self.elapsed(now)
        if self.active:
            return (
                f"◐ {self.state} · elapsed {duration(elapsed)} · {eta_text(elapsed, self.expected_seconds)}"
            )
        symbol = OUTCOME_SYMBOLS.get(self.outcome, "·")
        return f"{symbol} {self.outcome} after {duration(elapsed)}"

    def timeline_text(self) -> str:
        return "  →  ".join(f"{label} (+{duration(at - self.started_at)})" for at, label in self.timeline)


# What a wait that ended (timed out or cancelled) leaves the operator to do, in this screen's keys.
TUI_REMEDIES = {
    "timed-out": "Press c on the disk to read where it stands now, or d to plan it again.",
    "cancelled": "Press c on the disk to read where it stands now, or d to plan it again.",
}


def batch_summary(jobs: list[Job]) -> tuple[str, str, bool]:
    """(title, body, all succeeded) of a bulk run whose jobs have all ended: one notice, not one per disk."""
    done = [job for job in jobs if job.succeeded]
    others = [job for job in jobs if not job.succeeded]
    title = f"Bulk detach of {len(jobs)} disk(s): {len(done)} done" + (
        f", {len(others)} did not finish" if others else ""
    )
    lines = [f"{OUTCOME_SYMBOLS.get(job.outcome, '·')} {job.disk_id}: {job.outcome}" for job in others[:6]]
    if len(others) > 6:
        lines.append(f"… and {len(others) - 6} more")
    lines.append("o lists every job, with what each one says.")
    return title, "\n".join(lines), not others


def job_banner(job: Job, now: float) -> tuple[str, str]:
    """(text, css class) for a screen's banner while it follows `job`: running, then how it ended."""
    if job.active:
        return f"◐ RUNNING — {job.title}: {job.state} (job {job.job_id}; o lists every job)", "neutral"
    symbol = OUTCOME_SYMBOLS.get(job.outcome, "·")
    word = "DONE" if job.succeeded else job.outcome.upper()
    css = "ready" if job.succeeded else "fixable" if job.outcome in TUI_REMEDIES else "blocked"
    return f"{symbol} {word} — {job.message or job.title}", css


class JobBoard:
    """Every job of this session, oldest first."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []
        self._batches = 0

    def start(
        self,
        kind: str,
        disk_id: str,
        instance_id: str,
        *,
        now: float,
        expected_seconds: float,
        batch: int = 0,
    ) -> Job:
        job = Job(
            job_id=len(self._jobs) + 1,
            kind=kind,
            disk_id=disk_id,
            instance_id=instance_id,
            started_at=now,
            expected_seconds=expected_seconds,
            batch=batch,
        )
        job.timeline.append((now, QUEUED))
        self._jobs.append(job)
        return job

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    @property
    def active(self) -> list[Job]:
        return [job for job in self._jobs if job.active]

    @property
    def active_count(self) -> int:
        return sum(1 for job in self._jobs if job.active)

    def new_batch(self) -> int:
        """A number for the jobs of one bulk run."""
        self._batches += 1
        return self._batches

    def batch(self, number: int) -> list[Job]:
        return [job for job in self._jobs if number and job.batch == number]

    def get(self, job_id: int) -> Job | None:
        for job in self._jobs:
            if job.job_id == job_id:
                return job
        return None

    def active_for_disk(self, disk_id: str) -> Job | None:
        for job in reversed(self._jobs):
            if job.disk_id == disk_id and job.active:
                return job
        return None
