"""What a run reports: its outcome, its steps, its progress events, and how it is cancelled."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ecs_detach._display import Displayable
from ecs_detach.models import Disk, Instance, Snapshot, SnapshotCreated
from ecs_detach.preconditions import Preconditions
from ecs_detach.wording import Worded, Words


class WorkflowClient(Protocol):
    """What the workflow needs from a client (`ecs_detach.client.EcsClient` fits)."""

    @property
    def region_id(self) -> str: ...

    def get_disk(self, disk_id: str) -> Disk: ...

    def get_instance(self, instance_id: str) -> Instance: ...

    def stop_instance(
        self, instance_id: str, *, force_stop: bool = False, stopped_mode: str | None = None
    ) -> str: ...

    def start_instance(self, instance_id: str) -> str: ...

    def detach_disk(
        self, disk_id: str, instance_id: str, *, delete_with_instance: bool | None = None
    ) -> str: ...

    def attach_disk(
        self,
        disk_id: str,
        instance_id: str,
        *,
        bootable: bool | None = None,
        password: str | None = None,
        key_pair_name: str | None = None,
        delete_with_instance: bool | None = None,
    ) -> str: ...

    def create_snapshot(
        self,
        disk_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        retention_days: int | None = None,
    ) -> SnapshotCreated: ...

    def list_snapshots(
        self,
        *,
        disk_id: str | None = None,
        snapshot_ids: Sequence[str] | None = None,
        status: str | None = None,
        name: str | None = None,
        region_id: str | None = None,
    ) -> list[Snapshot]: ...


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_DETACHED = "already-detached"  # nothing was needed
    BLOCKED = "blocked"  # a precondition refuses it; nothing was sent
    ABORTED = "aborted"  # the state changed for the worse during the run; stopped before the next mutation
    FAILED = "failed"  # the API refused a call, or the state could not be read
    TIMED_OUT = "timed-out"  # the wait ran out; what was sent goes on in the cloud
    CANCELLED = "cancelled"  # the wait was cancelled; what was sent goes on in the cloud

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 done, 1 failed, 3 blocked by a precondition, 4 timed out (or cancelled)."""
        return _EXIT_CODES[self]


_EXIT_CODES = {
    Outcome.DONE: 0,
    Outcome.ALREADY_DETACHED: 0,
    Outcome.BLOCKED: 3,
    Outcome.ABORTED: 3,
    Outcome.FAILED: 1,
    Outcome.TIMED_OUT: 4,
    Outcome.CANCELLED: 4,
}


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One report from a run: a step starting, a poll during a wait, or a note (reconciling, backing off)."""

    phase: str  # a StepKind value, or "check", "reconcile", "throttled"
    message: str
    disk_id: str
    instance_id: str
    state: str = ""  # the watched resource's status at this poll
    elapsed: float = 0.0  # seconds since this step began
    eta: float | None = None  # seconds left, as expected (None: longer than usual, or unknown)
    timeout: float = 0.0


class CancelToken:
    """Cancels waiting (never the operation in the cloud). Thread-safe; `cancel()` from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds` (real time), waking early if cancelled; True if cancelled."""
        return self._event.wait(max(0.0, seconds))


def pause(seconds: float, cancel: CancelToken, sleep: Callable[[float], object] | None) -> None:
    """Wait `seconds`: with the injected `sleep` when there is one (tests' manual clocks), else on `cancel`
    (real time, waking early when the wait is cancelled)."""
    if seconds <= 0:
        return
    if sleep is None:
        cancel.wait(seconds)
    else:
        sleep(seconds)


@dataclass(frozen=True, slots=True)
class StepResult:
    kind: str  # a StepKind value
    message: str
    action: str = ""  # the API action, for a mutation
    request_id: str = ""
    operation_id: str = ""  # the journal's
    code: str = ""


@dataclass(frozen=True, slots=True)
class RunResult(Displayable):
    outcome: Outcome
    message: str
    disk_id: str
    instance_id: str
    steps: tuple[StepResult, ...] = ()
    code: str = ""  # the API code behind a failure
    remedy: str = ""
    preconditions: Preconditions | None = field(default=None, compare=False)
    disk: Disk | None = field(default=None, compare=False)  # the last state read
    elapsed: float = 0.0
    stopped_instance: bool = False  # this run stopped the instance (and did not start it again)
    snapshot_id: str = ""  # the snapshot this run took first (`--snapshot`), accomplished
    remedy_worded: Worded | None = field(default=None, compare=False)  # `remedy` as data (names a choice)

    def remedy_in(self, words: Words) -> str:
        """What to do, with any choice it names worded as a face names it (the CLI's flag, the TUI's key)."""
        return self.remedy_worded.say(words) if self.remedy_worded is not None else self.remedy

    def _text(self) -> str:
        from ecs_detach.render import result_text

        return result_text(self)

    def _html(self) -> str:
        from ecs_detach.render import result_html

        return result_html(self)

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.DONE, Outcome.ALREADY_DETACHED)

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code

    @property
    def request_ids(self) -> tuple[str, ...]:
        return tuple(step.request_id for step in self.steps if step.request_id)

    @property
    def operation_ids(self) -> tuple[str, ...]:
        """The journal's operation ids of the calls this run made (or reconciled), in order."""
        return tuple(dict.fromkeys(step.operation_id for step in self.steps if step.operation_id))

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "message": self.message,
            "disk_id": self.disk_id,
            "instance_id": self.instance_id,
            "code": self.code,
            "remedy": self.remedy,
            "elapsed": round(self.elapsed, 3),
            "disk_status": self.disk.status if self.disk else None,
            "snapshot_id": self.snapshot_id or None,
            "steps": [
                {
                    "kind": s.kind,
                    "action": s.action,
                    "message": s.message,
                    "request_id": s.request_id,
                    "operation_id": s.operation_id,
                    "code": s.code,
                }
                for s in self.steps
            ],
        }
