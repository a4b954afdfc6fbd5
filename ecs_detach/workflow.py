"""The safe detach: inspect, plan, run, follow, undo, bulk — the API the CLI, the TUI and the notebooks call.

```python
from ecs_detach import workflow
from ecs_detach.preconditions import DetachOptions

plan = workflow.prepare(client, "d-123", DetachOptions(allow_stop=True))   # fresh reads + preconditions
print(plan.describe())                                                     # calls, changes, ETA, aliyun
if plan.executable and confirmed:
    result = workflow.run(client, plan, journal=Journal(), on_progress=print)
    result.outcome, result.message, result.exit_code
```

Safety, as `design.md` asks:

- every mutation is preceded by fresh reads and recomputed preconditions; if they changed for the worse
  (a lock, a detach behind our back, a stop the confirmed plan did not include) the run stops, saying why;
- every mutation is journaled (intent before, outcome after);
- a lost answer (`TransportError`) is reconciled by reading the resource before anything is retried: never a
  second blind DetachDisk; `InvalidDisk.AlreadyDetached` after our own call counts as done;
- waits poll with backoff, report progress (state, elapsed, ETA), time out (default 300 s), and can be
  cancelled (`CancelToken`) without cancelling the operation in the cloud.

Time is injectable: `clock()` gives seconds, `sleep(seconds)` waits. With the emulator's ManualClock, pass
``clock=emu.now, sleep=emu.advance`` and a one-minute detach takes no real time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from ecs_detach._display import Displayable
from ecs_detach.errors import (
    ApiError,
    EcsError,
    NotFoundError,
    ReadOnlyError,
    ServerError,
    ThrottledError,
    TransportError,
)
from ecs_detach.journal import Journal, JournalError, JournalRecord, Result, classify
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
from ecs_detach.plan import DEFAULT_TIMEOUT, AliyunTarget, Plan, StepKind, plan_detach, plan_reattach
from ecs_detach.preconditions import (
    DetachOptions,
    Durations,
    FixKind,
    PlatformFacts,
    Preconditions,
    Verdict,
    check_detach,
    facts_from_fleet,
    resolve_instance_id,
)

if TYPE_CHECKING:
    from ecs_detach.bulk import BulkItem, BulkReport, prepare_bulk, run_bulk

__all__ = [
    "BulkItem",
    "BulkReport",
    "CancelToken",
    "Outcome",
    "ProgressEvent",
    "RunResult",
    "StepResult",
    "WorkflowClient",
    "emulator_facts",
    "follow",
    "inspect",
    "prepare",
    "prepare_bulk",
    "prepare_reattach",
    "reattach",
    "run",
    "run_async",
    "run_bulk",
]


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


FactsSource = PlatformFacts | Callable[[], PlatformFacts] | None


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


def _pause(seconds: float, cancel: CancelToken, sleep: Callable[[float], object] | None) -> None:
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


# ---------------------------------------------------------------------------------------------------------
# Reading state
# ---------------------------------------------------------------------------------------------------------


class _EmulatorFacts:
    """PlatformFacts read from an in-process emulator's state each time they are called for, plus the knob
    the API hides that a bulk run paces by (`rate_limit`)."""

    def __init__(self, emulator: Any) -> None:
        self._emulator = emulator

    def __call__(self) -> PlatformFacts:
        return facts_from_fleet(self._emulator.state())

    def rate_limit(self, action: str) -> float | None:
        """Calls per second the emulator allows for `action` (None: no limit set)."""
        section = self._emulator.state().get("Emulator") or {}
        return rate_from_section(section, action)


def rate_from_section(section: Mapping[str, Any], action: str) -> float | None:
    """Calls per second for `action` from a fleet's `Emulator` section (its `RateLimits`), else None."""
    limits = section.get("RateLimits") if isinstance(section, Mapping) else None
    limit = limits.get(action) if isinstance(limits, Mapping) else None
    if not isinstance(limit, Mapping):
        return None
    count, per = limit.get("Count"), limit.get("PerSeconds")
    if not isinstance(count, int | float) or not isinstance(per, int | float) or count <= 0 or per <= 0:
        return None
    return float(count) / float(per)


def emulator_facts(emulator: Any) -> Callable[[], PlatformFacts]:
    """Demo mode: PlatformFacts read from the emulator's state each time they are needed (the callable also
    answers `rate_limit(action)`, which `run_bulk` paces DetachDisk by)."""
    return _EmulatorFacts(emulator)


def _facts(source: FactsSource) -> PlatformFacts | None:
    if source is None or isinstance(source, PlatformFacts):
        return source
    return source()


def _read_disk(client: WorkflowClient, disk_id: str) -> Disk | None:
    try:
        return client.get_disk(disk_id)
    except NotFoundError:
        return None


def _read_instance(client: WorkflowClient, instance_id: str) -> Instance | None:
    if not instance_id:
        return None
    try:
        return client.get_instance(instance_id)
    except NotFoundError:
        return None


def inspect(
    client: WorkflowClient, disk_id: str, options: DetachOptions | None = None, *, facts: FactsSource = None
) -> Preconditions:
    """Read the disk and its instance now, and check every precondition. Raises `EcsError` if reads fail."""
    opts = options or DetachOptions()
    disk = _read_disk(client, disk_id)
    instance = _read_instance(client, resolve_instance_id(disk, opts))
    return check_detach(
        disk, instance, opts, facts=_facts(facts), disk_id=disk_id, region_id=client.region_id
    )


def prepare(
    client: WorkflowClient,
    disk_id: str,
    options: DetachOptions | None = None,
    *,
    facts: FactsSource = None,
    timeout: float = DEFAULT_TIMEOUT,
    journal: Journal | None = None,
) -> Plan:
    """Fresh preconditions and the plan to detach `disk_id`: what to show before asking for confirmation.

    With the `journal`, an instance an earlier (perhaps killed) run stopped and did not start again is
    named in the plan's warnings, and started again afterwards if `restart` (a data disk).
    """
    opts = options or DetachOptions()
    known = _facts(facts)
    pre = inspect(client, disk_id, opts, facts=known)
    durations = known.durations if known is not None else None
    earlier = no_start = other = ""
    instance_id = pre.instance_id
    if journal is not None and not instance_id and pre.verdict is Verdict.ALREADY_DETACHED:
        instance_id = _instance_from_journal(journal, disk_id)  # the disk no longer names it
    if journal is not None and instance_id:
        stop, other = _earlier_stop(journal, disk_id, instance_id)
        if (stop is not None or other) and instance_id != pre.instance_id:
            pre = inspect(client, disk_id, replace(opts, instance_id=instance_id), facts=known)
        down = pre.instance is not None and pre.instance.status in _DOWN
        if stop is not None:
            earlier = f"at {stop.at}, operation {stop.operation_id[:8]}"
            if opts.restart and down and not pre.is_system_disk:
                no_start = _start_blocker(client, journal, instance_id)
        if not down:
            other = ""
    plan = plan_detach(
        pre,
        opts,
        durations=durations,
        timeout=timeout,
        stopped_earlier=earlier,
        no_start=no_start,
        target=aliyun_target(client),
    )
    if other:
        note = (
            f"Instance {instance_id} was stopped by an earlier ecs-detach run for another disk ({other}) and "
            "not started again; this plan does not start it (the run that detaches that disk can)."
        )
        plan = replace(plan, warnings=(*plan.warnings, note))
    return plan


_DOWN = (INSTANCE_STOPPED, INSTANCE_STOPPING)


def _instance_from_journal(journal: Journal, disk_id: str) -> str:
    """The instance our latest DetachDisk of `disk_id` that took effect targeted, else the instance our latest
    StopInstance for detaching it stopped ("" if the journal names none)."""
    found = journal.last_detach(disk_id)
    if found is not None:
        return found[0].instance_id
    for intent, outcome in reversed(journal.operations()):
        ours = intent.action == "StopInstance" and intent.context.get("reason") == f"detach {disk_id}"
        if ours and outcome is not None and outcome.succeeded:
            return intent.instance_id
    return ""


def _earlier_stop(journal: Journal, disk_id: str, instance_id: str) -> tuple[JournalRecord | None, str]:
    """The StopInstance an earlier run of ours made for detaching `disk_id`, that left `instance_id` Stopped
    (no StartInstance took effect since): (that stop, ""). A stop made for another disk's detach counts
    when this disk's DetachDisk from the instance followed it (one run, e.g. bulk); otherwise (None, what
    it was for). A stop recorded without its reason counts. (None, "") when the journal shows no such stop.
    """
    stop = journal.stopped_by_us(instance_id)
    if stop is None:
        return None, ""
    reason = str(stop.context.get("reason", "") or "")
    if not reason or reason == f"detach {disk_id}":
        return stop, ""
    after = False
    for intent, _ in journal.operations():
        same = intent.action == "DetachDisk" and (intent.disk_id, intent.instance_id) == (
            disk_id,
            instance_id,
        )
        if after and same:
            return stop, ""
        after = after or intent.operation_id == stop.operation_id
    return None, reason


def _start_blocker(client: WorkflowClient, journal: Journal | None, instance_id: str) -> str:
    """Why `instance_id` must not be started (its system disk is not attached), or "".

    The journal: a system disk we detached from it and did not attach back. The live state, when the
    client can list disks: no system disk In_use on the instance.
    """
    if journal is not None:
        detached: dict[str, bool] = {}
        for intent, outcome in journal.operations():
            if intent.instance_id != instance_id or outcome is None or not outcome.succeeded:
                continue
            if intent.action == "DetachDisk" and intent.context.get("disk_type") == "system":
                detached[intent.disk_id] = True
            elif intent.action == "AttachDisk":
                detached.pop(intent.disk_id, None)
        if detached:
            return (
                f"its system disk {', '.join(detached)} was detached by an ecs-detach run, and an instance "
                "without its system disk cannot start."
            )
    list_disks = getattr(client, "list_disks", None)
    if callable(list_disks):
        disks = list_disks(instance_id=instance_id, disk_type="system")
        if not any(isinstance(d, Disk) and d.status == DISK_IN_USE for d in disks):
            return f"instance {instance_id} has no system disk In_use, and it cannot start without one."
    return ""


# ---------------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------------


def _state_from(disk: Disk | None, instance_id: str) -> str:
    """A disk's status as seen from `instance_id` ("Detached" once no longer attached to it)."""
    if disk is None:
        return "NotFound"
    if instance_id not in disk.attached_instance_ids:
        return "Available" if disk.status == DISK_AVAILABLE else "Detached"
    return disk.status


class _Throttle:
    """Extra backoff on repeated Throttling (the client already retried), shared by a bulk run's workers."""

    def __init__(self, clock: Callable[[], float], base: float = 2.0, cap: float = 60.0) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._base, self._cap = base, cap
        self._consecutive = 0
        self._until = 0.0

    def hit(self) -> float:
        with self._lock:
            self._consecutive += 1
            delay = min(self._cap, self._base * 2.0 ** (self._consecutive - 1))
            self._until = max(self._until, self._clock() + delay)
            return delay

    def ok(self) -> None:
        with self._lock:
            self._consecutive = 0

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._until - self._clock())


class _BackOff(EcsError):
    """A mutation held back because a back-off for throttling is running (read again, then decide)."""

    kind = "Throttled"

    def __init__(self, action: str) -> None:
        super().__init__(f"{action} held back: backing off after throttling")


_THROTTLED = (ThrottledError, _BackOff)
# No answer, or the service failed (5xx): the call may or may not have taken effect; read before anything.
_UNSURE = (TransportError, ServerError)


class _Stop(Exception):
    """Ends a run early with its result."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.message)
        self.result = result


_MAX_THROTTLED = 6  # mutations refused by Throttling in one run (after the client's own retries)
_MAX_ROUNDS = 12 + _MAX_THROTTLED  # re-inspections in one run (waits, fixes, throttling): no ping-pong
_MAX_RACES = 3  # DetachDisk refused for a state our read did not show, before giving up
_MAX_RECONCILED_RETRIES = 2  # DetachDisk re-sent after a lost answer reconciled as "did not happen"


class _InBulk(Protocol):
    """What a run asks of the bulk run it is part of: `ecs_detach.bulk._Bulk` (the pacer, the batched reads,
    the poller, the slots). This module never imports `ecs_detach.bulk` at run time."""

    def fresh_read(self, runner: _Runner, instance_id: str) -> tuple[float, Disk | None, Instance | None]: ...

    def rate_limited(self, runner: _Runner | None, what: str) -> None: ...

    def detach_accepted(self, seconds: float) -> None: ...

    def detach_throttled(self) -> None: ...

    def wait_detached(self, runner: _Runner, timeout: float, expected: float) -> None: ...


class _Runner:
    def __init__(
        self,
        client: WorkflowClient,
        *,
        journal: Journal | None,
        facts: FactsSource,
        on_progress: Callable[[ProgressEvent], None] | None,
        cancel: CancelToken | None,
        clock: Callable[[], float] | None,
        sleep: Callable[[float], object] | None,
        timeout: float | None,
        throttle: _Throttle | None = None,
        bulk: _InBulk | None = None,
    ) -> None:
        self.client = client
        self.bulk = bulk
        self.slot: float | None = None  # bulk: this disk's DetachDisk slot (from the pacer)
        self.journal = journal
        self.facts_source = facts
        self.on_progress = on_progress
        self.cancel = cancel or CancelToken()
        self.clock = clock if clock is not None else time.monotonic
        self._sleep = sleep
        self.timeout = timeout
        self.throttle = throttle or _Throttle(self.clock)
        self.steps: list[StepResult] = []
        self.started = self.clock()
        self.disk_id = ""
        self.instance_id = ""
        self.last_pre: Preconditions | None = None
        self.last_disk: Disk | None = None
        self.stopped_instance = False
        self.earlier_stopped = False  # the plan starts an instance an earlier run stopped (not started yet)
        self.mutated = False
        self.throttled = 0

    # -- plumbing --------------------------------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        _pause(seconds, self.cancel, self._sleep)

    def emit(self, phase: str, message: str, **kw: Any) -> None:
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(phase, message, self.disk_id, self.instance_id, **kw))

    def result(self, outcome: Outcome, message: str, *, code: str = "", remedy: str = "") -> RunResult:
        return RunResult(
            outcome=outcome,
            message=message,
            disk_id=self.disk_id,
            instance_id=self.instance_id,
            steps=tuple(self.steps),
            code=code,
            remedy=remedy,
            preconditions=self.last_pre,
            disk=self.last_disk,
            elapsed=self.clock() - self.started,
            stopped_instance=self.stopped_instance,
        )

    def stop(self, outcome: Outcome, message: str, *, code: str = "", remedy: str = "") -> _Stop:
        note = _stopped_note(self)
        if note and note not in message:
            message += note  # an early end after our stop never hides that the instance is down
        return _Stop(self.result(outcome, message, code=code, remedy=remedy))

    def facts(self) -> PlatformFacts | None:
        return _facts(self.facts_source)

    def metadata(self) -> dict[str, str]:
        return {
            "profile": str(getattr(self.client, "profile_name", "") or ""),
            "region": str(getattr(self.client, "region_id", "") or ""),
            "endpoint": str(getattr(self.client, "endpoint", "") or ""),
        }

    def read_failed(self, what: str, exc: EcsError) -> _Stop:
        code = exc.code if isinstance(exc, ApiError) else str(getattr(exc, "kind", ""))
        return self.stop(Outcome.FAILED, f"Could not read {what}: {exc}", code=code, remedy=exc.remedy)

    def back_off(self) -> None:
        """Wait out a running back-off for throttling (before a read that precedes a mutation)."""
        wait = self.throttle.remaining()
        if wait > 0:
            self.emit("throttled", f"Backing off {wait:.1f} s (throttled)")
            self.sleep(wait)

    def inspect(self, options: DetachOptions) -> Preconditions:
        self.back_off()
        self.emit("check", f"Checking disk {self.disk_id} and instance {self.instance_id or '?'}")
        try:
            if self.bulk is not None and options.instance_id:
                # Bulk: take a DetachDisk slot first, read (batched with other disks') just before it.
                self.slot, disk, instance = self.bulk.fresh_read(self, options.instance_id)
                pre = check_detach(
                    disk,
                    instance,
                    options,
                    facts=self.facts(),
                    disk_id=self.disk_id,
                    region_id=self.client.region_id,
                )
            else:
                pre = inspect(self.client, self.disk_id, options, facts=self.facts())
        except EcsError as exc:
            raise self.read_failed(f"disk {self.disk_id}", exc) from None
        self.last_pre = pre
        self.last_disk = pre.disk
        return pre

    # -- journaled mutations ---------------------------------------------------------------------------------

    def mutate(
        self,
        kind: StepKind,
        action: str,
        call: Callable[[], str],
        *,
        params: Mapping[str, str],
        context: Mapping[str, Any] | None = None,
        describe: str,
    ) -> tuple[str, JournalRecord | None, BaseException | None]:
        """Send one mutation, journaled. Returns (request id, intent, the error if any).

        A Throttling refusal (after the client's own retries) or a back-off still running comes back as the
        error (`ThrottledError`, `_BackOff`): the caller reads the state again (the wait happens before that
        read) and decides afresh; nothing is ever re-sent without a fresh read.
        """
        self.emit(kind.value, describe)
        if getattr(self.client, "read_only", False):
            return "", None, ReadOnlyError(action)  # refused before anything is journaled or sent
        if self.bulk is None and self.throttle.remaining() > 0:
            return "", None, _BackOff(action)  # another worker was throttled: back off, then read again
        paced = self.bulk is not None and action == "DetachDisk"
        if self.bulk is not None and action == "DetachDisk" and self.slot is not None:
            self.sleep(self.slot - self.clock())  # the pacer's slot: DetachDisk at the allowed rate
        intent = None
        if self.journal is not None:
            try:
                intent = self.journal.intent(
                    action,
                    disk_id=params.get("DiskId", ""),
                    instance_id=params.get("InstanceId", ""),
                    params=params,
                    context=context,
                    **self.metadata(),
                )
            except JournalError as exc:
                raise self.stop(
                    Outcome.FAILED,
                    f"{action} was not sent: its intent could not be journaled first. {exc}",
                    code="JournalError",
                    remedy=exc.remedy,
                ) from None
        sent = self.clock()
        try:
            request_id = call()
        except ThrottledError as exc:
            self.record_failure(intent, Result.ERROR, exc)
            self.throttled += 1
            if self.bulk is not None:
                # Bulk: said once per run; DetachDisk slows the shared pace, other calls wait on their own.
                self.bulk.rate_limited(self, action)
                if paced:
                    self.bulk.detach_throttled()
                else:
                    self.sleep(min(30.0, 2.0**self.throttled))
            else:
                delay = self.throttle.hit()
                self.emit("throttled", f"{action} was throttled; checking again in {delay:.1f} s")
            if self.throttled >= _MAX_THROTTLED:
                raise self.stop(
                    Outcome.FAILED,
                    f"{action} was throttled {self.throttled} times; nothing was applied. Try again later.",
                    code=exc.code,
                    remedy=exc.remedy,
                ) from None
            return "", intent, exc
        except TransportError as exc:
            self.record_failure(intent, Result.UNKNOWN, exc)
            self.mutated = True  # perhaps
            return "", intent, exc
        except ServerError as exc:  # the service failed: whether it acted first is unknown
            self.record_failure(intent, Result.UNKNOWN, exc)
            self.mutated = True  # perhaps
            return "", intent, exc
        except ApiError as exc:
            self.record_failure(intent, Result.ERROR, exc)
            return "", intent, exc
        except EcsError as exc:  # credentials and the like: nothing was sent
            self.record_failure(intent, Result.ERROR, exc)
            return "", intent, exc
        self.throttle.ok()
        if paced and self.bulk is not None:
            self.bulk.detach_accepted(self.clock() - sent)
        self.mutated = True
        if self.journal is not None and intent is not None:
            journal = self.journal
            self.record(lambda: journal.outcome(intent, Result.OK, request_id=request_id), action, request_id)
        self.steps.append(
            StepResult(
                kind.value,
                describe,
                action=action,
                request_id=request_id,
                operation_id=intent.operation_id if intent else "",
            )
        )
        return request_id, intent, None

    def record_failure(self, intent: JournalRecord | None, result: str, exc: EcsError) -> None:
        """Journal the outcome of a mutating call that raised (with the request id when the API answered)."""
        journal = self.journal
        if journal is None or intent is None:
            return
        if isinstance(exc, ApiError):
            code, message, request_id = exc.code, exc.api_message, exc.request_id
        elif isinstance(exc, TransportError):
            code, message, request_id = "TransportError", str(exc), ""
        else:
            code, message, request_id = str(getattr(exc, "kind", "")), str(exc), ""
        self.record(
            lambda: journal.outcome(intent, result, code=code, message=message, request_id=request_id),
            intent.action,
            request_id,
        )

    def record(self, write: Callable[[], object], action: str, request_id: str = "") -> None:
        """Journal an outcome. One that cannot be written ends the run, loudly: the call itself went out."""
        try:
            write()
        except JournalError as exc:
            sent = f" (request id {request_id})" if request_id else ""
            raise self.stop(
                Outcome.FAILED,
                f"{action} was sent{sent}, but its outcome could not be journaled, so nothing more is sent. "
                f"{exc} Once the journal is writable, run `ecs-detach journal --reconcile` (the TUI "
                "reconciles it when it starts) to record what became of it.",
                code="JournalError",
                remedy=exc.remedy,
            ) from None

    def reconcile(self, intent: JournalRecord | None, action: str, disk_id: str, instance_id: str) -> str:
        """After a lost answer or a server failure: read the resource (patiently); did the call go through?"""
        record = intent or JournalRecord("intent", "", action, "", disk_id=disk_id, instance_id=instance_id)
        self.emit(
            "reconcile", f"The outcome of {action} is unknown; reading the live state before anything else"
        )
        delay = 1.0
        deadline = self.clock() + (self.timeout or DEFAULT_TIMEOUT)
        while True:
            try:
                disk = _read_disk(self.client, disk_id) if disk_id else None
                instance = (
                    _read_instance(self.client, instance_id)
                    if action in ("StopInstance", "StartInstance")
                    else None
                )
                break
            except EcsError as exc:
                if self.clock() >= deadline or self.cancel.cancelled:
                    raise self.stop(
                        Outcome.FAILED,
                        f"The outcome of {action} is unknown and the state cannot be read ({exc}); "
                        "whether it went through is unknown. Nothing more was sent.",
                        code="TransportError",
                        remedy="Run `ecs-detach journal` later: pending calls are reconciled on start.",
                    ) from None
                self.sleep(delay)
                delay = min(delay * 2, 10.0)
        if disk is not None:
            self.last_disk = disk
        result, sentence = classify(record, disk, instance)
        if self.journal is not None and intent is not None:
            journal = self.journal
            self.record(lambda: journal.outcome(intent, result, message=sentence, reconciled=True), action)
        self.steps.append(
            StepResult(
                "reconcile",
                sentence,
                action=action,
                operation_id=intent.operation_id if intent else "",
                code=result,
            )
        )
        self.emit("reconcile", sentence)
        return result

    # -- waiting ---------------------------------------------------------------------------------------------

    def emit_waiting(
        self,
        kind: StepKind,
        what: str,
        target: str,
        state: str,
        elapsed: float,
        expected: float,
        timeout: float,
    ) -> None:
        eta = expected - elapsed if elapsed < expected else None
        note = f"ETA ~{eta:.0f} s" if eta is not None else "taking longer than usual"
        self.emit(
            kind.value,
            f"Waiting for {what} to be {target}: {state or '?'} after {elapsed:.0f} s ({note})",
            state=state,
            elapsed=elapsed,
            eta=eta,
            timeout=timeout,
        )

    def check_wait_limits(self, what: str, target: str, state: str, elapsed: float, timeout: float) -> None:
        """Raise _Stop when the wait was cancelled or timed out. What goes on in the cloud is only what was
        sent: a wait before any mutation (for a state to settle) ends with nothing sent."""
        seen = f"it was {state}" if state else "its state could not be read"
        if self.mutated:
            after = "The operation goes on in the cloud."
        else:
            after = f"Nothing was sent: the plan waits for {what} to be {target} before it acts."
        if self.cancel.cancelled:
            raise self.stop(
                Outcome.CANCELLED,
                f"Stopped waiting for {what} to be {target} after {elapsed:.0f} s ({seen}). {after}",
                remedy=f"Check it later: ecs-detach check {self.disk_id}",
            )
        if elapsed >= timeout:
            still = f"is still {state}" if state else f"could not be read as {target}"
            raise self.stop(
                Outcome.TIMED_OUT,
                f"{what} {still} after {elapsed:.0f} s (timeout {timeout:.0f} s). {after}",
                remedy=f"Check it later (ecs-detach check {self.disk_id}) or wait longer (--timeout).",
            )

    def wait(
        self,
        kind: StepKind,
        what: str,
        read: Callable[[], str],
        done: Callable[[str], bool],
        *,
        expected: float,
        timeout: float,
        target: str,
    ) -> str:
        """Poll `read()` with backoff until `done(state)`; raise _Stop on timeout or cancel."""
        start = self.clock()
        interval = 2.0
        state = ""
        while True:
            try:
                state = read()
            except ThrottledError:
                if self.bulk is not None:
                    self.bulk.rate_limited(self, f"Reading {what}")
                    interval = max(interval, 2.0)
                else:
                    self.emit("throttled", f"Reading {what} was throttled; backing off")
                    interval = max(interval, self.throttle.hit())
            except EcsError as exc:
                self.emit(kind.value, f"Could not read {what} ({exc}); still waiting", state=state)
            elapsed = self.clock() - start
            if done(state):
                self.emit(
                    kind.value, f"{what} is {target}", state=state, elapsed=elapsed, eta=0.0, timeout=timeout
                )
                return state
            self.emit_waiting(kind, what, target, state, elapsed, expected, timeout)
            self.check_wait_limits(what, target, state, elapsed, timeout)
            self.sleep(min(interval, max(0.0, timeout - elapsed)))
            interval = min(interval * 1.5, 10.0)

    def disk_state(self, disk_id: str, instance_id: str) -> Callable[[], str]:
        """A reader of the disk's status as seen from `instance_id` ("Detached" once no longer attached)."""

        def read() -> str:
            disk = _read_disk(self.client, disk_id)
            self.last_disk = disk
            return _state_from(disk, instance_id)

        return read

    def instance_state(self, instance_id: str) -> Callable[[], str]:
        def read() -> str:
            instance = _read_instance(self.client, instance_id)
            return instance.status if instance is not None else "NotFound"

        return read

    def wait_detached(self, timeout: float, expected: float) -> None:
        if self.bulk is not None:
            self.bulk.wait_detached(self, timeout, expected)
        else:
            self.wait(
                StepKind.WAIT_DISK_DETACHED,
                f"disk {self.disk_id}",
                self.disk_state(self.disk_id, self.instance_id),
                lambda s: s in _DETACHED_STATES,
                expected=expected,
                timeout=timeout,
                target=f"detached from {self.instance_id}",
            )
        self.steps.append(
            StepResult(
                StepKind.WAIT_DISK_DETACHED.value, f"Disk {self.disk_id} is detached from {self.instance_id}"
            )
        )

    def wait_instance(self, target: str, kind: StepKind, timeout: float, expected: float) -> str:
        if target == "settled":
            done: Callable[[str], bool] = lambda s: s not in INSTANCE_TRANSITIONAL  # noqa: E731
        else:
            done = lambda s: s == target or s == "NotFound"  # noqa: E731
        state = self.wait(
            kind,
            f"instance {self.instance_id}",
            self.instance_state(self.instance_id),
            done,
            expected=expected,
            timeout=timeout,
            target=target,
        )
        self.steps.append(StepResult(kind.value, f"Instance {self.instance_id} is {state}"))
        return state


_DETACHED_STATES = ("Available", "Detached", "NotFound")


def _durations(runner: _Runner) -> Durations:
    facts = runner.facts()
    return facts.durations if facts is not None else Durations()


def run(
    client: WorkflowClient,
    plan: Plan,
    *,
    journal: Journal | None = None,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float | None = None,
    password: str | None = None,
    key_pair_name: str | None = None,
) -> RunResult:
    """Execute a confirmed plan (a detach, or a re-attach from `prepare_reattach`). Never raises `EcsError`.

    `timeout` (default: the plan's, 300 s) bounds each wait. `password` / `key_pair_name` are for re-attaching
    a system disk only; they go to the API and nowhere else.
    """
    runner = _Runner(
        client,
        journal=journal,
        facts=facts,
        on_progress=on_progress,
        cancel=cancel,
        clock=clock,
        sleep=sleep,
        timeout=timeout if timeout is not None else plan.timeout,
    )
    runner.disk_id, runner.instance_id = plan.disk_id, plan.instance_id
    try:
        if plan.action == "reattach":
            return _run_reattach(runner, plan, password=password, key_pair_name=key_pair_name)
        return _run_detach(runner, plan, allow_restart=True)
    except _Stop as stop:
        return stop.result


def _run_detach(runner: _Runner, plan: Plan, *, allow_restart: bool) -> RunResult:
    if plan.nothing_to_do:
        return runner.result(
            Outcome.ALREADY_DETACHED, f"Disk {plan.disk_id} is already detached: nothing to do."
        )
    if not plan.executable:
        return runner.result(Outcome.BLOCKED, plan.refusal)
    timeout = runner.timeout or plan.timeout
    dur = _durations(runner)
    options = replace(plan.options, instance_id=plan.instance_id or plan.options.instance_id)
    may_stop = plan.has_step(StepKind.STOP_INSTANCE)
    restart = allow_restart and plan.has_step(StepKind.START_INSTANCE)
    # A start without a stop: the plan starts an instance an earlier run of ours stopped and left Stopped.
    earlier_start = restart and not may_stop
    runner.earlier_stopped = earlier_start
    tries = _DetachTries()
    while True:
        tries.rounds += 1
        if tries.rounds > _MAX_ROUNDS:
            raise runner.stop(
                Outcome.FAILED,
                f"Disk {plan.disk_id}: the state kept changing; gave up after {_MAX_ROUNDS} checks.",
            )
        pre = runner.inspect(options)
        verdict = pre.verdict
        if verdict is Verdict.ALREADY_DETACHED or (tries.detach_sent and _detached(pre)):
            if tries.detach_sent:
                break
            if runner.mutated:
                raise runner.stop(
                    Outcome.ABORTED,
                    f"Disk {plan.disk_id} was detached behind our back (by someone else) "
                    "before our DetachDisk; "
                    "nothing more was done.",
                )
            if earlier_start:
                break  # only the start the plan showed is left
            return runner.result(Outcome.ALREADY_DETACHED, pre.summary)
        if verdict is Verdict.IN_PROGRESS:
            runner.emit(
                "check", f"Disk {plan.disk_id} is already detaching from {plan.instance_id}; following it"
            )
            runner.wait_detached(timeout, dur.detach)
            break
        if verdict is Verdict.BLOCKED:
            if tries.detach_sent and pre.row(8).failing:
                break  # the attachment is gone: our detach finished
            outcome = Outcome.ABORTED if runner.mutated else Outcome.BLOCKED
            lead = "The state changed for the worse: " if runner.mutated else ""
            raise runner.stop(outcome, lead + pre.reason, code=pre.predicted_code or "")
        if verdict is Verdict.FIXABLE:
            _apply_fix(runner, pre, options, may_stop=may_stop, timeout=timeout)
            continue
        # READY: detach.
        if may_stop and not runner.stopped_instance and _running(pre):
            # The confirmed plan stops the instance first: follow it, even if this run's facts (or none)
            # say a stop is not needed; a detach the plan did not show would be refused.
            runner.emit(
                "check",
                f"The confirmed plan stops instance {plan.instance_id} before the detach; stopping it",
            )
            _stop_instance(runner, options, timeout, dur.stop)
            continue
        if tries.resends > _MAX_RECONCILED_RETRIES:
            raise runner.stop(
                Outcome.FAILED,
                f"DetachDisk for {plan.disk_id} got no clear answer {tries.resends} times, and each time it "
                "had not taken effect; stopping.",
                code="TransportError",
                remedy="Check the network or the endpoint, then try again.",
            )
        if _send_detach(runner, plan, options, pre, tries, timeout, dur):
            break
    return _finish_detach(
        runner, plan, restart=restart, earlier_start=earlier_start, timeout=timeout, dur=dur
    )


@dataclass
class _DetachTries:
    """What one detach run has counted so far (bounds against ping-pong and blind re-sends)."""

    detach_sent: bool = False
    resends: int = 0  # DetachDisk re-sent after a lost answer reconciled as "did not happen"
    races: int = 0  # DetachDisk refused for a state our read did not show
    limit_since: float | None = None  # when DisksDetachingOnEcsExceeded was first answered
    rounds: int = 0  # re-inspections


def _send_detach(
    runner: _Runner,
    plan: Plan,
    options: DetachOptions,
    pre: Preconditions,
    tries: _DetachTries,
    timeout: float,
    dur: Durations,
) -> bool:
    """Send DetachDisk for a READY disk and act on the answer: True when the detach is done (or finished
    behind our back), False to read again and decide afresh. Raises `_Stop` when the run ends here."""
    disk = pre.disk
    params = {"InstanceId": plan.instance_id, "DiskId": plan.disk_id}
    if options.delete_with_instance is not None:
        params["DeleteWithInstance"] = "true" if options.delete_with_instance else "false"
    context = {
        "disk_type": disk.type if disk else "",
        "device": disk.device_on(plan.instance_id) if disk else "",
        "multi_attach": bool(disk and disk.is_multi_attach),
        "delete_with_instance_before": bool(disk and disk.delete_with_instance),
        "instance_status": pre.instance.status if pre.instance else "",
    }
    _, intent, error = runner.mutate(
        StepKind.DETACH_DISK,
        "DetachDisk",
        lambda: runner.client.detach_disk(
            plan.disk_id, plan.instance_id, delete_with_instance=options.delete_with_instance
        ),
        params=params,
        context=context,
        describe=f"Detaching disk {plan.disk_id} from instance {plan.instance_id}",
    )
    if isinstance(error, _THROTTLED):
        return False  # not applied: read again (after the back-off) and decide afresh
    tries.detach_sent = True
    if error is None:
        runner.wait_detached(timeout, dur.detach)
        return True
    if isinstance(error, _UNSURE):
        result = runner.reconcile(intent, "DetachDisk", plan.disk_id, plan.instance_id)
        if result in (Result.WENT_THROUGH, Result.IN_PROGRESS):
            runner.wait_detached(timeout, dur.detach)
            return True
        if result == Result.DID_NOT_HAPPEN:
            tries.resends += 1
            return False  # not blind: the fresh read says it did not happen; check everything again
        raise runner.stop(
            Outcome.FAILED,
            "The outcome of DetachDisk is unknown and the disk's state does not tell whether it went "
            "through "
            f"({runner.steps[-1].message}). Nothing more was sent.",
            code="TransportError",
        )
    if isinstance(error, ApiError):
        if error.code == "InvalidDisk.AlreadyDetached":
            runner.steps.append(StepResult("detach-disk", f"Disk {plan.disk_id} is already detached."))
            return True
        if error.code == "InvalidOperation.DiskDetachingFromThisEcs":
            runner.wait_detached(timeout, dur.detach)
            return True
        if error.code == "DisksDetachingOnEcsExceeded":
            # A limit the API does not publish: wait (bounded by the timeout) for other detaches to end.
            now = runner.clock()
            tries.limit_since = now if tries.limit_since is None else tries.limit_since
            if now - tries.limit_since >= timeout:
                raise runner.stop(
                    Outcome.TIMED_OUT,
                    f"Other disks were still detaching from {plan.instance_id} after "
                    f"{now - tries.limit_since:.0f} s (DisksDetachingOnEcsExceeded); nothing was detached.",
                    code=error.code,
                    remedy="Try again once they are Available.",
                )
            tries.rounds -= 1
            runner.emit(
                StepKind.WAIT_DETACHES.value,
                f"Too many disks are detaching from {plan.instance_id} (DisksDetachingOnEcsExceeded); "
                "checking again in 10 s",
            )
            runner.sleep(10.0)
            return False
        if error.code in _RACE_CODES and tries.races < _MAX_RACES:
            # The state moved between our read and the call (or a limit we cannot see): wait a little,
            # then read again and decide afresh.
            tries.races += 1
            runner.emit("check", f"DetachDisk was refused ({error.code}); checking again in 2 s")
            runner.sleep(2.0)
            return False
        raise runner.stop(
            Outcome.FAILED,
            f"DetachDisk was refused: {error}",
            code=error.code,
            remedy=error.remedy,
        )
    raise runner.stop(
        Outcome.FAILED, f"DetachDisk was not sent: {error}", remedy=getattr(error, "remedy", "")
    )


def _finish_detach(
    runner: _Runner, plan: Plan, *, restart: bool, earlier_start: bool, timeout: float, dur: Durations
) -> RunResult:
    """The detach is done: start the instance again if the plan says so, and say what became of it."""
    message = f"Disk {plan.disk_id} is detached from instance {plan.instance_id}."
    if earlier_start and not runner.stopped_instance:
        # The plan starts an instance an earlier run stopped: only if it is still Stopped, still ours
        # (the journal shows no start since), and has its system disk.
        why_not = _earlier_start_blocker(runner, timeout, dur.stop)
        if why_not:
            runner.earlier_stopped = False  # the message says why it is not started
            message += f" {why_not}"
        else:
            runner.stopped_instance = True
    if restart and runner.stopped_instance:
        _start(runner, timeout, dur.start)
        message += f" Instance {plan.instance_id} was started again."
    elif runner.stopped_instance and plan.has_step(StepKind.START_INSTANCE):
        message += f" Instance {plan.instance_id} is Stopped until the last disk on it is done."
    elif runner.stopped_instance:
        message += f" Instance {plan.instance_id} was stopped and is left Stopped."
    return runner.result(Outcome.DONE, message)


_RACE_CODES = frozenset({"IncorrectInstanceStatus", "IncorrectDiskStatus"})


def _running(pre: Preconditions) -> bool:
    return pre.instance is not None and pre.instance.status == INSTANCE_RUNNING


def _earlier_start_blocker(runner: _Runner, timeout: float, expected: float) -> str:
    """Before starting an instance an earlier run stopped: a fresh read (waiting out a Stopping). Returns why
    it is not started ("" when it may be)."""
    instance_id = runner.instance_id
    try:
        instance = _read_instance(runner.client, instance_id)
        if instance is not None and instance.status == INSTANCE_STOPPING:
            runner.wait_instance(INSTANCE_STOPPED, StepKind.WAIT_INSTANCE_STOPPED, timeout, expected)
            instance = _read_instance(runner.client, instance_id)
        if instance is None or instance.status != INSTANCE_STOPPED:
            status = instance.status if instance is not None else "gone"
            return f"Instance {instance_id} is {status}, not Stopped: not starting it."
        if runner.journal is not None and runner.journal.stopped_by_us(instance_id) is None:
            return (
                f"Instance {instance_id} is Stopped, but the journal no longer shows it stopped by "
                "ecs-detach: not starting it."
            )
        blocker = _start_blocker(runner.client, runner.journal, instance_id)
    except EcsError as exc:
        raise runner.read_failed(f"instance {instance_id}", exc) from None
    if blocker:
        return f"Not starting instance {instance_id}: {blocker} It is left Stopped."
    return ""


def _detached(pre: Preconditions) -> bool:
    disk = pre.disk
    return disk is not None and pre.instance_id not in disk.attached_instance_ids


def _stopped_note(runner: _Runner) -> str:
    if runner.earlier_stopped:  # a start the plan showed, for an instance an earlier run stopped
        return f" Instance {runner.instance_id} was stopped by an earlier run and is left Stopped."
    if runner.stopped_instance:
        return f" Instance {runner.instance_id} was stopped by this run and is left Stopped."
    return ""


def _apply_fix(
    runner: _Runner, pre: Preconditions, options: DetachOptions, *, may_stop: bool, timeout: float
) -> None:
    dur = _durations(runner)
    fix = pre.fixes[0]
    if fix.kind is FixKind.WAIT_DISK:
        runner.wait(
            StepKind.WAIT_DISK_IN_USE,
            f"disk {runner.disk_id}",
            runner.disk_state(runner.disk_id, runner.instance_id),
            lambda s: s != DISK_ATTACHING,
            expected=dur.attach,
            timeout=timeout,
            target="done attaching",
        )
    elif fix.kind is FixKind.WAIT_INSTANCE:
        runner.wait_instance("settled", StepKind.WAIT_INSTANCE_SETTLED, timeout, dur.stop)
    elif fix.kind is FixKind.WAIT_DETACHES:
        runner.emit(
            StepKind.WAIT_DETACHES.value, f"Other disks are detaching from {runner.instance_id}; waiting"
        )
        runner.sleep(min(10.0, dur.detach))
    elif fix.kind is FixKind.STOP_INSTANCE:
        if not may_stop:
            lead = "The state changed: " if runner.mutated else ""
            raise runner.stop(
                Outcome.ABORTED if runner.mutated else Outcome.BLOCKED,
                f"{lead}instance {runner.instance_id} must now be stopped first, and the confirmed plan "
                "did not include stopping it. Review the new plan and confirm again.",
                code=pre.predicted_code or "",
            )
        _stop_instance(runner, options, timeout, dur.stop)


def _stop_instance(runner: _Runner, options: DetachOptions, timeout: float, expected: float) -> None:
    params = {"InstanceId": runner.instance_id}
    if options.force_stop:
        params["ForceStop"] = "true"
    if options.stopped_mode:
        params["StoppedMode"] = options.stopped_mode
    _, intent, error = runner.mutate(
        StepKind.STOP_INSTANCE,
        "StopInstance",
        lambda: runner.client.stop_instance(
            runner.instance_id, force_stop=options.force_stop, stopped_mode=options.stopped_mode
        ),
        params=params,
        context={"reason": f"detach {runner.disk_id}"},
        describe=f"Stopping instance {runner.instance_id}",
    )
    if isinstance(error, _THROTTLED):
        return  # not applied: the next round reads again and decides
    if isinstance(error, _UNSURE):
        result = runner.reconcile(intent, "StopInstance", "", runner.instance_id)
        if result == Result.DID_NOT_HAPPEN:
            return  # the next round checks again
        if result not in (Result.WENT_THROUGH, Result.IN_PROGRESS):
            raise runner.stop(
                Outcome.FAILED,
                "The outcome of StopInstance is unknown, and the instance's state does not tell.",
            )
    elif isinstance(error, ApiError):
        if error.code == "IncorrectInstanceStatus":
            return  # it moved between our read and the call; the next round sees where it is
        raise runner.stop(
            Outcome.FAILED, f"StopInstance was refused: {error}", code=error.code, remedy=error.remedy
        )
    elif error is not None:
        raise runner.stop(Outcome.FAILED, f"StopInstance was not sent: {error}")
    runner.stopped_instance = True
    runner.wait_instance(INSTANCE_STOPPED, StepKind.WAIT_INSTANCE_STOPPED, timeout, expected)


def _start(runner: _Runner, timeout: float, expected: float, *, done: str = "detached") -> None:
    """Start the instance again (after a fresh read that finds it Stopped), then wait until Running."""
    lead = f"Disk {runner.disk_id} is {done}, but"
    for _ in range(_MAX_THROTTLED + 1):
        runner.back_off()
        try:
            instance = _read_instance(runner.client, runner.instance_id)
        except EcsError as exc:
            raise runner.read_failed(f"instance {runner.instance_id}", exc) from None
        if instance is None or instance.status != INSTANCE_STOPPED:
            status = instance.status if instance else "gone"
            runner.stopped_instance = runner.earlier_stopped = False  # no longer ours to report as Stopped
            raise runner.stop(
                Outcome.ABORTED,
                f"{lead} instance {runner.instance_id} is {status}, not Stopped: not starting it.",
            )
        _, intent, error = runner.mutate(
            StepKind.START_INSTANCE,
            "StartInstance",
            lambda: runner.client.start_instance(runner.instance_id),
            params={"InstanceId": runner.instance_id},
            describe=f"Starting instance {runner.instance_id} again",
        )
        if isinstance(error, _THROTTLED):
            continue
        if isinstance(error, _UNSURE):
            result = runner.reconcile(intent, "StartInstance", "", runner.instance_id)
            if result == Result.DID_NOT_HAPPEN:
                continue  # read again above: still Stopped, so starting it again is safe (bounded)
            if result != Result.WENT_THROUGH and result != Result.IN_PROGRESS:
                raise runner.stop(
                    Outcome.FAILED,
                    f"{lead} starting instance {runner.instance_id} did not happen.",
                    remedy=f"Start it by hand: aliyun ecs StartInstance --InstanceId {runner.instance_id}",
                )
        elif isinstance(error, ApiError):
            raise runner.stop(
                Outcome.FAILED,
                f"{lead} StartInstance was refused: {error}",
                code=error.code,
                remedy=error.remedy,
            )
        elif error is not None:
            raise runner.stop(Outcome.FAILED, f"{lead} StartInstance was not sent: {error}")
        break
    else:
        raise runner.stop(
            Outcome.FAILED,
            f"{lead} starting instance {runner.instance_id} did not happen after {_MAX_THROTTLED + 1} tries.",
            remedy=f"Start it by hand: aliyun ecs StartInstance --InstanceId {runner.instance_id}",
        )
    runner.stopped_instance = runner.earlier_stopped = False
    runner.wait_instance(INSTANCE_RUNNING, StepKind.WAIT_INSTANCE_RUNNING, timeout, expected)


def follow(
    client: WorkflowClient,
    disk_id: str,
    instance_id: str,
    *,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> RunResult:
    """Follow a detach already under way (or just sent) until the disk is detached from `instance_id`."""
    runner = _Runner(
        client,
        journal=None,
        facts=facts,
        on_progress=on_progress,
        cancel=cancel,
        clock=clock,
        sleep=sleep,
        timeout=timeout,
    )
    runner.disk_id, runner.instance_id = disk_id, instance_id
    try:
        runner.wait_detached(timeout, _durations(runner).detach)
    except _Stop as stop:
        return stop.result
    return runner.result(Outcome.DONE, f"Disk {disk_id} is detached from instance {instance_id}.")


async def run_async(client: WorkflowClient, plan: Plan, **kwargs: Any) -> RunResult:
    """`run` in a worker thread, for asyncio code (notebooks). Cancelling the task cancels the wait only."""
    token: CancelToken = kwargs.pop("cancel", None) or CancelToken()
    try:
        return await asyncio.to_thread(run, client, plan, cancel=token, **kwargs)
    except asyncio.CancelledError:
        token.cancel()
        raise


# ---------------------------------------------------------------------------------------------------------
# Re-attach (undo)
# ---------------------------------------------------------------------------------------------------------


def prepare_reattach(
    client: WorkflowClient,
    record: JournalRecord,
    *,
    credential: str | None = None,
    start_after: bool = False,
    facts: FactsSource = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Plan:
    """The plan to undo the DetachDisk `record` (an intent or outcome from the journal): AttachDisk back.

    `credential` ("password" or "key-pair") says which the caller will give for a system disk.
    """
    if record.action != "DetachDisk":
        raise ValueError(f"only a DetachDisk record can be undone, not {record.action}")
    system = record.context.get("disk_type") == "system"
    if not record.context.get("disk_type"):
        disk = _read_disk(client, record.disk_id)
        system = disk is not None and disk.is_system
    known = _facts(facts)
    before = record.context.get("delete_with_instance_before")
    multi = bool(record.context.get("multi_attach"))
    return plan_reattach(
        record.disk_id,
        record.instance_id,
        record.region or client.region_id,
        system_disk=system,
        credential=credential,
        delete_with_instance=None if multi or not isinstance(before, bool) else before,
        start_after=start_after,
        durations=known.durations if known else None,
        timeout=timeout,
        target=aliyun_target(client),
    )


def aliyun_target(client: object) -> AliyunTarget:
    """Where the printed ``aliyun`` commands must point: the client's profile and endpoint."""
    profile = getattr(client, "profile_name", None)
    endpoint = getattr(client, "endpoint", None)
    return AliyunTarget(
        profile=profile if isinstance(profile, str) else "",
        # Only a URL can be pasted: the in-process emulator's label ("emulator (in-process, demo)") is none.
        endpoint=endpoint if isinstance(endpoint, str) and "://" in endpoint else "",
    )


def reattach(
    client: WorkflowClient,
    record: JournalRecord,
    *,
    password: str | None = None,
    key_pair_name: str | None = None,
    start_after: bool = False,
    journal: Journal | None = None,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> RunResult:
    """Undo a detach: attach the disk back to the instance the journal record names.

    A system disk is attached Bootable, with the password or key pair the caller gives (never journaled).
    """
    credential = "password" if password else "key-pair" if key_pair_name else None
    try:
        plan = prepare_reattach(
            client, record, credential=credential, start_after=start_after, facts=facts, timeout=timeout
        )
    except EcsError as exc:
        return RunResult(Outcome.FAILED, f"Could not read disk {record.disk_id}: {exc}", record.disk_id, "")
    return run(
        client,
        plan,
        journal=journal,
        facts=facts,
        on_progress=on_progress,
        cancel=cancel,
        clock=clock,
        sleep=sleep,
        timeout=timeout,
        password=password,
        key_pair_name=key_pair_name,
    )


def _run_reattach(
    runner: _Runner, plan: Plan, *, password: str | None, key_pair_name: str | None
) -> RunResult:
    if not plan.executable:
        return runner.result(Outcome.BLOCKED, plan.refusal)
    timeout = runner.timeout or plan.timeout
    dur = _durations(runner)
    system = any(step.params.get("Bootable") == "true" for step in plan.steps)
    attach_step = next(step for step in plan.steps if step.kind is StepKind.ATTACH_DISK)
    dwi = attach_step.params.get("DeleteWithInstance")
    delete_with_instance = None if dwi is None else dwi == "true"
    for _ in range(_MAX_ROUNDS):
        try:
            disk = _read_disk(runner.client, plan.disk_id)
            instance = _read_instance(runner.client, plan.instance_id)
        except EcsError as exc:
            raise runner.read_failed(f"disk {plan.disk_id}", exc) from None
        runner.last_disk = disk
        if disk is None:
            raise runner.stop(Outcome.FAILED, f"Disk {plan.disk_id} no longer exists: nothing to re-attach.")
        if instance is None:
            raise runner.stop(Outcome.FAILED, f"Instance {plan.instance_id} no longer exists.")
        if instance.security_locked:
            raise runner.stop(
                Outcome.BLOCKED,
                f"Instance {plan.instance_id} is locked for security reasons: every operation is refused.",
                code="InstanceLockedForSecurity",
            )
        if plan.instance_id in disk.attached_instance_ids and disk.status != DISK_DETACHING:
            if disk.status == DISK_ATTACHING:
                break  # someone (perhaps us, earlier) is attaching it: follow
            return runner.result(
                Outcome.DONE, f"Disk {plan.disk_id} is already attached to instance {plan.instance_id}."
            )
        if disk.status == DISK_DETACHING and plan.instance_id in disk.attached_instance_ids:
            runner.wait_detached(timeout, dur.detach)
            continue
        if disk.attached_instance_ids and not disk.is_multi_attach:
            raise runner.stop(
                Outcome.BLOCKED,
                f"Disk {plan.disk_id} is attached to {', '.join(disk.attached_instance_ids)} now; "
                "detach it there first.",
            )
        if instance.status in INSTANCE_TRANSITIONAL:
            runner.wait_instance("settled", StepKind.WAIT_INSTANCE_SETTLED, timeout, dur.stop)
            continue
        if system and instance.status != INSTANCE_STOPPED:
            raise runner.stop(
                Outcome.BLOCKED,
                f"Instance {plan.instance_id} is {instance.status}; a system disk is attached only to "
                "a Stopped instance.",
                code="IncorrectInstanceStatus",
            )
        _, intent, error = runner.mutate(
            StepKind.ATTACH_DISK,
            "AttachDisk",
            lambda: runner.client.attach_disk(
                plan.disk_id,
                plan.instance_id,
                bootable=True if system else None,
                password=password,
                key_pair_name=key_pair_name,
                delete_with_instance=delete_with_instance,
            ),
            params=attach_step.params,
            context={"undo": True, "disk_type": disk.type},
            describe=attach_step.description,
        )
        if isinstance(error, _THROTTLED):
            runner.back_off()
            continue
        if isinstance(error, _UNSURE):
            result = runner.reconcile(intent, "AttachDisk", plan.disk_id, plan.instance_id)
            if result == Result.DID_NOT_HAPPEN:
                continue
            if result not in (Result.WENT_THROUGH, Result.IN_PROGRESS):
                raise runner.stop(
                    Outcome.FAILED,
                    "The outcome of AttachDisk is unknown, and the disk's state does not tell.",
                )
        elif isinstance(error, ApiError):
            raise runner.stop(
                Outcome.FAILED, f"AttachDisk was refused: {error}", code=error.code, remedy=error.remedy
            )
        elif error is not None:
            raise runner.stop(Outcome.FAILED, f"AttachDisk was not sent: {error}")
        break
    else:
        raise runner.stop(Outcome.FAILED, f"Disk {plan.disk_id}: the state kept changing; gave up.")

    def attached(state: str) -> bool:
        return state not in (DISK_ATTACHING, "Available", "Detached")

    reader = runner.disk_state(plan.disk_id, plan.instance_id)
    runner.wait(
        StepKind.WAIT_DISK_IN_USE,
        f"disk {plan.disk_id}",
        reader,
        attached,
        expected=dur.attach,
        timeout=timeout,
        target=f"attached to {plan.instance_id}",
    )
    message = f"Disk {plan.disk_id} is attached to instance {plan.instance_id} again."
    if plan.has_step(StepKind.START_INSTANCE):
        runner.stopped_instance = True
        _start(runner, timeout, dur.start, done="attached again")
        message += f" Instance {plan.instance_id} is Running."
    return runner.result(Outcome.DONE, message)


# ---------------------------------------------------------------------------------------------------------
# Bulk: in `ecs_detach.bulk`
# ---------------------------------------------------------------------------------------------------------

# `ecs_detach.bulk` imports this module, so its public names are re-exported lazily (PEP 562 `__getattr__`):
# either module may be imported first without a cycle; mypy sees the real types by the TYPE_CHECKING import.
_BULK_NAMES = frozenset({"BulkItem", "BulkReport", "prepare_bulk", "run_bulk"})


def __getattr__(name: str) -> Any:
    if name in _BULK_NAMES:
        from ecs_detach import bulk

        return getattr(bulk, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
