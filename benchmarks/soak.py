"""Soak: concurrent operators detach and re-attach disks against ``ecs-detach emulator`` under faults.

    python benchmarks/soak.py [--seconds 60 | --workflows N] [--clients 8] [--fault-rate 0.2] [--json]

Starts ``ecs-detach emulator`` in a child process (``EcsEmulatorServer``) on a generated fleet, its virtual
time running ``--time-scale`` (200) times real time, with ``--fault-rate`` injected faults of every kind
(500, 503, throttling with and without retry-after, connection reset, reply lost after the action). Then
``--clients`` threads, each an operator with its own client and journal and six disks of its own instances,
work through their disks in turn, for ``--seconds`` or for exactly ``--workflows`` workflows in all (the
test suite's mode: no count depends on the machine's speed). A workflow toggles one disk: it detaches it
through the workflow if it is attached, re-attaches it (undo, from the journal) if it is Available, and runs
again from a fresh read after a failure an injected fault caused, until the disk is where it takes it. A
monitor collects the emulator's request log as it goes.

At the end the faults stop, virtual time moves on until every transition is over, and the state is checked:
every disk's attachments agree with every instance's (the API's per-instance view equals the disks that name
the instance, statuses match attachments, no device used twice, at most one system disk per instance); no disk
was detached twice without an attach in between; no journal holds an intent without an outcome. Errors are
sorted into the injected ones (a fault's code, a lost answer) and the rest; exit status 0 only if there is no
other error and the state is consistent.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ecs_detach import workflow
from ecs_detach.client import EcsClient, emulator_credentials
from ecs_detach.emulator.generate import generate_fleet
from ecs_detach.emulator.testing import EcsEmulatorServer
from ecs_detach.errors import ApiError, EcsError, TransportError
from ecs_detach.journal import Journal, JournalRecord
from ecs_detach.models import DISK_AVAILABLE, DISK_IN_USE
from ecs_detach.preconditions import DetachOptions, PlatformFacts, facts_from_fleet
from ecs_detach.retry import RetryPolicy
from ecs_detach.workflow import RunResult

FAULT_KINDS = [
    "internal_error",
    "service_unavailable",
    "throttling",
    "throttling_retry_after",
    "reset",
    "lost_response",
]
INJECTED_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "Throttling", "Throttling.User", "TransportError", "Throttled"}
)
DATA_DISKS_PER_CLIENT = 6
MAX_ATTEMPTS = 20  # reads of one workflow before it counts as not ended
TRANSITION_WAIT = 5.0  # virtual seconds between reads of a disk in transition


# --- the emulator ---------------------------------------------------------------------------------


class RequestLog:
    """Collects the emulator's request log while the soak runs: read every few seconds, new entries kept by
    sequence number. The emulator keeps the last 10 000 calls, far more than arrive between two reads; a gap
    in the sequence would be counted in ``missed`` (and the double-detach check would say it is incomplete).
    """

    interval = 3.0

    def __init__(self, control: httpx.Client) -> None:
        self.control = control
        self.entries: list[dict[str, Any]] = []
        self.last_seq = 0
        self.missed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-monitor", daemon=True)

    def start(self) -> RequestLog:
        self._thread.start()
        return self

    def collect(self) -> None:
        body = self.control.get("/_emulator/requests").json()
        for entry in body["requests"]:
            seq = int(entry["seq"])
            if seq <= self.last_seq:
                continue
            self.missed += seq - self.last_seq - 1  # fell out of the emulator's bounded log before we read it
            self.last_seq = seq
            self.entries.append(entry)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.collect()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.collect()


# --- the operators --------------------------------------------------------------------------------


@dataclass
class Operator:
    name: str
    disks: list[tuple[str, str]]  # (disk id, its home instance)
    journal: Journal
    outcomes: Counter[str] = field(default_factory=Counter)  # every run of a workflow, by kind and outcome
    ended: Counter[str] = field(default_factory=Counter)  # workflows that reached their goal, by kind
    injected: Counter[str] = field(default_factory=Counter)
    other_errors: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    reads: int = 0


def _injected(result: RunResult) -> bool:
    text = result.message
    return result.code in INJECTED_CODES or any(
        marker in text
        for marker in (
            "no answer",
            "lost",
            "InternalError",
            "ServiceUnavailable",
            "Throttling",
            "could not reach",
        )
    )


def workflow_share(workflows: int, clients: int, n: int) -> int:
    """Operator `n`'s share of `workflows`: even shares, the first ones one more when they do not divide."""
    return workflows // clients + (n < workflows % clients)


def operate(
    op: Operator,
    url: str,
    facts: PlatformFacts,
    scale: float,
    seed: int,
    *,
    deadline: float | None = None,
    workflows: int | None = None,
) -> None:
    """Work until `deadline` (monotonic seconds) or for exactly `workflows` workflows, whichever is given."""

    def sleep(seconds: float) -> None:
        time.sleep(max(0.0, seconds) / scale)

    def clock() -> float:
        return time.monotonic() * scale

    client = EcsClient(
        emulator_credentials(),
        "cn-hangzhou",
        endpoint=url,
        profile_name="demo",
        retry=RetryPolicy(seed=seed),
        sleep=sleep,
    )
    kw: dict[str, Any] = {"journal": op.journal, "facts": facts, "clock": clock, "sleep": sleep}
    try:
        for n, (disk_id, home) in enumerate(itertools.cycle(op.disks)):
            if (deadline is not None and time.monotonic() >= deadline) or n == workflows:
                return
            _toggle(op, client, kw, disk_id, home)
    except Exception as exc:  # a bug: never hidden
        op.other_errors.append(f"crashed: {type(exc).__name__}: {exc}")
    finally:
        client.close()


def _toggle(op: Operator, client: EcsClient, kw: dict[str, Any], disk_id: str, home: str) -> None:
    """One workflow: detach the disk if it is attached at home, re-attach it if it is Available; run again
    (from a fresh read) after a failure from an injected fault, until the disk is where the workflow takes
    it. At most `MAX_ATTEMPTS` attempts: past that, the workflow did not end, an error."""
    kind = ""
    for _ in range(MAX_ATTEMPTS):
        try:
            disk = client.get_disk(disk_id)
            op.reads += 1
            attached = disk.status == DISK_IN_USE and home in disk.attached_instance_ids
            available = disk.status == DISK_AVAILABLE
            if kind and (available if kind == "detach" else attached):
                op.ended[kind] += 1  # the goal was reached by an earlier run whose answer was lost
                return
            if not (attached or available):
                kw["sleep"](TRANSITION_WAIT)  # a transition under way: read again once it is due
                continue
            kind = kind or ("detach" if attached else "re-attach")
            started = time.monotonic()
            result = _run_workflow(op, client, kw, disk_id, home, kind)
        except (ApiError, TransportError) as exc:  # a read (the disk's, the plan's) failed past its retries
            code = exc.code if isinstance(exc, ApiError) else "TransportError"
            if code not in INJECTED_CODES:
                op.other_errors.append(f"{disk_id}: read failed: {exc}")
                return
            op.injected[f"read {code}"] += 1
            continue
        except EcsError as exc:
            op.other_errors.append(f"{disk_id}: {type(exc).__name__}: {exc}")
            return
        op.durations.append(time.monotonic() - started)
        op.outcomes[f"{kind} {result.outcome.value}"] += 1
        if result.ok:
            op.ended[kind] += 1
            return
        if not _injected(result):
            op.other_errors.append(f"{disk_id} {kind}: {result.outcome.value}: {result.message}")
            return
        op.injected[f"{kind} {result.outcome.value}"] += 1
    op.other_errors.append(f"{disk_id} {kind or 'workflow'}: did not end in {MAX_ATTEMPTS} attempts")


def _run_workflow(
    op: Operator, client: EcsClient, kw: dict[str, Any], disk_id: str, home: str, kind: str
) -> RunResult:
    if kind == "detach":
        options = DetachOptions(allow_stop=True, restart=True)
        plan = workflow.prepare(client, disk_id, options, facts=kw["facts"], journal=op.journal)
        return workflow.run(client, plan, **kw)
    last = op.journal.last_detach(disk_id, rotated=True)
    record = last[0] if last else _detach_record(disk_id, home)
    return workflow.reattach(client, record, **kw)


def _detach_record(disk_id: str, instance_id: str) -> JournalRecord:
    """A detach nobody journaled (it went through on a lost answer, never reconciled): undo it anyway."""
    return JournalRecord(
        "intent",
        "soak",
        "DetachDisk",
        "",
        disk_id=disk_id,
        instance_id=instance_id,
        context={"disk_type": "data"},
    )


# --- the checks -----------------------------------------------------------------------------------


def consistency_problems(state: Mapping[str, Any], per_instance: Mapping[str, set[str]]) -> list[str]:
    """The snapshot agrees with itself, and with the API's view of each instance's disks."""
    problems: list[str] = []
    instances = {i["InstanceId"] for i in state["Instances"]}
    naming: dict[str, set[str]] = {i: set() for i in instances}
    devices: Counter[tuple[str, str]] = Counter()
    systems: Counter[str] = Counter()
    for disk in state["Disks"]:
        attachments = [
            a for a in (disk.get("Attachments") or {}).get("Attachment") or [] if a.get("InstanceId")
        ]
        owners = [a["InstanceId"] for a in attachments] or (
            [disk["InstanceId"]] if disk.get("InstanceId") else []
        )
        if disk["Status"] in ("In_use", "Detaching", "Attaching") and not owners:
            problems.append(f"{disk['DiskId']} is {disk['Status']} but attached nowhere")
        if disk["Status"] == "Available" and owners:
            problems.append(f"{disk['DiskId']} is Available but attached to {owners}")
        if disk["Status"] in ("Detaching", "Attaching"):
            problems.append(f"{disk['DiskId']} is still {disk['Status']} after every transition was due")
        for owner in owners:
            if owner not in instances:
                problems.append(f"{disk['DiskId']} names {owner}, which does not exist")
                continue
            naming[owner].add(disk["DiskId"])
            systems[owner] += disk.get("Type") == "system"
        for attachment in attachments:
            devices[(attachment["InstanceId"], attachment.get("Device", ""))] += 1
    problems += [f"{owner} has {n} system disks" for owner, n in systems.items() if n > 1]
    problems += [f"device {d} used {n} times on {i}" for (i, d), n in devices.items() if d and n > 1]
    for instance_id, seen in per_instance.items():
        if seen != naming.get(instance_id, set()):
            problems.append(
                f"{instance_id}: the API lists {sorted(seen)}, the disks name {sorted(naming[instance_id])}"
            )
    return problems


def double_detaches(entries: list[dict[str, Any]]) -> list[str]:
    """Disks detached twice with no attach in between (from the applied calls in the request log)."""
    attached_again: dict[str, bool] = {}
    problems: list[str] = []
    for entry in sorted(entries, key=lambda e: int(e["seq"])):
        if entry.get("status") != 200:
            continue
        disk_id = str(entry["params"].get("DiskId", ""))
        if entry["action"] == "DetachDisk":
            if attached_again.get(disk_id) is False:
                problems.append(f"{disk_id} detached twice (request {entry['request_id']})")
            attached_again[disk_id] = False
        elif entry["action"] == "AttachDisk":
            attached_again[disk_id] = True
    return problems


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Soak:
    """What a soak run leaves: the figures, and (for a test to judge) the operators, their journals, the
    request log and the final state."""

    figures: dict[str, Any]
    operators: list[Operator]
    entries: list[dict[str, Any]]
    state: dict[str, Any]


def soak_fleet(clients: int, seed: int) -> dict[str, Any]:
    """A generated fleet of four instances an operator, all in one zone, Running, unlocked, hot-detachable."""
    instances = clients * 4
    fleet = generate_fleet(instances=instances, disks=instances * 5, regions=1, seed=seed)
    fleet["Regions"] = [{"RegionId": "cn-hangzhou"}]
    for item in (*fleet["Instances"], *fleet["Disks"]):
        item["RegionId"] = "cn-hangzhou"
        item["ZoneId"] = "cn-hangzhou-h"
    for instance in fleet["Instances"]:
        instance.update(Status="Running", InstanceType="ecs.g7.large")
        instance.pop("OperationLocks", None)
    fleet["Emulator"] = {"DefaultRegion": "cn-hangzhou", "RateLimits": {}}
    return fleet


def soak(
    journals: Path,
    *,
    clients: int = 8,
    fault_rate: float = 0.2,
    time_scale: float = 200.0,
    seed: int = 1,
    seconds: float | None = None,
    workflows: int | None = None,
) -> Soak:
    """Run the operators for `seconds`, or for exactly `workflows` workflows in all (spread over the
    operators, the first ones taking one more when they do not divide evenly); journals go to `journals`."""
    if (seconds is None) == (workflows is None):
        raise ValueError("give seconds or workflows, not both")
    fleet = soak_fleet(clients, seed)
    homes = [i["InstanceId"] for i in fleet["Instances"]]
    data = [
        (d["DiskId"], d["InstanceId"]) for d in fleet["Disks"] if d["Type"] == "data" and d.get("InstanceId")
    ]
    with EcsEmulatorServer(fleet, time_scale=time_scale) as server:
        url = server.url
        control = httpx.Client(base_url=url, timeout=30)
        facts = facts_from_fleet(control.get("/_emulator/state").json())
        operators = []
        for n in range(clients):
            mine = set(homes[n::clients])
            disks = [d for d in data if d[1] in mine][:DATA_DISKS_PER_CLIENT]
            operators.append(Operator(f"op{n}", disks, Journal(journals / f"op{n}.jsonl")))
        control.post(
            "/_emulator/faults", json={"rate": fault_rate, "kinds": FAULT_KINDS, "seed": seed}
        ).raise_for_status()
        log = RequestLog(control).start()
        started = time.monotonic()
        deadline = None if seconds is None else started + seconds
        shares = [
            None if workflows is None else workflow_share(workflows, clients, n) for n in range(clients)
        ]
        threads = [
            threading.Thread(
                target=operate,
                args=(op, url, facts, time_scale, seed + n),
                kwargs={"deadline": deadline, "workflows": shares[n]},
                name=op.name,
            )
            for n, op in enumerate(operators)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        control.delete("/_emulator/faults").raise_for_status()
        log.stop()
        control.post("/_emulator/clock", json={"advance_seconds": 3600}).raise_for_status()
        state = control.get("/_emulator/state").json()
        with EcsClient(emulator_credentials(), "cn-hangzhou", endpoint=url) as reader:
            per_instance = {i: {d.disk_id for d in reader.list_disks(instance_id=i)} for i in homes}
        pending = [f"{op.name}: {r.action} {r.disk_id}" for op in operators for r in op.journal.pending()]
        control.close()
    problems = (
        consistency_problems(state, per_instance)
        + double_detaches(log.entries)
        + [f"journal: intent without an outcome: {p}" for p in pending]
    )
    figures = _figures(operators, log, elapsed, problems, clients=clients, fault_rate=fault_rate)
    return Soak(figures, operators, log.entries, state)


def _figures(
    operators: list[Operator],
    log: RequestLog,
    elapsed: float,
    problems: list[str],
    *,
    clients: int,
    fault_rate: float,
) -> dict[str, Any]:
    entries = log.entries
    faults = Counter(str(e["fault"]) for e in entries if e.get("fault"))
    applied = Counter(
        e["action"] for e in entries if e.get("status") == 200 and e["action"] in ("DetachDisk", "AttachDisk")
    )
    outcomes = sum((op.outcomes for op in operators), Counter())
    ended = sum((op.ended for op in operators), Counter())
    injected = sum((op.injected for op in operators), Counter())
    errors = [f"{op.name}: {e}" for op in operators for e in op.other_errors]
    durations = [d for op in operators for d in op.durations]
    return {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "fault_rate": fault_rate,
        "workflows": sum(ended.values()),
        "workflows_per_second": round(sum(ended.values()) / elapsed, 1),
        "ended": dict(sorted(ended.items())),
        "runs": sum(outcomes.values()),
        "outcomes": dict(sorted(outcomes.items())),
        "api_calls": log.last_seq,
        "api_calls_per_second": round(log.last_seq / elapsed, 1),
        "log_entries_missed": log.missed,
        "faults_injected": dict(sorted(faults.items())),
        "applied": dict(applied),
        "injected_failures": dict(sorted(injected.items())),
        "other_errors": errors,
        "workflow_seconds_p50": round(statistics.median(durations), 3) if durations else None,
        "workflow_seconds_p95": round(sorted(durations)[int(len(durations) * 0.95)], 3)
        if durations
        else None,
        "problems": problems,
        "ok": not errors and not problems,
    }


# --- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=float, help="how long the operators work (60 unless --workflows)")
    length.add_argument("--workflows", type=int, help="exactly this many workflows in all, however long")
    parser.add_argument("--clients", type=int, default=8, help="concurrent operators (8)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of calls that fail (0.2)")
    parser.add_argument("--time-scale", type=float, default=200.0, help="virtual seconds per real one (200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None or args.workflows is not None else 60.0
    with tempfile.TemporaryDirectory(prefix="ecs-soak-journals-") as tmp:
        figures = soak(
            Path(tmp),
            clients=args.clients,
            fault_rate=args.fault_rate,
            time_scale=args.time_scale,
            seed=args.seed,
            seconds=seconds,
            workflows=args.workflows,
        ).figures
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"soak: {figures['clients']} clients, {figures['seconds']} s, fault rate {args.fault_rate}")
        print(
            f"  workflows      {figures['workflows']} ({figures['workflows_per_second']}/s): "
            f"{figures['ended']}; {figures['runs']} runs: {figures['outcomes']}"
        )
        faults = figures["faults_injected"]
        print(f"  API calls      {figures['api_calls']} ({figures['api_calls_per_second']}/s), "
              f"faults injected {sum(faults.values())}: {faults}")  # fmt: skip
        print(f"  applied        {figures['applied']}; log entries missed: {figures['log_entries_missed']}")
        print(
            f"  workflow time  p50 {figures['workflow_seconds_p50']} s, "
            f"p95 {figures['workflow_seconds_p95']} s"
        )
        injected, errors, problems = (
            figures["injected_failures"],
            figures["other_errors"],
            figures["problems"],
        )
        print(f"  failures from injected faults: {sum(injected.values())} {injected}")
        print(f"  other errors   {len(errors)}" + "".join(f"\n    {e}" for e in errors[:20]))
        print(
            f"  consistency    {'ok' if not problems else 'PROBLEMS'}"
            + "".join(f"\n    {p}" for p in problems[:20])
        )
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
