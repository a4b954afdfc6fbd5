"""Bulk detach: many confirmed plans at once — `prepare_bulk`, `run_bulk` and the machinery they share.

`ecs_detach.detach.single` runs one disk (`Runner`); this module runs many of them together and adds what a
bulk run shares between its workers: a DetachDisk token bucket (`_Pacer`), batched fresh reads (`_Reads`), one
poller for every detaching disk (`_Poller`), the worker slots and the one notice of throttling (`_Bulk`).
A run reaches its bulk run only through `ecs_detach.detach.runner.InBulk` (the methods `_Bulk`
implements), so the runner never imports this module; `ecs_detach.workflow` re-exports `BulkItem`,
`BulkReport`, `prepare_bulk` and `run_bulk`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from ecs_detach._display import Displayable
from ecs_detach.detach.facts import FactsSource
from ecs_detach.detach.guest_read import GuestClient, GuestReads
from ecs_detach.detach.history import start_blocker
from ecs_detach.detach.power import earlier_start_blocker, start_again
from ecs_detach.detach.prepare import prepare
from ecs_detach.detach.reads import GuestTime, read_disk, read_instance, state_from
from ecs_detach.detach.results import CancelToken, Outcome, ProgressEvent, RunResult, WorkflowClient, pause
from ecs_detach.detach.runner import DETACHED_STATES, Runner, RunStopped, Throttle, durations_of
from ecs_detach.detach.single import run_detach
from ecs_detach.errors import EcsError, ThrottledError
from ecs_detach.journal import Journal
from ecs_detach.models import Disk, Instance
from ecs_detach.plan import DEFAULT_TIMEOUT, Plan, StepKind
from ecs_detach.preconditions import DetachOptions, resolve_instance_id

__all__ = ["BulkItem", "BulkReport", "prepare_bulk", "run_bulk"]

# -- DetachDisk pacing, batched fresh reads, batched polling ---------------------------------------------

_KNOWN_MARGIN = 0.9  # a known limit is paced at 90 %: the API counts arrivals, and those jitter
_ADAPTIVE_START = 50.0  # DetachDisk per second when the account's limit is unknown
_GROWTH_UNTIL_LIMIT = 1.5  # the adaptive pace grows by half each second until the first sign of the limit ...
_GROWTH_NEAR_LIMIT = 1.05  # ... and then grows by 5 % a second
_ADAPTIVE_MAX = 1000.0
_MIN_RATE = 0.2
_ANSWER_ALLOWANCE = 0.2  # seconds a paced DetachDisk may take to be answered before it counts as behind
_HORIZON = 0.25  # how far ahead a DetachDisk slot may be taken
_READ_LEAD = 0.1  # a disk's fresh read is sent at most this long before its DetachDisk slot
_READ_TRIES = 6  # a batched read throttled this many times falls back to one read per disk
_GATHER = 0.003  # seconds a batch leader waits for reads asked for at the same moment
_BATCH = 100  # ids per DescribeDisks / DescribeInstances call (the API's maximum)
_UNKNOWN_FIRST_POLL = 1.0  # first poll of a detaching disk when the detach time is unknown (and not learnt)
_POLL_CAP = 10.0
_POLL_SLACK = 0.05  # disks due within this of the earliest are polled in the same call
_MAX_ACTIVE = 64  # workers checking or changing at once, whatever `concurrency` says (more: contention)
_MAX_THREADS = 256  # a bulk run's threads: groups waiting on the poller hold one, not a slot


class _Pacer:
    """A token bucket for DetachDisk shared by a bulk run's workers: one call per 1/rate seconds, no burst.

    A known limit (calls per second) is paced at 90 % of it, and slowed down only by Throttling. Unknown
    (a real account): adaptive. It starts at 50 per second and grows by half each second while the API
    keeps up. Signs of the limit: an answer much slower than usual (the client retried a Throttling reply on
    its own) drops it to 90 % of the calls accepted in the last second (a quarter off when none were), at
    most once a second; fewer calls accepted in a second than were paced sets the pace to the accepted
    rate; a Throttling that reaches the workflow halves it. The earliest sign: the client's `on_throttled`
    hook (a Throttling reply it is about to retry), which `run_bulk` subscribes to; it cuts the pace as a
    much slower answer does. After any of these, growth is slow (5 % a second).
    """

    def __init__(
        self, clock: Callable[[], float], rate: float | None, cancelled: Callable[[], bool] = lambda: False
    ) -> None:
        self._clock = clock
        self._cancelled = cancelled
        self._lock = threading.Lock()
        self._turn = threading.Lock()
        self.adaptive = rate is None or rate <= 0
        self.base = _ADAPTIVE_MAX if self.adaptive else float(rate or 0) * _KNOWN_MARGIN
        self.rate = _ADAPTIVE_START if self.adaptive else self.base
        self._per_second = _GROWTH_UNTIL_LIMIT  # growth factor per second of keeping up
        self._next: float | None = None
        self._started: float | None = None
        self._accepted: deque[float] = deque()
        self._slots: deque[float] = deque()
        self._fastest: float | None = None
        self._cut_at = -math.inf

    def reserve(self, sleep: Callable[[float], None]) -> float:
        """Take the next free DetachDisk slot and return its time. Slots are taken at most a moment ahead
        (`sleep` waits until then), so a change of pace applies to every call not yet near."""
        with self._turn:  # one worker waits for the next slot at a time; the others queue here, idle
            while True:
                with self._lock:
                    now = self._clock()
                    if self._started is None:
                        self._started = now
                    slot = now if self._next is None else max(now, self._next)
                    ahead = slot - now - _HORIZON
                    if ahead <= 0 or self._cancelled():
                        self._next = slot + 1.0 / self.rate
                        self._slots.append(slot)
                        return slot
                sleep(ahead)

    def accepted(self, seconds: float) -> None:
        """A DetachDisk was answered (not throttled), `seconds` after it was sent."""
        with self._lock:
            now = self._clock()
            slow = self._fastest is not None and seconds > 4.0 * self._fastest + 0.02
            if self.adaptive and slow and now >= self._cut_at + 1.0:
                # Much slower than usual: likely a Throttling reply the client retried on its own. One cut
                # a second at most (answers slowed by one burst come in together).
                self._cut_to_accepted(now)
            self._fastest = seconds if self._fastest is None else min(self._fastest, seconds)
            self._accepted.append(now)
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            while self._slots and self._slots[0] <= now - 1.0 - _ANSWER_ALLOWANCE:
                self._slots.popleft()
            started = self._started if self._started is not None else now
            if self.adaptive and now - started >= 1.0 + _ANSWER_ALLOWANCE:
                # Slots of the second before the last answer time, against the calls accepted in the last
                # second: fewer accepted means the API is refusing some (the client retries them quietly).
                paced = sum(1 for slot in self._slots if slot <= now - _ANSWER_ALLOWANCE)
                if len(self._accepted) < 0.92 * paced and now >= self._cut_at + 1.0:
                    self.rate = max(_MIN_RATE, min(self.rate, float(len(self._accepted))))
                    self._per_second = _GROWTH_NEAR_LIMIT  # the limit is near: from now on, grow slowly
                    self._cut_at = now
                    return
            self.rate = min(self.base, self.rate * self._per_second ** (1.0 / self.rate))

    def absorbed(self, action: str, delay: float) -> None:
        """The client is about to retry a Throttling reply to `action` (its `on_throttled` hook, called from
        any worker thread). Adaptive only, DetachDisk only: the first sign of the limit, seen before the
        client's retries run out. Drops the pace to 90 % of the calls accepted in the last second (a quarter
        off at least), at most once a second (one burst's refusals come in together); then growth is slow."""
        if action != "DetachDisk" or not self.adaptive:
            return
        with self._lock:
            now = self._clock()
            if now < self._cut_at + 1.0:
                return
            self._cut_to_accepted(now)
            # The refused call comes back after `delay` without a slot: leave room for it.
            self._next = max(self._next or now, now) + 1.0 / self.rate

    def _cut_to_accepted(self, now: float) -> None:
        """The limit is near: 90 % of the calls accepted in the last second (never faster than now), or a
        quarter off when none were; from now on, grow slowly. Called with the lock held."""
        window = sum(1 for t in self._accepted if t > now - 1.0)
        cut = min(self.rate, window * 0.9) if window else self.rate * 0.75
        self.rate = max(_MIN_RATE, cut)
        self._per_second = _GROWTH_NEAR_LIMIT
        self._cut_at = now

    def throttled(self) -> float:
        """A DetachDisk was refused by Throttling (after the client's own retries): slow down."""
        with self._lock:
            self.rate = max(_MIN_RATE, self.rate * 0.5)
            self._per_second = _GROWTH_NEAR_LIMIT
            now = self._clock()
            self._next = max(self._next or now, now) + 1.0 / self.rate
            return self.rate


@dataclass(eq=False)
class _ReadTicket:
    disk_id: str
    instance_id: str
    done: bool = False
    disk: Disk | None = None
    instance: Instance | None = None
    error: EcsError | None = None


class _Reads:
    """Fresh reads of disks and their instances, batched: reads asked for while a batch is in flight go into
    the next one (up to 100 ids a call). A read is always answered by calls sent after it was asked for."""

    def __init__(self, bulk: _Bulk) -> None:
        self._bulk = bulk
        self._cond = threading.Condition()
        self._pending: list[_ReadTicket] = []
        self._busy = False
        self.calls = 0

    def read(self, disk_id: str, instance_id: str) -> tuple[Disk | None, Instance | None]:
        ticket = _ReadTicket(disk_id, instance_id)
        with self._cond:
            self._pending.append(ticket)
            while not ticket.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._busy = True
                if self._bulk.manual_sleep is None:
                    self._cond.wait(_GATHER)  # real time: let reads asked for at the same moment join
                batch = self._pending[:_BATCH]
                del self._pending[:_BATCH]
                self._cond.release()
                try:
                    self._fetch(batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if ticket.error is not None:
            raise ticket.error
        return ticket.disk, ticket.instance

    def _fetch(self, batch: list[_ReadTicket]) -> None:
        client = self._bulk.client
        list_disks = getattr(client, "list_disks", None)
        list_instances = getattr(client, "list_instances", None)
        if callable(list_disks) and callable(list_instances):
            disk_ids = list(dict.fromkeys(t.disk_id for t in batch))
            instance_ids = list(dict.fromkeys(t.instance_id for t in batch if t.instance_id))
            delay = 0.5
            for _ in range(_READ_TRIES):
                try:
                    disks = {d.disk_id: d for d in list_disks(disk_ids=disk_ids) if isinstance(d, Disk)}
                    self.calls += 1
                    instances: dict[str, Instance] = {}
                    if instance_ids:
                        found = list_instances(instance_ids=instance_ids)
                        instances = {i.instance_id: i for i in found if isinstance(i, Instance)}
                        self.calls += 1
                except ThrottledError:
                    self._bulk.rate_limited(None, "Reading disks")
                    self._bulk.sleep(delay)
                    delay = min(delay * 2, 8.0)
                    continue
                except EcsError:
                    break  # read each disk alone: a failure is then that disk's, never its neighbours'
                for ticket in batch:
                    ticket.disk = disks.get(ticket.disk_id)
                    ticket.instance = instances.get(ticket.instance_id)
                    ticket.done = True
                return
        for ticket in batch:
            try:
                ticket.disk = read_disk(client, ticket.disk_id)
                ticket.instance = read_instance(client, ticket.instance_id)
            except EcsError as exc:
                ticket.error = exc
            ticket.done = True


@dataclass(eq=False)
class _Watch:
    """A detaching disk the poller follows for one waiting worker."""

    disk_id: str
    instance_id: str
    start: float
    due: float
    timeout_at: float
    interval: float = 1.0
    fresh: bool = False  # a poll result the worker has not seen yet
    state: str = ""
    disk: Disk | None = None
    error: str = ""


class _Poller:
    """One thread that follows every detaching disk of a bulk run: disks due together are read together
    (DescribeDisks, up to 100 ids a call), each first at its expected detach time, then with backoff."""

    def __init__(self, bulk: _Bulk) -> None:
        self._bulk = bulk
        self._cond = threading.Condition()
        self._watches: list[_Watch] = []
        self._stopped = False
        self._learnt: float | None = None  # the shortest detach seen in this run (when none is known)
        self._thread = threading.Thread(target=self._loop, name="ecs-detach-bulk-poller", daemon=True)
        self.calls = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join()

    def watch(self, disk_id: str, instance_id: str, expected: float | None, timeout: float) -> _Watch:
        now = self._bulk.clock()
        with self._cond:
            first = expected if expected is not None else (self._learnt or _UNKNOWN_FIRST_POLL)
            watch = _Watch(disk_id, instance_id, now, now + min(first, timeout), now + timeout)
            watch.interval = min(_POLL_CAP, max(0.2, first / 4))
            self._watches.append(watch)
            self._cond.notify_all()
        return watch

    def forget(self, watch: _Watch, *, detached_after: float | None = None) -> None:
        with self._cond:
            if watch in self._watches:
                self._watches.remove(watch)
            if detached_after is not None and detached_after > 0:
                self._learnt = min(self._learnt or detached_after, detached_after)

    def next(self, watch: _Watch) -> bool:
        """Block until the poller has read `watch` again (True), or waiting was cancelled (False)."""
        with self._cond:
            while not watch.fresh:
                if self._bulk.cancel.cancelled:
                    return False
                if not self._thread.is_alive():
                    raise RuntimeError("the bulk run's poller stopped")
                self._cond.wait(0.1)
            watch.fresh = False
            return True

    def _loop(self) -> None:
        bulk = self._bulk
        while True:
            with self._cond:
                if self._stopped:
                    return
                # A watch whose last result its worker has not taken yet is not read again meanwhile.
                waiting = [w for w in self._watches if not w.fresh]
                if not waiting:
                    self._cond.wait(0.05)
                    continue
                earliest = min(w.due for w in waiting)
                # Poll a little late rather than early: disks due just after the first are read with it.
                due = max([w.due for w in waiting if w.due <= earliest + _POLL_SLACK])
            wait = due - bulk.clock()
            if wait > 0:
                if bulk.manual_sleep is not None:
                    bulk.manual_sleep(min(wait, 1.0))  # a watch added meanwhile may be due sooner
                else:
                    with self._cond:
                        self._cond.wait(min(wait, 0.5))  # a new watch or a stop wakes it
                continue
            now = bulk.clock()
            with self._cond:
                batch = [w for w in self._watches if not w.fresh and w.due <= now]
            try:
                self._poll(batch)
            except Exception as exc:  # never leave a worker waiting on a poller that died
                with self._cond:
                    for w in batch:
                        w.error, w.fresh = f"unexpected error while polling: {exc!r}", True
                        w.due = bulk.clock() + max(1.0, w.interval)
                    self._cond.notify_all()

    def _poll(self, batch: list[_Watch]) -> None:
        bulk = self._bulk
        disks: dict[str, Disk] = {}
        error = ""
        throttled = False
        ids = list(dict.fromkeys(w.disk_id for w in batch))
        try:
            list_disks = getattr(bulk.client, "list_disks", None)
            if callable(list_disks):
                disks = {d.disk_id: d for d in list_disks(disk_ids=ids) if isinstance(d, Disk)}
                self.calls += (len(ids) + _BATCH - 1) // _BATCH
            else:
                for disk_id in ids:
                    found = read_disk(bulk.client, disk_id)
                    if found is not None:
                        disks[disk_id] = found
        except ThrottledError:
            throttled = True
            bulk.rate_limited(None, "Reading disks")
        except EcsError as exc:
            error = str(exc)
        now = bulk.clock()
        with self._cond:
            for w in batch:
                if throttled:  # silently: read again a little later
                    w.due = min(now + max(1.0, w.interval), max(w.timeout_at, now))
                    continue
                w.error = error
                if not error:
                    disk = w.disk = disks.get(w.disk_id)
                    w.state = state_from(disk, w.instance_id)
                w.fresh = True
                w.due = now + w.interval if now >= w.timeout_at else min(now + w.interval, w.timeout_at)
                w.interval = min(w.interval * 1.5, _POLL_CAP)
            self._cond.notify_all()


class _Bulk:
    """What a bulk run's workers share: the client, time, the DetachDisk pacer, the batched reads, the
    poller, the slots (`concurrency`: instances being checked or changed at once), and the one notice that
    the API's rate limit is being waited for."""

    def __init__(
        self,
        client: WorkflowClient,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], object] | None,
        cancel: CancelToken,
        rate: float | None,
        concurrency: int,
        on_progress: Callable[[ProgressEvent], None] | None,
    ) -> None:
        self.client = client
        self.on_progress = on_progress
        self.clock = clock
        self.manual_sleep = sleep
        self.cancel = cancel
        self.pacer = _Pacer(clock, rate, lambda: cancel.cancelled)
        self.reads = _Reads(self)
        self.poller = _Poller(self)
        self.slots = threading.Semaphore(max(1, min(concurrency, _MAX_ACTIVE)))
        self._lock = threading.Lock()
        self.noted = False

    def sleep(self, seconds: float) -> None:
        pause(seconds, self.cancel, self.manual_sleep)

    def rate_limited(self, runner: Runner | None, what: str) -> None:
        """Say once per run (not per disk) that the API's rate limit is being waited for."""
        with self._lock:
            if self.noted:
                return
            self.noted = True
        message = f"{what} was throttled: waiting for the API's rate limit (the run slows down and goes on)"
        if runner is not None:
            runner.emit("throttled", message)
        elif self.on_progress is not None:
            self.on_progress(ProgressEvent("throttled", message, "", ""))

    # -- what a run of this bulk run asks of it (`runner.InBulk`) ----------------------------------------

    def fresh_read(self, runner: Runner, instance_id: str) -> tuple[float, Disk | None, Instance | None]:
        """Take the disk's DetachDisk slot first, then read the disk and its instance (batched with other
        disks') just before it. Returns (the slot's time, the disk, the instance)."""
        slot = self.pacer.reserve(runner.sleep)
        # Reads due in the same tenth of a second are sent together.
        read_at = math.floor((slot - _READ_LEAD / 2) / _READ_LEAD) * _READ_LEAD
        runner.sleep(read_at - runner.clock())
        disk, instance = self.reads.read(runner.disk_id, instance_id)
        return slot, disk, instance

    def detach_accepted(self, seconds: float) -> None:
        """A paced DetachDisk was answered, `seconds` after it was sent."""
        self.pacer.accepted(seconds)

    def detach_throttled(self) -> None:
        """A paced DetachDisk was refused by Throttling (after the client's own retries): slow the pace."""
        self.pacer.throttled()

    def wait_detached(self, runner: Runner, timeout: float, expected: float) -> None:
        """`wait` for a bulk run: the poller reads this disk with the others (first at the expected detach
        time, then with backoff); the worker's slot is free meanwhile. Same events, timeout and cancel."""
        kind, what = StepKind.WAIT_DISK_DETACHED, f"disk {runner.disk_id}"
        target = f"detached from {runner.instance_id}"
        known = runner.facts() is not None
        watch = self.poller.watch(runner.disk_id, runner.instance_id, expected if known else None, timeout)
        expected_now = expected if known else watch.due - watch.start
        self.slots.release()
        detached_after: float | None = None
        try:
            while True:
                polled = self.poller.next(watch)
                elapsed = runner.clock() - watch.start
                state = watch.state
                if polled:
                    if watch.error:
                        runner.emit(
                            kind.value, f"Could not read {what} ({watch.error}); still waiting", state=state
                        )
                    elif watch.disk is not None or state == "NotFound":
                        runner.last_disk = watch.disk
                    if state in DETACHED_STATES:
                        runner.emit(
                            kind.value,
                            f"{what} is {target}",
                            state=state,
                            elapsed=elapsed,
                            eta=0.0,
                            timeout=timeout,
                        )
                        detached_after = elapsed
                        return
                    runner.emit_waiting(kind, what, target, state, elapsed, expected_now, timeout)
                runner.check_wait_limits(what, target, state, elapsed, timeout)
        finally:
            self.poller.forget(watch, detached_after=detached_after)
            self.slots.acquire()


def _no_system_disk(runner: Runner) -> str:
    """Why the instance this run stopped must not be started (no system disk attached), or ""."""
    instance_id = runner.instance_id
    try:
        blocker = start_blocker(runner.client, runner.journal, instance_id)
    except EcsError as exc:
        raise runner.read_failed(f"instance {instance_id}", exc) from None
    return f"Not starting instance {instance_id}: {blocker} It is left Stopped." if blocker else ""


def _known_rate(facts: FactsSource) -> float | None:
    """DetachDisk calls per second the facts source knows (an in-process emulator's), else None."""
    getter = getattr(facts, "rate_limit", None)
    if not callable(getter):
        return None
    try:
        value = getter("DetachDisk")
    except Exception:  # facts are a help, never a reason to fail
        return None
    return float(value) if isinstance(value, int | float) and value > 0 else None


# -- the public part ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkItem:
    disk_id: str
    options: DetachOptions = field(default_factory=DetachOptions)


@dataclass(frozen=True, slots=True)
class BulkReport(Displayable):
    """One result per disk, in the order given. One disk's failure never stops or hides the others."""

    results: tuple[RunResult, ...]
    plans: tuple[Plan, ...] = field(default=(), compare=False)

    def _text(self) -> str:
        from ecs_detach.render import bulk_text

        return bulk_text(self)

    def _html(self) -> str:
        from ecs_detach.render import bulk_html

        return bulk_html(self)

    @property
    def succeeded(self) -> tuple[RunResult, ...]:
        return tuple(r for r in self.results if r.ok)

    @property
    def failed(self) -> tuple[RunResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 if every disk is done; else the most serious code among the failures (1 > 4 > 3)."""
        codes = {r.exit_code for r in self.results} - {0}
        for code in (1, 4, 3):
            if code in codes:
                return code
        return 0

    def summary(self) -> str:
        lines = [f"{len(self.succeeded)} of {len(self.results)} disk(s) done, {len(self.failed)} not."]
        for r in self.results:
            lines.append(f"  {r.disk_id}: {r.outcome.value} — {r.message}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "succeeded": len(self.succeeded),
            "failed": len(self.failed),
            "results": [r.to_dict() for r in self.results],
        }


def prepare_bulk(
    client: WorkflowClient,
    items: Sequence[BulkItem | str],
    *,
    facts: FactsSource = None,
    timeout: float = DEFAULT_TIMEOUT,
    journal: Journal | None = None,
    guest_time: GuestTime | None = None,
) -> list[Plan]:
    """A plan per disk, each with its own fresh preconditions (an unreadable disk gets a refused plan).

    With the `journal`, each plan resumes what an earlier, killed run of ours left, as `prepare` does: a
    detach under way is followed, and an instance that run stopped is named, and started again if `restart`.
    Items with `guest_check` read the guests, as one disk's plan does (a disk mounted there is refused unless
    `unmount`): each instance's guest is probed once for all of its disks, up to 8 instances at once, the
    waits on `guest_time`.
    """
    bulks = [BulkItem(item) if isinstance(item, str) else item for item in items]
    when = (guest_time or GuestTime()).bounded(timeout)  # each guest read, too, within --timeout
    guests = _guest_reads(client, bulks, when)
    plans: list[Plan] = []
    for bulk in bulks:
        try:
            plans.append(
                prepare(
                    client,
                    bulk.disk_id,
                    bulk.options,
                    facts=facts,
                    timeout=timeout,
                    journal=journal,
                    guest_time=when,
                    guests=guests,
                )
            )
        except EcsError as exc:
            plans.append(
                Plan(
                    action="detach",
                    disk_id=bulk.disk_id,
                    instance_id=bulk.options.instance_id or "",
                    region_id=client.region_id,
                    steps=(),
                    warnings=(),
                    executable=False,
                    refusal=f"Could not read disk {bulk.disk_id}: {exc}",
                    nothing_to_do=False,
                    options=bulk.options,
                    timeout=timeout,
                )
            )
    return plans


def _guest_reads(client: WorkflowClient, items: Sequence[BulkItem], when: GuestTime) -> GuestReads | None:
    """The bulk run's shared guest reads (None when no item reads a guest, or the client cannot), with the
    guests of the items' Running instances already probed, several at once."""
    reading = [b for b in items if b.options.guest_check and not b.options.skip_guest_check]
    if not reading or not all(
        hasattr(client, name) for name in ("cloud_assistant_status", "run_command", "invocation_result")
    ):
        return None
    guest_client: GuestClient = client  # type: ignore[assignment]
    guests = GuestReads(guest_client, sleep=when.sleep, clock=when.clock, timeout=when.timeout)
    guests.read_ahead(_instances_of(client, reading))
    return guests


def _instances_of(client: WorkflowClient, items: Sequence[BulkItem]) -> list[tuple[Instance, list[str]]]:
    """The instances the items' data disks are attached to, with those disks, read in batches (up to 100 ids
    a call); [] when the client cannot list or a read fails (each disk's plan then reads its guest when it
    gets there)."""
    list_disks = getattr(client, "list_disks", None)
    list_instances = getattr(client, "list_instances", None)
    if not (callable(list_disks) and callable(list_instances)):
        return []
    options = {b.disk_id: b.options for b in items}
    ids = list(options)
    try:
        disks_of: dict[str, list[str]] = {}
        for start in range(0, len(ids), _BATCH):
            for disk in list_disks(disk_ids=ids[start : start + _BATCH]):
                if isinstance(disk, Disk) and not disk.is_system and disk.disk_id in options:
                    instance_id = resolve_instance_id(disk, options[disk.disk_id])
                    if instance_id:
                        disks_of.setdefault(instance_id, []).append(disk.disk_id)
        wanted = list(disks_of)
        found: list[Instance] = []
        for start in range(0, len(wanted), _BATCH):
            batch = list_instances(instance_ids=wanted[start : start + _BATCH])
            found += [i for i in batch if isinstance(i, Instance)]
    except EcsError:
        return []
    return [
        (instance, disks_of[instance.instance_id]) for instance in found if instance.instance_id in disks_of
    ]


def _restart_group(runner: Runner, *, stopped_by_us: bool) -> tuple[str, Outcome | None, bool]:
    """Start an instance again after the last of its disks: (the note for that disk's message, FAILED if the
    start failed, whether the instance is left Stopped on purpose)."""
    timeout = runner.timeout or DEFAULT_TIMEOUT
    outcome: Outcome | None = None
    left_stopped = False
    try:
        if stopped_by_us:
            # Never an instance without its system disk (one of this group's disks, perhaps).
            why_not = _no_system_disk(runner)
            left_stopped = bool(why_not)
        else:
            # Stopped only by an earlier run: started only if still Stopped, still ours (the
            # journal shows no start since) and with its system disk, as a single run does.
            why_not = earlier_start_blocker(runner, timeout, durations_of(runner).stop)
        if why_not:
            note = f" {why_not}"
        else:
            start_again(runner, timeout, durations_of(runner).start)
            note = f" Instance {runner.instance_id} was started again."
    except RunStopped as stop:
        if stop.result.outcome in (
            Outcome.CANCELLED,
            Outcome.TIMED_OUT,
        ):  # Ctrl-C or --timeout: not a failure
            note = f" Instance {runner.instance_id} was being started again: {stop.result.message}"
            outcome = stop.result.outcome
        else:
            note = f" Starting instance {runner.instance_id} again failed: {stop.result.message}"
            outcome = Outcome.FAILED
    return note, outcome, left_stopped


def run_bulk(
    client: WorkflowClient,
    plans: Sequence[Plan],
    *,
    concurrency: int = 4,
    rate: float | None = None,
    journal: Journal | None = None,
    facts: FactsSource = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: CancelToken | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    timeout: float | None = None,
) -> BulkReport:
    """Run confirmed plans: at most `concurrency` instances (and never more than 64) being checked or changed
    at a time.

    Disks on the same instance run one after another (so a stop serves them all, and the instance is started
    again once, after the last of them, if a plan asked for it and its system disk is still attached; an
    instance an earlier, killed run of ours stopped, as a plan read from the journal shows, is started then
    too, if it is still Stopped, still ours and has its system disk). Each disk's preconditions are recomputed
    from a fresh read just before its DetachDisk; reads asked for together go in one DescribeDisks and one
    DescribeInstances call (up to 100 ids). DetachDisk is paced by a token bucket at `rate` calls per second
    (90 % of it), else at the limit the facts know (an in-process emulator's), else adaptively. Detaching
    disks are polled together by one poller, first at the expected detach time, then with backoff; a worker
    waiting on it frees its slot. Throttling is absorbed (pace, retries) and said once, not per disk.
    """
    token = cancel or CancelToken()
    shared_clock = clock if clock is not None else time.monotonic
    throttle = Throttle(shared_clock)
    bulk = _Bulk(
        client,
        clock=shared_clock,
        sleep=sleep,
        cancel=token,
        rate=rate if rate is not None and rate > 0 else _known_rate(facts),
        concurrency=concurrency,
        on_progress=on_progress,
    )
    observe = getattr(client, "observing_throttles", None)
    if bulk.pacer.adaptive and callable(observe):
        # The same client (pool, options) that also tells the pacer of each Throttling reply it retries:
        # the limit is seen at its first refusal, before the client's retries run out.
        client = observe(bulk.pacer.absorbed)
        bulk.client = client
    groups: dict[str, list[int]] = {}
    for index, plan in enumerate(plans):
        key = plan.instance_id or f"?{index}"
        groups.setdefault(key, []).append(index)
    results: list[RunResult | None] = [None] * len(plans)
    lock = threading.Lock()

    def runner_for(plan: Plan) -> Runner:
        runner = Runner(
            client,
            journal=journal,
            facts=facts,
            on_progress=on_progress,
            cancel=token,
            clock=shared_clock,
            sleep=sleep,
            timeout=timeout if timeout is not None else plan.timeout,
            throttle=throttle,
            bulk=bulk,
        )
        runner.disk_id, runner.instance_id = plan.disk_id, plan.instance_id
        return runner

    def work(indexes: list[int]) -> None:
        with bulk.slots:
            run_group(indexes)

    def run_group(indexes: list[int]) -> None:
        stopped_by_us = False
        wants_restart = False
        earlier = False  # a plan starts the instance an earlier (killed) run of ours stopped
        last_runner: Runner | None = None
        for index in indexes:
            plan = plans[index]
            runner = runner_for(plan)
            try:
                result = run_detach(runner, plan, allow_restart=False)
            except RunStopped as stop:
                result = stop.result
            except Exception as exc:  # one disk's bug never hides the others
                result = runner.result(Outcome.FAILED, f"Unexpected error: {exc!r}")
            stopped_by_us = stopped_by_us or result.stopped_instance
            starts = plan.has_step(StepKind.START_INSTANCE)
            wants_restart = wants_restart or starts
            earlier = earlier or (starts and not plan.has_step(StepKind.STOP_INSTANCE))
            last_runner = runner
            with lock:
                results[index] = result
        if (stopped_by_us or earlier) and wants_restart and last_runner is not None:
            last = indexes[-1]
            note, outcome, left_stopped = _restart_group(last_runner, stopped_by_us=stopped_by_us)
            with lock:
                previous = results[last]
                if previous is not None:
                    results[last] = replace(
                        previous,
                        message=previous.message + note,
                        outcome=outcome or previous.outcome,
                        stopped_instance=stopped_by_us and (outcome is not None or left_stopped),
                    )

    threads = max(1, min(len(groups), max(concurrency, _MAX_THREADS)))
    bulk.poller.start()
    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ecs-detach-bulk") as pool:
            list(pool.map(work, groups.values()))
    finally:
        bulk.poller.stop()
    final = tuple(
        r if r is not None else RunResult(Outcome.FAILED, "not run", plans[i].disk_id, plans[i].instance_id)
        for i, r in enumerate(results)
    )
    return BulkReport(final, tuple(plans))
