"""The fault matrix: every mutation of three CLI plans through every fault of the proxy (fault_proxy.py).

``ecs-detach emulator`` is served over HTTP (transitions finish at once: ``--time-scale 0``) with the proxy in
front; ``ecs-detach detach ... --endpoint PROXY`` runs in-process. The plans, and the mutations each sends:

* ``data``: ``detach d-app-data`` (a data disk of a Running instance): DetachDisk;
* ``stop-detach-start``: ``detach d-nohot-data --stop-instance --restart-instance`` (an instance type that
  cannot hot-detach): StopInstance, DetachDisk, StartInstance;
* ``bulk``: ``detach d-b1 d-b2`` (two instances): DetachDisk, DetachDisk.

Each mutation in turn gets each fault kind; after the run the test checks, from the emulator's own request log
and state: the end state is right, no mutation was applied twice, every journal record is true (an accepted
call is recorded as taking effect, a call recorded as taking effect was accepted), and the exit code and the
message are the ones an operator should see. ``pytest -s`` prints the figures (the README quotes them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from .fault_proxy import APPLIED_BY, FAULT_KINDS, Rule
from .helpers import MUTATIONS, consistency_problems, journal_problems, mutation_log
from .matrix import Run, applied_twice, false_successes, no_traceback

TIME_SCALE = 0  # the served emulator's transitions finish at once
FLEET: dict[str, Any] = {
    "Instances": [
        {"InstanceId": "i-app", "Status": "Running", "InstanceType": "ecs.g7.large"},
        {"InstanceId": "i-nohot", "Status": "Running", "InstanceType": "ecs.nohot"},
        {"InstanceId": "i-b1", "Status": "Running", "InstanceType": "ecs.g7.large"},
        {"InstanceId": "i-b2", "Status": "Running", "InstanceType": "ecs.g7.large"},
    ],
    "Disks": [
        {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-app-root", "InstanceId": "i-app", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-nohot-data", "InstanceId": "i-nohot", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-nohot-root", "InstanceId": "i-nohot", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-b1", "InstanceId": "i-b1", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-b2", "InstanceId": "i-b2", "Type": "data", "Status": "In_use"},
    ],
    "Emulator": {"NoHotDetachInstanceTypes": ["ecs.nohot"]},
}


@dataclass(frozen=True)
class PlanCase:
    args: tuple[str, ...]
    disks: tuple[str, ...]
    instances: tuple[str, ...]
    mutations: tuple[str, ...]  # in the order a clean run sends them


PLANS = {
    "data": PlanCase(("d-app-data",), ("d-app-data",), ("i-app",), ("DetachDisk",)),
    "stop-detach-start": PlanCase(
        ("d-nohot-data", "--stop-instance", "--restart-instance"),
        ("d-nohot-data",),
        ("i-nohot",),
        ("StopInstance", "DetachDisk", "StartInstance"),
    ),
    # --timeout 1: the bulk poller first reads a disk at the expected detach time in real seconds; with the
    # emulator's transitions instant, a short bound keeps a run at about a second.
    "bulk": PlanCase(
        ("d-b1", "d-b2", "--rate", "50", "--timeout", "1"),
        ("d-b1", "d-b2"),
        ("i-b1", "i-b2"),
        ("DetachDisk", "DetachDisk"),
    ),
}


def _targets(plan: PlanCase) -> list[tuple[str, int]]:
    """(action, n-th of that action) for every mutation of the plan."""
    seen: Counter[str] = Counter()
    targets = []
    for action in plan.mutations:
        seen[action] += 1
        targets.append((action, seen[action]))
    return targets


CASES = [
    pytest.param(name, action, nth, kind, id=f"{name}-{action}{nth}-{kind}")
    for name, plan in PLANS.items()
    for action, nth in _targets(plan)
    for kind in FAULT_KINDS
]
FIGURES: Counter[str] = Counter()


@pytest.fixture
def run_plan(cli: Any) -> Any:
    def run(plan: PlanCase, *rules: Rule) -> Run:
        result: Run = cli(["detach", *plan.args], *rules)
        return result

    return run


def test_each_plan_sends_the_mutations_the_matrix_faults(run_plan: Any) -> None:
    for plan in PLANS.values():
        ran = run_plan(plan)
        assert ran.code == 0, ran.out
        assert tuple(r["action"] for r in mutation_log(ran.requests)) == plan.mutations


@pytest.mark.parametrize(("name", "action", "nth", "kind"), CASES)
def test_a_fault_on_a_mutation_leaves_the_truth(
    run_plan: Any, name: str, action: str, nth: int, kind: str
) -> None:
    plan = PLANS[name]
    ran = run_plan(plan, Rule(action, nth, kind))
    FIGURES["cases"] += 1
    FIGURES[f"kind:{kind}"] += 1
    FIGURES["calls"] += ran.calls

    # The fault hit the call it was scripted for; a fault after forwarding means the emulator applied it.
    assert ran.faults == [(action, nth, kind)]
    calls = [r for r in mutation_log(ran.requests) if r["action"] == action]
    if APPLIED_BY[kind]:
        assert len(calls) >= nth and calls[nth - 1]["status"] == 200

    # Nothing applied twice; the fleet is consistent; every record true.
    assert applied_twice(ran.requests) == []
    assert consistency_problems(ran.state) == []
    assert journal_problems(ran.journal, ran.requests) == []
    assert false_successes(ran.journal, ran.requests) == []
    assert ran.journal.pending() == []

    # The exit code and the message: a clean finish, or a failure that says so (no traceback ever).
    no_traceback(ran.out)
    if ran.code == 0:
        FIGURES["exit 0"] += 1
        assert all(ran.status("Disks", d) == "Available" for d in plan.disks), ran.out
        assert all(ran.status("Instances", i) == "Running" for i in plan.instances), ran.out
    else:
        FIGURES[f"exit {ran.code}"] += 1
        assert ran.code == 1, ran.out
        left_stopped = [i for i in plan.instances if ran.status("Instances", i) != "Running"]
        for instance in left_stopped:
            assert instance in ran.out and "Stopped" in ran.out, ran.out
    FIGURES["mutations applied"] += sum(1 for r in mutation_log(ran.requests) if r["status"] == 200)
    assert set(MUTATIONS) >= {r["action"] for r in mutation_log(ran.requests)}


def test_matrix_figures() -> None:
    """Printed with ``pytest -s``: how many cases, per kind, calls through the proxy, exits."""
    if FIGURES["cases"]:
        print("\nfault matrix:", dict(sorted(FIGURES.items())))
