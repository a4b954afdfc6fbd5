"""Crash: kill -9 a detach in flight at 20 seeded points; a fresh process picks up the pieces.

The emulator runs as the real ``ecs-detach emulator --port 0`` (its clock moved through the control API, so
waits cost no real time). ``crash_driver.py`` runs a detach in a subprocess and SIGKILLs itself at the chosen
point: before a mutation (intent written, request not sent), right after it (applied, outcome not written),
while waiting for the detach, while waiting for the stop, around the restart. Then this process, which shares
nothing with the dead one but the journal file, reconciles the journal against the live state and runs the
detach again. Nothing may be lost (every intent gets exactly one outcome, and the right one) or repeated (one
DetachDisk per disk, one StopInstance per instance).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_detach import workflow
from ecs_detach.client import EcsClient, emulator_credentials
from ecs_detach.journal import Journal, Result
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions, facts_from_fleet
from ecs_detach.workflow import Outcome

from .helpers import CliProcess, Server, applied, applied_per, journal_problems

DRIVER = Path(__file__).with_name("crash_driver.py")
SEED = 4242

FLEET: dict[str, Any] = {
    "Instances": [
        {"InstanceId": "i-app", "Status": "Running", "InstanceType": "ecs.g7.large"},
        {"InstanceId": "i-sys", "Status": "Running", "InstanceType": "ecs.g7.large"},
        {"InstanceId": "i-nohot", "Status": "Running", "InstanceType": "ecs.nohot"},
    ],
    "Disks": [
        {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-sys-root", "InstanceId": "i-sys", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-nohot-data", "InstanceId": "i-nohot", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-app-root", "InstanceId": "i-app", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-nohot-root", "InstanceId": "i-nohot", "Type": "system", "Status": "In_use"},
    ],
    # The guest probe's invocation finishes at once: this emulator's clock moves only when a test moves it.
    "Emulator": {"NoHotDetachInstanceTypes": ["ecs.nohot"], "Durations": {"RunCommand": 0}},
}
TIME_SCALE = 0.001  # the served emulator's clock moves when a test moves it (``Server.advance``)
SCENARIOS = {  # disk: (instance, what the plan does)
    "d-app-data": ("i-app", "detach a data disk from a Running instance"),
    "d-sys-root": ("i-sys", "stop, detach the system disk (left Stopped)"),
    "d-nohot-data": ("i-nohot", "stop, detach a data disk, start again"),
}
FIXED_POINTS = [
    ("d-app-data", "before:DetachDisk:1"),
    ("d-app-data", "after:DetachDisk:1"),
    ("d-app-data", "poll:wait-disk-detached:1"),
    ("d-app-data", "poll:wait-disk-detached:4"),
    ("d-sys-root", "before:StopInstance:1"),
    ("d-sys-root", "after:StopInstance:1"),
    ("d-sys-root", "poll:wait-instance-stopped:1"),
    ("d-sys-root", "before:DetachDisk:1"),
    ("d-sys-root", "after:DetachDisk:1"),
    ("d-sys-root", "poll:wait-disk-detached:2"),
    ("d-nohot-data", "after:StopInstance:1"),
    ("d-nohot-data", "poll:wait-instance-stopped:2"),
    ("d-nohot-data", "after:DetachDisk:1"),
    ("d-nohot-data", "poll:wait-disk-detached:3"),
    ("d-nohot-data", "before:StartInstance:1"),
    ("d-nohot-data", "after:StartInstance:1"),
    ("d-nohot-data", "poll:wait-instance-running:1"),
]


def crash_points() -> list[tuple[str, str]]:
    """The 17 chosen points, and 3 more drawn from the seed: the N-th progress report of a full run."""
    rng = random.Random(SEED)
    drawn = [(disk, f"event:{rng.randint(2, 14)}") for disk in rng.sample(sorted(SCENARIOS), 3)]
    return FIXED_POINTS + drawn


@dataclass
class Crash:
    disk_id: str
    point: str
    pending: list[str]
    reconciled: list[str]
    resumed: Outcome
    note: str


CRASHES: list[Crash] = []


@pytest.mark.parametrize(("disk_id", "point"), crash_points())
def test_kill_9_then_reconcile_and_resume(server: Server, tmp_path: Path, disk_id: str, point: str) -> None:
    server.reset()
    journal_path = tmp_path / "journal.jsonl"
    driver = subprocess.run(
        [sys.executable, str(DRIVER), server.url, str(journal_path), disk_id, point],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert driver.returncode == -signal.SIGKILL, (point, driver.returncode, driver.stdout, driver.stderr)
    assert driver.stdout == "" and driver.stderr == ""  # killed mid-flight: it said nothing at all

    # A fresh process: only the journal file and the live state are shared with the dead one.
    journal = Journal(journal_path)
    pending = journal.pending()
    assert len(pending) <= 1  # one mutation at a time is ever in flight
    instance_id, _ = SCENARIOS[disk_id]
    with EcsClient(emulator_credentials(), "cn-hangzhou", endpoint=server.url, profile_name="demo") as client:
        reconciled = journal.reconcile(client)
        assert [r.operation_id for r in reconciled] == [p.operation_id for p in pending]
        assert journal.pending() == []
        outcomes = Counter(r.operation_id for r in journal.records() if r.kind == "outcome")
        assert set(outcomes.values()) <= {1}, outcomes  # exactly one outcome per intent, never two
        log = server.requests()
        for intent, outcome in zip(pending, reconciled, strict=True):
            target = "DiskId" if intent.action == "DetachDisk" else "InstanceId"
            wanted = intent.disk_id if target == "DiskId" else intent.instance_id
            sent = [r for r in applied(log, intent.action) if r["params"].get(target) == wanted]
            expected = {Result.WENT_THROUGH, Result.IN_PROGRESS} if sent else {Result.DID_NOT_HAPPEN}
            assert outcome.result in expected, (point, intent.action, outcome.result, outcome.message)
            assert outcome.reconciled and outcome.message

        # Resume: the operator runs the same detach again, from fresh reads.
        facts = facts_from_fleet(server.state())
        options = DetachOptions(allow_stop=True, restart=True)
        plan = workflow.prepare(client, disk_id, options, facts=facts, journal=journal)
        before_resume = {r.operation_id for r in journal.records()}
        result = workflow.run(
            client, plan, journal=journal, facts=facts, clock=server.now, sleep=server.advance
        )
    assert result.outcome in (Outcome.DONE, Outcome.ALREADY_DETACHED), (point, result.message)
    resumed_ops = {r.operation_id for r in journal.records()} - before_resume
    log = server.requests()
    state = server.state()
    disk = next(d for d in state["Disks"] if d["DiskId"] == disk_id)
    instance = next(i for i in state["Instances"] if i["InstanceId"] == instance_id)
    assert disk["Status"] == "Available"
    assert applied_per(log, "DetachDisk", "DiskId") == {disk_id: 1}  # detached once, crash or not
    assert all(n == 1 for n in applied_per(log, "StopInstance", "InstanceId").values())
    assert all(n == 1 for n in applied_per(log, "StartInstance", "InstanceId").values())
    assert journal_problems(journal, log) == []
    note = instance["Status"]
    stopped_by_dead_run = any(
        i.action == "StopInstance" and o is not None and o.succeeded and i.operation_id not in resumed_ops
        for i, o in journal.operations()
    ) and not any(
        i.action == "StartInstance" and o is not None and o.succeeded and i.operation_id not in resumed_ops
        for i, o in journal.operations()
    )
    if disk_id == "d-nohot-data":
        # A data disk: the instance must end Running, whoever stopped it. When the killed run stopped it and
        # died before starting it, the resumed plan names that stop (from the journal) and starts it again,
        # also when the disk is already detaching (follow it) or already detached (only the start is left).
        if stopped_by_dead_run:
            assert plan.has_step(StepKind.START_INSTANCE), (point, plan.describe())
            assert any("stopped by an earlier ecs-detach run" in w for w in plan.warnings), plan.warnings
        assert instance["Status"] in ("Starting", "Running"), (point, instance["Status"], result.message)
        server.advance(60)
        now = next(i for i in server.state()["Instances"] if i["InstanceId"] == instance_id)["Status"]
        assert now == "Running"
        note = "restarted by the resume" if stopped_by_dead_run else f"{instance['Status']} -> Running"
    CRASHES.append(
        Crash(
            disk_id, point, [p.action for p in pending], [r.result for r in reconciled], result.outcome, note
        )
    )


def test_crash_figures() -> None:
    """Printed with ``pytest -s``: where each process died, what reconciling found, how the resume ended."""
    if not CRASHES:
        pytest.skip("run together with the crash points")
    print(f"\ncrash: {len(CRASHES)} kill -9 points")
    for c in CRASHES:
        found = (
            ", ".join(f"{a} {r}" for a, r in zip(c.pending, c.reconciled, strict=True)) or "nothing pending"
        )
        print(f"  {c.disk_id:13} {c.point:30} reconciled: {found:34} resume: {c.resumed.value:16} {c.note}")
    assert len(CRASHES) == 20


# --- the CLI, killed mid-command -------------------------------------------------------------------------

CLI_KILLED = """
import os, signal, sys
from ecs_detach.client import EcsClient
from ecs_detach.cli import main

original = EcsClient.detach_disk

def detach_disk(self, *args, **kw):
    if sys.argv[1] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    request_id = original(self, *args, **kw)
    os.kill(os.getpid(), signal.SIGKILL)
    return request_id

EcsClient.detach_disk = detach_disk
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_the_cli_killed_around_its_detach_reconciles_on_the_next_command(
    server: Server, tmp_path: Path, when: str
) -> None:
    """``ecs-detach detach`` killed just before / just after its DetachDisk; the next ``ecs-detach detach``
    reconciles the journal first (reading the disk), then does only what is left."""
    server.reset()
    cli = CliProcess(server.url, tmp_path)
    cli.killed(CLI_KILLED, when, "detach", "d-app-data")
    assert [r.action for r in cli.journal.pending()] == ["DetachDisk"]
    server.advance(61)  # a detach that went through has finished: the next command need not wait
    again = cli.run("detach", "d-app-data", "--no-wait")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reconciling" in again.stderr
    journal = cli.journal
    assert journal.pending() == []
    outcomes = Counter(r.operation_id for r in journal.records() if r.kind == "outcome")
    assert set(outcomes.values()) == {1}
    first = journal.operations()[0][1]
    assert first is not None and first.reconciled
    assert first.result == (Result.DID_NOT_HAPPEN if when == "before" else Result.WENT_THROUGH)
    assert applied_per(server.requests(), "DetachDisk", "DiskId") == {"d-app-data": 1}
    assert journal_problems(journal, server.requests()) == []
