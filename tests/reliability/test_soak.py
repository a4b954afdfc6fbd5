"""Load: the soak script (``benchmarks/soak.py``) for a fixed number of workflows: 4 concurrent operators
against ``ecs-detach emulator`` with 20 % injected faults, 48 workflows, however long the machine takes.

Each operator has six disks, all attached at the start, and 12 workflows: it detaches each of its disks once,
then re-attaches each once. So after exactly 48 workflows the seed and the plan fix what must hold: 24
detaches and 24 re-attaches ended, each disk detached once and attached once in the emulator's request log
(a fault never makes a call apply twice), every disk back In_use on its instance, and each operator's journal
true to that log. ``benchmarks/soak.py --seconds 60`` is the long run (figures in the README).
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

from .helpers import ALL_FAULT_KINDS, applied_per, journal_problems

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
CLIENTS, WORKFLOWS, DISKS_EACH = 4, 48, 6


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_benchmark", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_48_workflows_under_faults_each_end_once_and_the_journals_agree_with_the_emulator(
    tmp_path: Path,
) -> None:
    ran = _soak_module().soak(tmp_path, clients=CLIENTS, workflows=WORKFLOWS, fault_rate=0.2, seed=1)
    figures = ran.figures
    print(f"\nsoak ({WORKFLOWS} workflows): { ({k: figures[k] for k in ('seconds', 'runs', 'api_calls')}) }")
    assert figures["other_errors"] == []
    assert figures["problems"] == []
    assert figures["log_entries_missed"] == 0
    assert set(figures["faults_injected"]) == set(ALL_FAULT_KINDS)  # the faults really were there

    # Every workflow ended, and did what the plan says: each disk detached once, then re-attached once.
    assert figures["ended"] == {"detach": WORKFLOWS // 2, "re-attach": WORKFLOWS // 2}
    assert [len(op.disks) for op in ran.operators] == [DISKS_EACH] * CLIENTS
    homes = {disk_id: home for op in ran.operators for disk_id, home in op.disks}
    assert applied_per(ran.entries, "DetachDisk", "DiskId") == Counter(dict.fromkeys(homes, 1))
    assert applied_per(ran.entries, "AttachDisk", "DiskId") == Counter(dict.fromkeys(homes, 1))
    disks = {d["DiskId"]: d for d in ran.state["Disks"]}
    assert {d: (disks[d]["Status"], disks[d]["InstanceId"]) for d in homes} == {
        d: ("In_use", home) for d, home in homes.items()
    }

    # Each operator's journal tells the truth about its disks' calls, and its last word on each disk is the
    # re-attach that put it where the emulator shows it.
    for op in ran.operators:
        mine = {disk_id for disk_id, _ in op.disks}
        requests = [r for r in ran.entries if r["params"].get("DiskId") in mine]
        assert journal_problems(op.journal, requests) == [], op.name
        assert op.journal.pending() == []
        last = {intent.disk_id: (intent.action, outcome) for intent, outcome in op.journal.operations()}
        assert set(last) == mine
        for disk_id, (action, outcome) in last.items():
            assert action == "AttachDisk" and outcome is not None and outcome.succeeded, (disk_id, outcome)
