"""What every fault-matrix test shares: ``ecs-detach emulator`` served with the fault proxy in front, one CLI
run through the proxy, and the checks read from the emulator's request log, its state and the journal.

The ``served`` fixture (conftest.py) is the module's served emulator (its ``FLEET``; the matrix files set
``TIME_SCALE = 0``: transitions finish at once) with the proxy in front; `Served.run` resets it (or not),
scripts the proxy, runs ``ecs-detach ARGV --yes --demo --endpoint PROXY --journal J`` in-process and returns
a `Run`. The matrix files (test_fault_matrix.py, test_fault_matrix_paths.py) parametrize over
`fault_proxy.FAULT_KINDS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_detach import commands
from ecs_detach._core import emulator_credentials
from ecs_detach.client import EcsClient
from ecs_detach.journal import Journal
from ecs_detach.models import Snapshot

from .fault_proxy import FaultProxy, Rule
from .helpers import Server, consistency_problems, journal_problems, mutation_key, mutation_log


@dataclass
class Run:
    code: int
    out: str
    journal: Journal
    requests: list[dict[str, Any]]
    state: dict[str, Any]
    faults: list[tuple[str, int, str]]
    calls: int  # requests through the proxy

    def status(self, kind: str, resource_id: str) -> str:
        key = "DiskId" if kind == "Disks" else "InstanceId"
        return next(str(r["Status"]) for r in self.state[kind] if r[key] == resource_id)

    def disk(self, disk_id: str) -> dict[str, Any]:
        return next(d for d in self.state["Disks"] if d["DiskId"] == disk_id)

    def accepted(self, action: str) -> list[Mapping[str, Any]]:
        """The mutations of `action` the emulator applied (status 200; guest probes are not mutations)."""
        return [r for r in mutation_log(self.requests) if r["action"] == action and r["status"] == 200]

    def accepted_on(self, action: str, disk_id: str) -> int:
        """How many `action` calls on `disk_id` the emulator applied (a RunCommand by its script's disk)."""
        return sum(
            1
            for r in self.accepted(action)
            if r["params"].get("DiskId") == disk_id
            or f"disk {disk_id} " in str(r["params"].get("CommandContent"))
        )

    def mounted(self, guest: str, disk_id: str) -> bool:
        """Whether the guest of instance `guest` has the disk mounted (the emulator's guest state)."""
        mounts = self.state["Emulator"]["Guests"][guest]["Mounts"]
        return any(m["Mounted"] for m in mounts if m["DiskId"] == disk_id)


@dataclass
class Served:
    """The served emulator with the fault proxy in front."""

    server: Server
    proxy: FaultProxy

    def snapshots(self, disk_id: str) -> list[Snapshot]:
        """The disk's snapshots, read straight from the emulator (the state file does not hold them)."""
        credentials = emulator_credentials()
        with EcsClient(credentials, "cn-hangzhou", endpoint=self.server.url, profile_name="demo") as client:
            return client.list_snapshots(disk_id=disk_id)

    def run(
        self,
        argv: Sequence[str],
        *rules: Rule,
        journal: Path,
        capsys: pytest.CaptureFixture[str],
        reset: bool = True,
    ) -> Run:
        """Run ``ecs-detach ARGV`` through the proxy with `rules` scripted (a fresh fleet unless `reset` is
        False: an undo runs on what the run before it left, with the same journal and request log)."""
        if reset:
            self.server.reset()
            journal.unlink(missing_ok=True)
        self.proxy.script(*rules)
        capsys.readouterr()
        common = ["--yes", "--demo", "--endpoint", self.proxy.url, "--journal", str(journal)]
        code = commands.main([*argv, *common])
        captured = capsys.readouterr()
        return Run(
            code,
            captured.out + captured.err,
            Journal(journal),
            self.server.requests(),
            self.server.state(),
            self.proxy.faults_applied(),
            len(self.proxy.log),
        )


def applied_twice(requests: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """Mutations the emulator applied more than once (the same action on the same disk / instance)."""
    accepted = Counter(
        (*mutation_key(r["action"], r["params"]), str(r["params"].get("CommandContent", "")))
        for r in mutation_log(requests)
        if r["status"] == 200
    )
    return sorted(key[:3] for key, n in accepted.items() if n > 1)  # a guest script counts by its content


def false_successes(journal: Journal, requests: Sequence[Mapping[str, Any]]) -> list[str]:
    """Operations whose last word is that they took effect, with no call of theirs accepted by the API."""
    accepted = {mutation_key(r["action"], r["params"]) for r in mutation_log(requests) if r["status"] == 200}
    lies = []
    for intent, outcome in journal.operations():
        key = mutation_key(intent.action, {"DiskId": intent.disk_id, "InstanceId": intent.instance_id})
        if outcome is not None and outcome.succeeded and key not in accepted:
            who = key[1] or key[2]
            lies.append(f"{intent.action} {who} recorded {outcome.result}, never accepted by the API")
    return lies


def no_traceback(out: str) -> None:
    assert "Traceback" not in out and "unexpected error" not in out.lower(), out


def the_truth_is_kept(
    ran: Run, action: str, nth: int, kind: str, *, figures: Counter[str], codes: tuple[int, ...] = (0, 1)
) -> None:
    """What every case checks: the fault hit its call, nothing applied twice, the fleet consistent, every
    journal record true and settled, no traceback; the case counted in the module's `figures`."""
    figures["cases"] += 1
    figures[f"kind:{kind}"] += 1
    figures[f"exit {ran.code}"] += 1
    figures["calls"] += ran.calls
    assert ran.faults == [(action, nth, kind)], ran.out
    no_traceback(ran.out)
    assert applied_twice(ran.requests) == [], ran.out
    assert consistency_problems(ran.state) == []
    assert journal_problems(ran.journal, ran.requests) == [], ran.out
    assert false_successes(ran.journal, ran.requests) == []
    assert ran.journal.pending() == []
    assert ran.code in codes, ran.out
    figures["mutations applied"] += sum(1 for r in mutation_log(ran.requests) if r["status"] == 200)


def undo(cli: Any, detached: Run, *rules: Rule, disk_id: str = "") -> Run:
    """``ecs-detach attach --operation OP`` on what `detached` left (no reset): the undo of its DetachDisk
    (of `disk_id`, if given: a bulk run journals one per disk), with `rules` scripted."""
    detach = next(
        i for i, _ in detached.journal.operations() if i.action == "DetachDisk" and disk_id in ("", i.disk_id)
    )
    undone: Run = cli(["attach", "--operation", detach.operation_id], *rules, reset=False)
    return undone
