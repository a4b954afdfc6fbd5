"""The runner one run drives: journaled mutations, reconciling a lost answer, bounded waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from ecs_detach.detach.facts import FactsSource, facts_now
from ecs_detach.detach.reads import inspect, read_disk, read_instance, state_from
from ecs_detach.detach.results import (
    CancelToken,
    Outcome,
    ProgressEvent,
    RunResult,
    StepResult,
    WorkflowClient,
    pause,
)
from ecs_detach.detach.steps import DEFAULT_TIMEOUT, StepKind
from ecs_detach.errors import ApiError, EcsError, ReadOnlyError, ServerError, ThrottledError, TransportError
from ecs_detach.guest import Remount
from ecs_detach.journal import Journal, JournalError, JournalRecord, Result, classify, read_for_reconcile
from ecs_detach.models import INSTANCE_TRANSITIONAL, Disk, Instance
from ecs_detach.preconditions import DetachOptions, Durations, PlatformFacts, Preconditions, check_detach
from ecs_detach.wording import CLI_WORDS, Worded, worded


class Throttle:
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


THROTTLED = (ThrottledError, _BackOff)


# No answer, or the service failed (5xx): the call may or may not have taken effect; read before anything.
UNSURE = (TransportError, ServerError)


class RunStopped(Exception):
    """Ends a run early with its result."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.message)
        self.result = result


MAX_THROTTLED = 6  # mutations refused by Throttling in one run (after the client's own retries)


MAX_ROUNDS = 12 + MAX_THROTTLED  # re-inspections in one run (waits, fixes, throttling): no ping-pong


MAX_RACES = 3  # DetachDisk refused for a state our read did not show, before giving up


MAX_RECONCILED_RETRIES = 2  # DetachDisk re-sent after a lost answer reconciled as "did not happen"


class InBulk(Protocol):
    """What a run asks of the bulk run it is part of: `ecs_detach.bulk._Bulk` (the pacer, the batched reads,
    the poller, the slots). This module never imports `ecs_detach.bulk` at run time."""

    def fresh_read(self, runner: Runner, instance_id: str) -> tuple[float, Disk | None, Instance | None]: ...

    def rate_limited(self, runner: Runner | None, what: str) -> None: ...

    def detach_accepted(self, seconds: float) -> None: ...

    def detach_throttled(self) -> None: ...

    def wait_detached(self, runner: Runner, timeout: float, expected: float) -> None: ...


class Runner:
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
        throttle: Throttle | None = None,
        bulk: InBulk | None = None,
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
        self.throttle = throttle or Throttle(self.clock)
        self.steps: list[StepResult] = []
        self.started = self.clock()
        self.disk_id = ""
        self.instance_id = ""
        self.last_pre: Preconditions | None = None
        self.last_disk: Disk | None = None
        self.stopped_instance = False
        self.remount: Remount | None = None  # our unmount released the disk in the guest: how to undo it
        self.earlier_stopped = False  # the plan starts an instance an earlier run stopped (not started yet)
        self.mutated = False
        self.throttled = 0
        self.snapshot_id = ""  # the snapshot taken before the detach (accomplished), if the plan takes one

    # -- plumbing --------------------------------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        pause(seconds, self.cancel, self._sleep)

    def emit(self, phase: str, message: str, **kw: Any) -> None:
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(phase, message, self.disk_id, self.instance_id, **kw))

    def result(
        self, outcome: Outcome, message: str, *, code: str = "", remedy: str | Worded = ""
    ) -> RunResult:
        said = remedy if isinstance(remedy, Worded) else None
        return RunResult(
            outcome=outcome,
            message=message,
            disk_id=self.disk_id,
            instance_id=self.instance_id,
            steps=tuple(self.steps),
            code=code,
            remedy=said.say(CLI_WORDS) if said is not None else str(remedy),
            preconditions=self.last_pre,
            disk=self.last_disk,
            elapsed=self.clock() - self.started,
            stopped_instance=self.stopped_instance,
            snapshot_id=self.snapshot_id,
            remedy_worded=said,
        )

    def stop(
        self, outcome: Outcome, message: str, *, code: str = "", remedy: str | Worded = ""
    ) -> RunStopped:
        note = _stopped_note(self)
        if note and note not in message:
            message += note  # an early end after our stop never hides that the instance is down
        return RunStopped(self.result(outcome, message, code=code, remedy=remedy))

    def facts(self) -> PlatformFacts | None:
        return facts_now(self.facts_source)

    def metadata(self) -> dict[str, str]:
        return {
            "profile": str(getattr(self.client, "profile_name", "") or ""),
            "region": str(getattr(self.client, "region_id", "") or ""),
            "endpoint": str(getattr(self.client, "endpoint", "") or ""),
        }

    def read_failed(self, what: str, exc: EcsError) -> RunStopped:
        code = exc.code if isinstance(exc, ApiError) else str(getattr(exc, "kind", ""))
        return self.stop(
            Outcome.FAILED, f"Could not read {what}: {exc}", code=code, remedy=exc.remedy_worded or exc.remedy
        )

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
                # The guest was read for the plan (its guest step releases the disk): not again each round.
                no_guest = replace(options, guest_check=False)
                pre = inspect(self.client, self.disk_id, no_guest, facts=self.facts())
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
                    remedy=exc.remedy_worded or exc.remedy,
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
            if self.throttled >= MAX_THROTTLED:
                raise self.stop(
                    Outcome.FAILED,
                    f"{action} was throttled {self.throttled} times; nothing was applied. Try again later.",
                    code=exc.code,
                    remedy=exc.remedy_worded or exc.remedy,
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
                remedy=exc.remedy_worded or exc.remedy,
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
                disk, instance = read_for_reconcile(self.client, record)
                break
            except EcsError as exc:
                if self.clock() >= deadline or self.cancel.cancelled:
                    raise self.stop(
                        Outcome.FAILED,
                        f"The outcome of {action} is unknown and the state cannot be read ({exc}); "
                        "whether it went through is unknown. Nothing more was sent.",
                        code="TransportError",
                        remedy=worded("{reconcile} later: pending calls are reconciled on start."),
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
        """Raise RunStopped when the wait was cancelled or timed out. What goes on in the cloud is only what
        was sent: a wait before any mutation (for a state to settle) ends with nothing sent."""
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
        """Poll `read()` with backoff until `done(state)`; raise RunStopped on timeout or cancel."""
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
            disk = read_disk(self.client, disk_id)
            self.last_disk = disk
            return state_from(disk, instance_id)

        return read

    def instance_state(self, instance_id: str) -> Callable[[], str]:
        def read() -> str:
            instance = read_instance(self.client, instance_id)
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
                lambda s: s in DETACHED_STATES,
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


DETACHED_STATES = ("Available", "Detached", "NotFound")


def durations_of(runner: Runner) -> Durations:
    facts = runner.facts()
    return facts.durations if facts is not None else Durations()


def _stopped_note(runner: Runner) -> str:
    if runner.earlier_stopped:  # a start the plan showed, for an instance an earlier run stopped
        return f" Instance {runner.instance_id} was stopped by an earlier run and is left Stopped."
    if runner.stopped_instance:
        return f" Instance {runner.instance_id} was stopped by this run and is left Stopped."
    return ""
