"""Jupyter helpers: the same client and workflow as the CLI and the TUI, rendered for a notebook.

```python
from ecs_detach import notebook

nb = notebook.connect(use_emulator=True)       # False: a real account, from the standard credentials chain
nb.check_fleet()                               # every disk: ready, fixable or blocked, and why
plan = nb.plan("d-web-01-data")                # fresh preconditions and the plan (with its aliyun commands)
result = nb.detach(plan, confirm="d-web-01-data")   # refuses to run without the disk id named
nb.journal_table()
```

- Reports (`Preconditions`), plans, run results and bulk reports render as tables: HTML in Jupyter
  (``_repr_html_``) and readable text with ``print`` (``__str__``), through `ecs_detach.render`.
- Waiting shows one progress line updated in place (a display handle in a Jupyter kernel, printed lines
  elsewhere). The workflow runs in a worker thread: interrupting the kernel (KeyboardInterrupt) cancels the
  *wait* only; the call in progress finishes and is journaled, the operation goes on in the cloud, and the
  result says so (``cancelled``). `Workbench.follow` or the journal's reconcile settles it later.
- Nothing mutates without an explicit confirmation naming the disk (``confirm="d-..."``), and the instance
  too when the plan stops it (``confirm_stop="i-..."``).

This module imports neither IPython nor Jupyter at import time (only inside a running kernel, when showing
progress), and never Textual.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import html
import importlib
import queue
import re
import sys
import tempfile
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ecs_detach import workflow
from ecs_detach.journal import Journal, JournalRecord, took_effect
from ecs_detach.models import Disk, Instance, Region
from ecs_detach.plan import DEFAULT_TIMEOUT, Plan, StepKind
from ecs_detach.preconditions import (
    DetachOptions,
    PlatformFacts,
    Preconditions,
    Verdict,
    check_detach,
)
from ecs_detach.render import badge, pretty
from ecs_detach.tables import (
    Column,
    Table,
    bulk_plans_table,
    disks_table,
    instances_table,
    journal_table,
)
from ecs_detach.vocabulary import DEMO_TIME, ROLE, VERDICTS, outcome_label, status_label
from ecs_detach.vocabulary import verdict_label as verdict_label
from ecs_detach.workflow import BulkReport, CancelToken, ProgressEvent, RunResult

if TYPE_CHECKING:
    from ecs_detach._core import Inventory
    from ecs_detach.client import AsyncEcsClient, EcsClient
    from ecs_detach.session import Session

__all__ = [
    "ConfirmationRequired",
    "FleetChecks",
    "NotebookError",
    "ProgressLine",
    "UnknownArgument",
    "Workbench",
    "check_fleet",
    "connect",
    "regions_table",
    "verdict_label",
    "write_csv",
]

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------------------
# Errors that read well in a notebook (no traceback)
# ---------------------------------------------------------------------------------------------------------


class NotebookError(Exception):
    """A refusal or a set-up problem, shown in Jupyter as its message alone (no traceback)."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom error display
        return [f"{type(self).__name__}: {self}"]


class ConfirmationRequired(NotebookError):
    """Nothing was sent: the call did not name what it is allowed to change."""


class UnknownArgument(NotebookError, TypeError):
    """A helper was given a keyword it does not know (a typo would otherwise be ignored silently)."""


# ---------------------------------------------------------------------------------------------------------
# The keywords each helper accepts
# ---------------------------------------------------------------------------------------------------------

# DescribeInstances / DescribeDisks filters beyond the client's named parameters (API names).
_INSTANCE_API_FILTERS = (
    "ZoneId", "InstanceName", "InstanceType", "InstanceTypeFamily", "ImageId", "InstanceChargeType",
    "InternetChargeType", "InstanceNetworkType", "KeyPairName", "ResourceGroupId", "HpcClusterId", "VpcId",
    "VSwitchId", "SecurityGroupId", "LockReason", "IoOptimized", "DeviceAvailable", "PrivateIpAddresses",
    "InnerIpAddresses", "PublicIpAddresses", "EipAddresses", "Tag",
)  # fmt: skip
_DISK_API_FILTERS = (
    "ZoneId", "Category", "MultiAttach", "DiskName", "DiskChargeType", "ResourceGroupId",
    "AutoSnapshotPolicyId", "PerformanceLevel", "KMSKeyId", "SnapshotId", "Portable", "DeleteWithInstance",
    "DeleteAutoSnapshot", "EnableAutoSnapshot", "Encrypted", "EnableAutomatedSnapshotPolicy", "EnableShared",
    "LockReason", "Tag",
)  # fmt: skip


def _snake(api_name: str) -> str:
    """``KMSKeyId`` → ``kms_key_id``, ``VSwitchId`` → ``v_switch_id``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", api_name).lower()


def _filter_names(named: Iterable[str], api_names: Iterable[str]) -> dict[str, str]:
    """Keyword → the name the client is given: the client's own parameters, and each API filter in
    snake_case or as the API spells it."""
    accepted = {name: name for name in named}
    for api in api_names:
        accepted[api] = api
        accepted[_snake(api)] = api
    if "VSwitchId" in accepted:
        accepted["vswitch_id"] = "VSwitchId"
    return accepted


INSTANCE_FILTERS = _filter_names(("region_id", "instance_ids", "status", "page_size"), _INSTANCE_API_FILTERS)
DISK_FILTERS = _filter_names(
    ("region_id", "disk_ids", "instance_id", "disk_type", "status", "page_size"), _DISK_API_FILTERS
)
DETACH_OPTIONS = frozenset(f.name for f in fields(DetachOptions))


def _filters(helper: str, given: Mapping[str, Any], accepted: Mapping[str, str]) -> dict[str, Any]:
    """`given` with every keyword checked and spelled as the client takes it."""
    check_keywords(helper, given, accepted)
    return {accepted[name]: value for name, value in given.items()}


def _guest_check(helper: str, guest_check: bool, guest: bool | None) -> bool:
    """`guest_check=`, or the old `guest=` (kept one release, with a DeprecationWarning naming the new)."""
    if guest is None:
        return guest_check
    warnings.warn(
        f"nb.{helper}(guest=) is deprecated: use guest_check= (the name check() and bulk_plan() take); "
        "guest= goes in the next release",
        DeprecationWarning,
        stacklevel=3,
    )
    return guest or guest_check


def check_keywords(helper: str, given: Iterable[str], accepted: Collection[str]) -> None:
    """Refuse keywords `helper` does not know, naming the closest one it does (``region`` → ``region_id``)."""
    unknown = [name for name in given if name not in accepted]
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(name, sorted(accepted), n=3, cutoff=0.6)
    if not close:
        close = sorted(a for a in accepted if name.lower() in a.lower())[:3]
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    listed = sorted(a for a in accepted if a.islower() or "_" in a) or sorted(accepted)
    api_too = " (or the API's own names, e.g. ZoneId)" if len(listed) < len(accepted) else ""
    raise UnknownArgument(
        f"{helper}() got an unexpected keyword argument {name!r}.{hint} "
        f"It accepts: {', '.join(listed)}{api_too}."
    )


# ---------------------------------------------------------------------------------------------------------
# Labels and small tables
# ---------------------------------------------------------------------------------------------------------


REGION_COLUMNS = (
    Column("Region", "region_id", lambda r: r.region_id),
    Column("Name", "local_name", lambda r: r.local_name),
    Column("Endpoint", "endpoint", lambda r: r.endpoint),
)


def regions_table(regions: Iterable[Region], title: str = "Regions") -> Table:
    return Table.build(regions, REGION_COLUMNS, title)


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list | set | frozenset):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def write_csv(table: Table | FleetChecks, path: str | Path) -> Path:
    """Write a table's records (raw values, not the display text) as CSV; returns the path."""
    shown = table.table() if isinstance(table, FleetChecks) else table
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([col.key for col in shown.columns])
        for record in shown.to_records():
            writer.writerow([_csv_cell(record[col.key]) for col in shown.columns])
    return target


# ---------------------------------------------------------------------------------------------------------
# The fleet's preconditions
# ---------------------------------------------------------------------------------------------------------


def _why(pre: Preconditions) -> str:
    if pre.verdict is Verdict.BLOCKED:
        return pre.reason
    if pre.verdict is Verdict.FIXABLE:
        return "; then ".join(fix.description for fix in pre.fixes)
    if pre.verdict is Verdict.IN_PROGRESS:
        return "already detaching: follow it"
    if pre.verdict is Verdict.ALREADY_DETACHED:
        return "attached nowhere"
    return ""


def _code(pre: Preconditions) -> str:
    """The code DetachDisk would answer now; none for a disk attached nowhere (there is nothing to send)."""
    return "" if pre.verdict is Verdict.ALREADY_DETACHED else pre.predicted_code or ""


def _locks(pre: Preconditions) -> tuple[str, ...]:
    disk_locks = pre.disk.lock_reasons if pre.disk else ()
    instance_locks = pre.instance.lock_reasons if pre.instance else ()
    return tuple(f"disk:{r}" for r in disk_locks) + tuple(f"instance:{r}" for r in instance_locks)


FLEET_CHECK_COLUMNS = (
    Column("Disk", "disk_id", lambda p: p.disk_id),
    Column(ROLE, "type", lambda p: p.disk.type if p.disk else "?"),
    Column("Disk status", "disk_status", lambda p: p.disk.status if p.disk else "?", status_label),
    Column("Instance", "instance_id", lambda p: p.instance_id or "-"),
    Column(
        "Instance status",
        "instance_status",
        lambda p: p.instance.status if p.instance else "-",
        status_label,
    ),
    Column("Locks", "locks", _locks),
    Column("Verdict", "verdict", lambda p: p.verdict.value, verdict_label),
    Column("API would say", "predicted_code", lambda p: _code(p) or "-"),
    Column("Why / fix", "why", _why),
)
FLEET_CHECK_WIDTHS = (None, None, None, None, None, 24, None, None, 60)


@dataclass(frozen=True)
class FleetChecks:
    """One preconditions report per attachment (and one per detached disk), with tables over them."""

    reports: tuple[Preconditions, ...]
    regions: tuple[str, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)  # region -> why it could not be read

    def __len__(self) -> int:
        return len(self.reports)

    def where(self, *verdicts: str | Verdict) -> FleetChecks:
        wanted = {str(Verdict(v).value) for v in verdicts}
        return FleetChecks(tuple(p for p in self.reports if p.verdict.value in wanted), self.regions)

    @property
    def ready(self) -> FleetChecks:
        return self.where(Verdict.READY)

    @property
    def blocked(self) -> FleetChecks:
        return self.where(Verdict.BLOCKED)

    @property
    def fixable(self) -> FleetChecks:
        return self.where(Verdict.FIXABLE)

    def table(self, title: str = "Preconditions over the fleet") -> Table:
        return Table.build(self.reports, FLEET_CHECK_COLUMNS, title)

    def summary(self) -> Table:
        """How many attachments per verdict and per code the API would answer, with examples."""
        counts: Counter[tuple[str, str]] = Counter()
        examples: dict[tuple[str, str], list[str]] = {}
        for pre in self.reports:
            key = (pre.verdict.value, _code(pre) or "-")
            counts[key] += 1
            examples.setdefault(key, []).append(pre.disk_id)
        order = list(VERDICTS)
        keys = sorted(counts, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1]))
        rows = [(k[0], k[1], counts[k], tuple(examples[k][:3])) for k in keys]
        columns = (
            Column("Verdict", "verdict", lambda r: r[0], verdict_label),
            Column("API would say", "predicted_code", lambda r: r[1]),
            Column("Count", "count", lambda r: r[2]),
            Column("Examples", "examples", lambda r: r[3]),
        )
        return Table.build(rows, columns, "Summary: what DetachDisk would do, attachment by attachment")

    def to_records(self) -> list[dict[str, Any]]:
        return self.table().to_records()

    def to_pandas(self) -> Any:
        return self.table().to_pandas()

    def __str__(self) -> str:
        return f"{self.summary()}\n\n{self.table().render(max_widths=FLEET_CHECK_WIDTHS)}"

    _repr_pretty_ = pretty

    def _repr_html_(self) -> str:
        notes = "".join(
            f"<p>⚠ Region {html.escape(region)} could not be read: {html.escape(why)}</p>"
            for region, why in self.errors.items()
        )
        return notes + self.summary()._repr_html_() + self.table()._repr_html_()


def check_fleet(
    disks: Iterable[Disk], instances: Iterable[Instance], facts: PlatformFacts | None = None
) -> list[Preconditions]:
    """Check every attachment of every disk against its instance (pure: no I/O).

    A multi-attach disk gives one report per instance; a disk attached nowhere gives one report
    (``already-detached``). `facts` are what the API does not expose (None: those rows are unknown).
    """
    disk_list = list(disks)
    by_id = {instance.instance_id: instance for instance in instances}
    known = facts.with_detaching_counts(disk_list) if facts is not None else None
    reports: list[Preconditions] = []
    for disk in disk_list:
        targets = disk.attached_instance_ids or ("",)
        for instance_id in targets:
            reports.append(
                check_detach(
                    disk,
                    by_id.get(instance_id),
                    DetachOptions(instance_id=instance_id or None),
                    facts=known,
                    region_id=disk.region_id,
                )
            )
    return reports


# ---------------------------------------------------------------------------------------------------------
# Progress, in place
# ---------------------------------------------------------------------------------------------------------


def _kernel_shell() -> Any:
    """The IPython shell when running inside a Jupyter kernel, else None (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


class _Line:
    """What the progress display shows: text for any front end, HTML for Jupyter."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre style='margin:0'>{html.escape(self.text)}</pre>"


_PHASE_MARKS = {"throttled": "⏸", "reconcile": "⟳", "check": "…"}


def progress_text(event: ProgressEvent, *, width: int = 20, demo_time: bool = False) -> str:
    """One line for a progress event: a bar (when the ETA is known), the message, the timeout; with
    `demo_time`, a wait's times are labelled as the emulator's (faster) demo time."""
    mark = _PHASE_MARKS.get(event.phase, "◐")
    bar = ""
    if event.elapsed or event.eta is not None:
        expected = event.elapsed + (event.eta or 0.0)
        if event.eta is not None and expected > 0:
            filled = round(width * min(1.0, event.elapsed / expected))
            bar = "[" + "#" * filled + "-" * (width - filled) + "] "
        else:
            bar = "[" + "?" * width + "] "
    limit = f" · timeout {event.timeout:.0f} s" if event.timeout else ""
    clock = f" ({DEMO_TIME})" if demo_time and bar else ""
    return f"{mark} {bar}{event.message}{limit}{clock}"


class ProgressLine:
    """A progress line updated in place: a display handle in Jupyter, printed lines anywhere else."""

    demo_time = False  # set by the workbench when the run waits on the demo's clock

    def __init__(self, title: str = "") -> None:
        self.title = title
        self.last = ""
        self.lines: list[str] = []  # every distinct line shown, oldest first
        self._handle: Any = None
        if _kernel_shell() is not None:
            display: Any = importlib.import_module("IPython.display").display
            self._handle = display(_Line(self._compose("starting…")), display_id=True)

    def _compose(self, text: str) -> str:
        return f"{self.title} {text}".strip() if self.title else text

    def show(self, text: str) -> None:
        line = self._compose(text)
        if line == self.last:
            return
        self.last = line
        self.lines.append(line)
        if self._handle is not None:
            self._handle.update(_Line(line))
        else:
            print(line, flush=True)

    def update(self, event: ProgressEvent) -> None:
        self.show(progress_text(event, demo_time=self.demo_time))

    def finish(self, text: str) -> None:
        self.show(text)


ProgressFactory = Callable[[str], ProgressLine]

# What `Workbench.async_client` may override (the AsyncEcsClient options a session does not fix).
_ASYNC_CLIENT_OPTIONS = frozenset(
    {"read_only", "signature", "retry", "timeout", "clock", "nonce", "on_throttled", "sleep", "http"}
)


# ---------------------------------------------------------------------------------------------------------
# The workbench: a session, a journal and the helpers a notebook calls
# ---------------------------------------------------------------------------------------------------------

_DONE = object()


def _as_ids(value: str | Collection[str] | None) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {part.strip() for part in value.split(",") if part.strip()}
    return {str(part).strip() for part in value}


@dataclass
class Workbench:
    """A session (client, emulator in demo mode), a journal, and time wired to the emulator's clock."""

    session: Session
    journal: Journal
    progress_factory: ProgressFactory = ProgressLine

    # -- what we are connected to ----------------------------------------------------------------------------

    @property
    def client(self) -> EcsClient:
        return self.session.client

    @property
    def emulator(self) -> Any:
        return self.session.emulator

    @property
    def demo(self) -> bool:
        return self.session.demo

    def async_client(self, **overrides: Any) -> AsyncEcsClient:
        """An `AsyncEcsClient` on the same endpoint and key (``async with nb.async_client() as c: ...``)."""
        check_keywords("async_client", overrides, _ASYNC_CLIENT_OPTIONS)
        return self.session.async_client(**overrides)

    def describe(self) -> str:
        return f"{self.session.describe()} · journal {self.journal.path}"

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"Workbench({self.describe()})"

    _repr_pretty_ = pretty

    def _repr_html_(self) -> str:
        mode = badge("DEMO — built-in emulator", "#0969da") if self.demo else badge("REAL ACCOUNT", "#cf222e")
        return f"<p>{mode} {html.escape(self.describe())}</p>"

    def close(self) -> None:
        self.session.close()

    # -- time (demo) -----------------------------------------------------------------------------------------

    @property
    def demo_time(self) -> bool:
        """True when runs wait on the in-process emulator's clock (demo time, faster than the wall clock)."""
        return self.emulator is not None

    def _clock(self) -> Callable[[], float] | None:
        return self.session.clock

    def _sleep(self, token: CancelToken) -> Callable[[float], object] | None:
        """How the workflow waits: real time on a real account; on the emulator, its clock's time."""
        return self.session.sleeper(token)

    def facts(self) -> PlatformFacts | None:
        """What the API does not expose: the emulator's knobs in demo mode; None (unknown) on an account."""
        return workflow.facts_now(self.session.facts_source)

    def _facts_source(self) -> workflow.FactsSource:
        return self.session.facts_source

    def advance(self, seconds: float) -> None:
        """Demo only: move the emulator's time forward (transitions that fall due finish)."""
        if self.emulator is None:
            raise NotebookError("advance() moves the emulator's time; this notebook is on a real account.")
        self.emulator.advance(seconds)

    # -- reading ---------------------------------------------------------------------------------------------

    def regions(self) -> Table:
        return regions_table(self.client.describe_regions())

    def instances(self, **filters: Any) -> Table:
        """Instances matching the filters (``status=``, ``region_id=``, ``zone_id=``, ``tag=[...]``, ...;
        `INSTANCE_FILTERS` lists them all); an unknown keyword is an error, never ignored."""
        wanted = _filters("instances", filters, INSTANCE_FILTERS)
        region = wanted.get("region_id") or self.session.region_id
        return instances_table(self.client.list_instances(**wanted), f"Instances in {region}")

    def disks(self, **filters: Any) -> Table:
        """Disks matching the filters (``status=``, ``instance_id=``, ``disk_type=``, ...; `DISK_FILTERS`
        lists them all); an unknown keyword is an error, never ignored."""
        wanted = _filters("disks", filters, DISK_FILTERS)
        region = wanted.get("region_id") or self.session.region_id
        return disks_table(self.client.list_disks(**wanted), f"Disks in {region}")

    def inventory(self, regions: Sequence[str] | None = None) -> Inventory:
        return self.client.inventory(regions)

    def check_fleet(self, inventory: Inventory | None = None) -> FleetChecks:
        """Every attachment in the fleet (every region, or the inventory given) checked for DetachDisk."""
        inv = inventory if inventory is not None else self.inventory()
        reports = check_fleet(inv.disks, inv.instances, self.facts())
        errors = {region: str(exc) for region, exc in inv.errors.items()}
        return FleetChecks(tuple(reports), tuple(inv.regions), errors)

    def check(self, disk_id: str, *, instance_id: str | None = None, **options: Any) -> Preconditions:
        """Read the disk and its instance now and check every DetachDisk precondition (`options`: the fields
        of `DetachOptions`, e.g. ``allow_stop=True``)."""
        check_keywords("check", options, DETACH_OPTIONS - {"instance_id"})
        opts = DetachOptions(instance_id=instance_id, **options)
        return workflow.inspect(
            self.client, disk_id, opts, facts=self._facts_source(), guest_time=self._guest_time()
        )

    def _guest_time(self) -> workflow.GuestTime:
        """How a guest read (``guest_check=True``) waits for its probe: the emulator's time, or real time."""
        sleep, clock = self._sleep(CancelToken()), self._clock()
        if sleep is None or clock is None:
            return workflow.GuestTime()
        return workflow.GuestTime(sleep=sleep, clock=clock)

    def plan(
        self,
        disk_id: str,
        *,
        instance_id: str | None = None,
        allow_stop: bool = False,
        force_stop: bool = False,
        restart: bool = False,
        delete_with_instance: bool | None = None,
        snapshot: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        guest_check: bool = False,
        unmount: bool = False,
        guest: bool | None = None,
    ) -> Plan:
        """Fresh preconditions and the plan to detach `disk_id` (nothing is sent). `snapshot=True` takes a
        snapshot of the disk first (CreateSnapshot, billed) and detaches once it is accomplished.
        With `guest_check`, the guest is read through Cloud Assistant (the guest rows), as `check` and
        `bulk_plan` read it; with `unmount`, a disk in use there is released first. (`guest=` is the old
        name of `guest_check=`: it still works, with a DeprecationWarning.)

        Planned with the workbench's journal, as the CLI and the TUI plan: a detach an earlier, killed run
        left under way is followed, and an instance that run stopped is named in the warnings (left
        Stopped, with the command to start it) or, with `restart`, started again afterwards."""
        opts = DetachOptions(
            instance_id=instance_id,
            delete_with_instance=delete_with_instance,
            allow_stop=allow_stop,
            force_stop=force_stop,
            restart=restart,
            snapshot=snapshot,
            guest_check=_guest_check("plan", guest_check, guest) or unmount,
            unmount=unmount,
        )
        return workflow.prepare(
            self.client,
            disk_id,
            opts,
            facts=self._facts_source(),
            timeout=timeout,
            journal=self.journal,
            guest_time=self._guest_time(),
        )

    # -- confirmation ----------------------------------------------------------------------------------------

    def _writable(self) -> None:
        if self.session.read_only:
            how = (
                f"arm writes by typing the profile name: nb.session.arm_writes({self.session.arm_name!r})"
                if self.session.protected
                else "connect with read_only=False"
            )
            raise NotebookError(f"Nothing was sent: this session is read-only; {how}.")

    def _require(self, plan: Plan, confirm: str | None, confirm_stop: str | None, verb: str) -> None:
        self._writable()
        call = plan.action if plan.action in ("detach", "move") else "undo"
        if confirm is None or not str(confirm).strip():
            raise ConfirmationRequired(
                f"Nothing was sent. To {verb} disk {plan.disk_id}, name it: "
                f"nb.{call}(plan, confirm={plan.disk_id!r})"
            )
        if str(confirm).strip() != plan.disk_id:
            raise ConfirmationRequired(
                f"Nothing was sent: confirm names {str(confirm).strip()!r}, but this plan is for disk "
                f"{plan.disk_id}."
            )
        if plan.has_step(StepKind.STOP_INSTANCE) and (confirm_stop or "").strip() != plan.instance_id:
            raise ConfirmationRequired(
                f"Nothing was sent: this plan stops instance {plan.instance_id} (whatever runs on it goes "
                f"down). Name it too: confirm_stop={plan.instance_id!r}"
            )

    # -- running, with progress, interruptible ---------------------------------------------------------------

    def _drive(
        self, work: Callable[[CancelToken, Callable[[ProgressEvent], None]], T], title: str
    ) -> tuple[T, ProgressLine]:
        """Run `work` in a worker thread; show its progress here; Ctrl-C / interrupt cancels the wait only."""
        token = CancelToken()
        events: queue.SimpleQueue[object] = queue.SimpleQueue()
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = work(token, events.put)
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc
            finally:
                events.put(_DONE)

        progress = self.progress_factory(title)
        progress.demo_time = self.demo_time
        worker = threading.Thread(target=target, name="ecs-detach-notebook", daemon=True)
        worker.start()
        interrupted = False
        while True:
            try:
                item = events.get(timeout=0.2)
                if item is _DONE:
                    break
                if isinstance(item, ProgressEvent):
                    progress.update(item)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                token.cancel()
                if not interrupted:
                    interrupted = True
                    progress.show(
                        "■ Interrupted: stopping the wait (the call in flight finishes and is journaled; "
                        "the operation goes on in the cloud)…"
                    )
        while worker.is_alive():  # the worker has reported; let it finish writing, even on a second Ctrl-C
            try:
                worker.join(0.2)
            except KeyboardInterrupt:
                token.cancel()
        if "error" in box:
            raise box["error"]
        return box["result"], progress

    def _finish(self, progress: ProgressLine, result: RunResult) -> RunResult:
        tail = f" — disk now {result.disk.status}" if result.disk is not None else ""
        if result.elapsed:
            clock = f" of {DEMO_TIME}" if self.demo_time else ""
            tail += f" · took {result.elapsed:.0f} s{clock}"
        progress.finish(
            f"{outcome_label(result.outcome.value)}: {result.message}{tail}{self._undo_hint(result)}"
        )
        return result

    def _undo_hint(self, result: RunResult) -> str:
        """How to undo a run whose DetachDisk took effect (the journal says so), in this notebook's API; ""
        for anything else (nothing detached, or a move: the disk is attached elsewhere now)."""
        done = took_effect(self.journal.operations(), result.operation_ids)
        detached = [intent for intent in done if intent.action == "DetachDisk"]
        if not detached or any(intent.action == "AttachDisk" for intent in done):
            return ""
        disk = detached[-1].disk_id
        return f" · undo: nb.undo(nb.undo_plan({disk!r}), confirm={disk!r})"

    def _run(self, plan: Plan, *, timeout: float | None, **secrets: str | None) -> RunResult:
        def work(token: CancelToken, report: Callable[[ProgressEvent], None]) -> RunResult:
            return workflow.run(
                self.client,
                plan,
                journal=self.journal,
                facts=self._facts_source(),
                on_progress=report,
                cancel=token,
                clock=self._clock(),
                sleep=self._sleep(token),
                timeout=timeout,
                **secrets,
            )

        result, progress = self._drive(work, f"[{plan.action} {plan.disk_id}]")
        return self._finish(progress, result)

    def detach(
        self,
        plan: Plan,
        *,
        confirm: str | None = None,
        confirm_stop: str | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Run a detach plan, once `confirm` names its disk (and `confirm_stop` its instance, if it stops it).

        Preconditions are read again before every call; progress shows in place; an interrupt stops the
        waiting, never the operation.
        """
        if plan.action != "detach":
            raise NotebookError(f"This is a {plan.action} plan; run it with nb.undo(plan, confirm=...).")
        self._require(plan, confirm, confirm_stop, "detach")
        return self._run(plan, timeout=timeout)

    async def detach_async(
        self,
        plan: Plan,
        *,
        confirm: str | None = None,
        confirm_stop: str | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """`detach` for ``await`` in a notebook cell: the kernel stays responsive while it waits."""
        if plan.action != "detach":
            raise NotebookError(f"This is a {plan.action} plan; run it with nb.undo(plan, confirm=...).")
        self._require(plan, confirm, confirm_stop, "detach")
        loop = asyncio.get_running_loop()
        progress = self.progress_factory(f"[{plan.action} {plan.disk_id}]")
        progress.demo_time = self.demo_time
        token = CancelToken()

        def report(event: ProgressEvent) -> None:
            loop.call_soon_threadsafe(progress.update, event)

        try:
            result = await workflow.run_async(
                self.client,
                plan,
                journal=self.journal,
                facts=self._facts_source(),
                on_progress=report,
                cancel=token,
                clock=self._clock(),
                sleep=self._sleep(token),
                timeout=timeout,
            )
        except (asyncio.CancelledError, KeyboardInterrupt):
            token.cancel()
            progress.show("■ Interrupted: stopped waiting; the operation goes on in the cloud.")
            raise
        await asyncio.sleep(0)  # let queued progress updates land before the final line
        return self._finish(progress, result)

    def move_plan(
        self,
        disk_id: str,
        to: str,
        *,
        allow_stop_source: bool = False,
        restart_source: bool = False,
        stop_target: bool = False,
        start_target: bool = False,
        snapshot: bool = False,
        guest_check: bool = False,
        unmount: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        guest: bool | None = None,
    ) -> workflow.MovePlan:
        """Both sides read and checked, and the one plan that moves `disk_id` to instance `to` (DetachDisk
        here, AttachDisk there; nothing is sent). `move.describe()` shows the checks and the steps. With
        `guest_check`, the source's guest is read as `plan(..., guest_check=True)` reads it; with `unmount`,
        a disk mounted there is released first. (`guest=` is the old name of `guest_check=`: it still
        works, with a DeprecationWarning.)"""
        options = workflow.MoveOptions(
            target_instance_id=to,
            allow_stop_source=allow_stop_source,
            restart_source=restart_source,
            stop_target=stop_target,
            start_target=start_target,
            snapshot=snapshot,
            guest_check=_guest_check("move_plan", guest_check, guest) or unmount,
            unmount=unmount,
        )
        return workflow.prepare_move(
            self.client,
            disk_id,
            options,
            facts=self._facts_source(),
            timeout=timeout,
            journal=self.journal,
            guest_time=self._guest_time(),
        )

    def move(
        self,
        move: workflow.MovePlan,
        *,
        confirm: str | None = None,
        confirm_stop: str | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Run a move plan once `confirm` names its disk (and `confirm_stop` the instance it stops, if any).
        A failure between the halves leaves the disk Available, and the result says so."""
        if not move.executable:
            raise NotebookError(f"Nothing was sent: this move cannot run. {move.refusal}")
        self._require(move.plan, confirm, confirm_stop, "move")

        def work(token: CancelToken, report: Callable[[ProgressEvent], None]) -> RunResult:
            return workflow.run_move(
                self.client,
                move,
                journal=self.journal,
                facts=self._facts_source(),
                on_progress=report,
                cancel=token,
                clock=self._clock(),
                sleep=self._sleep(token),
                timeout=timeout,
            )

        result, progress = self._drive(work, f"[move {move.disk_id} to {move.target_instance_id}]")
        return self._finish(progress, result)

    def follow(self, disk_id: str, instance_id: str, *, timeout: float = DEFAULT_TIMEOUT) -> RunResult:
        """Follow a detach already under way (say, after an interrupted wait) until the disk is detached."""

        def work(token: CancelToken, report: Callable[[ProgressEvent], None]) -> RunResult:
            return workflow.follow(
                self.client,
                disk_id,
                instance_id,
                facts=self._facts_source(),
                on_progress=report,
                cancel=token,
                clock=self._clock(),
                sleep=self._sleep(token),
                timeout=timeout,
            )

        result, progress = self._drive(work, f"[follow {disk_id}]")
        return self._finish(progress, result)

    # -- the journal and undo --------------------------------------------------------------------------------

    def journal_table(self) -> Table:
        """Every mutating call this journal recorded: intent, outcome (PENDING if none), request id."""
        return journal_table(self.journal.operations(rotated=True))

    def reconcile(self) -> Table:
        """Settle intents without an outcome by reading the live state; the outcomes appended."""
        appended = self.journal.reconcile(self.client)
        columns = (
            Column("Action", "action", lambda r: r.action),
            Column("Disk", "disk_id", lambda r: r.disk_id or "-"),
            Column("Instance", "instance_id", lambda r: r.instance_id or "-"),
            Column("Result", "result", lambda r: r.result),
            Column("Why", "message", lambda r: r.message),
        )
        return Table.build(appended, columns, "Reconciled")

    def last_detach(self, disk_id: str) -> JournalRecord:
        found = self.journal.last_detach(disk_id, rotated=True)
        if found is None:
            raise NotebookError(
                f"The journal {self.journal.path} has no detach of disk {disk_id} that went through: "
                "nothing to undo."
            )
        return found[0]

    def undo_plan(
        self,
        disk_id: str,
        *,
        credential: str | None = None,
        start_after: bool = False,
        remount: bool = True,
    ) -> Plan:
        """The plan to attach `disk_id` back where the journal says it was detached from (nothing is sent).

        For a system disk, `credential` is "password" or "key-pair" (what you will pass to `undo`). When our
        unmount preceded the detach, it mounts the disk back in the guest too (Windows: brings it online
        again), unless `remount=False`."""
        record = self.last_detach(disk_id)
        return workflow.prepare_reattach(
            self.client,
            record,
            credential=credential,
            start_after=start_after,
            facts=self._facts_source(),
            remount=remount,
        )

    def undo(
        self,
        plan: Plan,
        *,
        confirm: str | None = None,
        password: str | None = None,
        key_pair_name: str | None = None,
        timeout: float | None = None,
    ) -> RunResult:
        """Re-attach (undo a detach) once `confirm` names the disk. A password goes to the API only."""
        if plan.action != "reattach":
            raise NotebookError("This is a detach plan; run it with nb.detach(plan, confirm=...).")
        self._require(plan, confirm, None, "re-attach")
        return self._run(plan, timeout=timeout, password=password, key_pair_name=key_pair_name)

    # -- bulk ------------------------------------------------------------------------------------------------

    def in_region(self, region_id: str) -> Workbench:
        """The same session, key, journal and time, aimed at another region."""
        if region_id == self.session.region_id:
            return self
        client = self.session.client_for(region_id)
        session = replace(
            self.session, client=client, region_id=region_id, endpoint=client.endpoint, _owned=None
        )
        return Workbench(session, self.journal, self.progress_factory)

    def bulk_plan(self, disks: Iterable[str | Disk], **options: Any) -> list[Plan]:
        """A plan per disk, each on fresh preconditions (nothing is sent); render with `bulk_table`.

        Disks given as `Disk` objects are planned in their own region (a fleet-wide list works);
        ids are looked up in the session's region. `options`: the fields of `DetachOptions`. With
        ``guest_check=True`` the guests are read as `plan(guest=True)` reads one (each instance's once,
        several at once): a disk mounted there is refused unless ``unmount=True``, which releases it first."""
        check_keywords("bulk_plan", options, DETACH_OPTIONS)
        wanted = [
            (d, self.session.region_id) if isinstance(d, str) else (d.disk_id, d.region_id) for d in disks
        ]
        by_region: dict[str, list[int]] = {}
        for index, (_, region) in enumerate(wanted):
            by_region.setdefault(region, []).append(index)
        plans: list[Plan | None] = [None] * len(wanted)
        for region, indexes in by_region.items():
            items = [workflow.BulkItem(wanted[i][0], DetachOptions(**options)) for i in indexes]
            bench = self.in_region(region)
            for index, plan in zip(
                indexes,
                workflow.prepare_bulk(
                    bench.client,
                    items,
                    facts=self._facts_source(),
                    journal=self.journal,
                    guest_time=self._guest_time(),
                ),
                strict=True,
            ):
                plans[index] = plan
        return [plan for plan in plans if plan is not None]

    @staticmethod
    def bulk_table(plans: Iterable[Plan]) -> Table:
        return bulk_plans_table(plans)

    def detach_all(
        self,
        plans: Sequence[Plan],
        *,
        confirm: str | Collection[str] | None = None,
        confirm_stop: str | Collection[str] | None = None,
        concurrency: int = 4,
        timeout: float | None = None,
    ) -> BulkReport:
        """Run the plans that can run, once `confirm` lists exactly their disk ids (and `confirm_stop`
        the instances any of them stops). Plans that cannot run are reported, never sent."""
        self._writable()
        runnable = [p for p in plans if p.executable and not p.nothing_to_do]
        wanted = {p.disk_id for p in runnable}
        named = _as_ids(confirm)
        if not named or named != wanted:
            missing, extra = sorted(wanted - named), sorted(named - wanted)
            detail = []
            if missing:
                detail.append(f"not named: {', '.join(missing)}")
            if extra:
                detail.append(f"named but not runnable here: {', '.join(extra)}")
            raise ConfirmationRequired(
                f"Nothing was sent. {len(runnable)} plan(s) can run; name every disk they detach: "
                f"confirm={sorted(wanted)!r}" + (f" ({'; '.join(detail)})" if named else "")
            )
        stops = {p.instance_id for p in runnable if p.has_step(StepKind.STOP_INSTANCE)}
        if stops and _as_ids(confirm_stop) != stops:
            raise ConfirmationRequired(
                f"Nothing was sent: these plans stop instance(s) {', '.join(sorted(stops))}. "
                f"Name them too: confirm_stop={sorted(stops)!r}"
            )

        by_region: dict[str, list[int]] = {}
        for index, plan in enumerate(plans):
            by_region.setdefault(plan.region_id or self.session.region_id, []).append(index)

        def work(token: CancelToken, report: Callable[[ProgressEvent], None]) -> BulkReport:
            def run_region(region: str) -> BulkReport:
                bench = self.in_region(region)
                return workflow.run_bulk(
                    bench.client,
                    [plans[i] for i in by_region[region]],
                    concurrency=concurrency,
                    journal=self.journal,
                    facts=self._facts_source(),
                    on_progress=report,
                    cancel=token,
                    clock=self._clock(),
                    sleep=self._sleep(token),
                    timeout=timeout,
                )

            results: list[RunResult | None] = [None] * len(plans)
            with ThreadPoolExecutor(max_workers=max(1, len(by_region))) as pool:
                for region, part in zip(by_region, pool.map(run_region, by_region), strict=True):
                    for index, result in zip(by_region[region], part.results, strict=True):
                        results[index] = result
            return BulkReport(tuple(r for r in results if r is not None), tuple(plans))

        bulk, progress = self._drive(work, f"[bulk: {len(runnable)} disk(s)]")
        progress.finish(f"{len(bulk.succeeded)} of {len(bulk.results)} disk(s) done, {len(bulk.failed)} not.")
        return bulk


# ---------------------------------------------------------------------------------------------------------
# Connecting
# ---------------------------------------------------------------------------------------------------------


def connect(
    *,
    use_emulator: bool = True,
    time_scale: float = 60.0,
    clock: Any = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint: str | None = None,
    read_only: bool = False,
    journal_path: str | Path | None = None,
    fleet: str | Path | Mapping[str, Any] = "demo",
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Workbench:
    """The notebook's session: the built-in emulator (default), or a real account from the standard chain.

    On the emulator, virtual time runs `time_scale` times as fast (a one-minute detach takes a second
    at 60), unless `clock` gives another (``ManualClock()``, ``ImmediateClock()``); the journal is a fresh
    file in a temporary directory unless `journal_path` says otherwise. On a real account the journal is
    the usual one (``~/.local/state/ecs-detach/journal.jsonl``) and waits take real time.
    """
    from ecs_detach.credentials import CredentialsError
    from ecs_detach.session import open_client

    if use_emulator:
        if clock is None:
            from ecs_detach.emulator import ScaledClock

            clock = ScaledClock(time_scale)
        session = open_client(
            demo=True, region=region, endpoint=endpoint, read_only=read_only, clock=clock, fleet=fleet
        )
        path = (
            Path(journal_path)
            if journal_path is not None
            else Path(tempfile.mkdtemp(prefix="ecs-detach-demo-")) / "journal.jsonl"
        )
        return Workbench(session, Journal(path))
    try:
        session = open_client(
            profile=profile, region=region, endpoint=endpoint, read_only=read_only, env=env, home=home
        )
    except CredentialsError as exc:
        raise NotebookError(
            f"No credentials for a real account: {exc} (or set USE_EMULATOR = True to use the emulator)"
        ) from None
    return Workbench(session, Journal(journal_path))
