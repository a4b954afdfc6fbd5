"""kill -9 of ``ecs-detach move`` between its halves (and around its AttachDisk), then a restart: the next
``ecs-detach move`` reconciles the journal first and reaches one consistent state: the disk In_use on the
target, detached once, attached once, every journal intent with exactly one outcome.

The emulator is the real ``ecs-detach emulator``, its transitions instant (the CLI waits on real time).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .helpers import CliProcess, Server, applied_per, consistency_problems, journal_problems

FLEET: dict[str, Any] = {
    "Instances": [
        {"InstanceId": "i-src", "Status": "Running", "InstanceType": "ecs.g7.large"},
        {"InstanceId": "i-dst", "Status": "Running", "InstanceType": "ecs.g7.large"},
    ],
    "Disks": [
        {"DiskId": "d-src-root", "InstanceId": "i-src", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-dst-root", "InstanceId": "i-dst", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-src-data", "InstanceId": "i-src", "Type": "data", "Status": "In_use"},
    ],
    # Transitions finish at the next read: the CLI (on real time against a served emulator) never waits.
    "Emulator": {"Durations": {"DetachDisk": 0, "AttachDisk": 0, "StopInstance": 0, "StartInstance": 0}},
}

# Kills itself: "between" when the move turns to its second half (the detach done and journaled, no
# AttachDisk intent yet); "before" with the AttachDisk intent written, the request not sent; "after" with
# the AttachDisk applied, its outcome not written.
MOVE_KILLED = """
import os, signal, sys
from ecs_detach import move
from ecs_detach.client import EcsClient
from ecs_detach.cli import main

def die():
    os.kill(os.getpid(), signal.SIGKILL)

when = sys.argv[1]
half, attach = move._attach_half, EcsClient.attach_disk

def second_half(*args, **kw):
    if when == "between":
        die()
    return half(*args, **kw)

def attach_disk(self, *args, **kw):
    if when == "before":
        die()
    request_id = attach(self, *args, **kw)
    die()
    return request_id

move._attach_half = second_half
EcsClient.attach_disk = attach_disk
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("when", ["between", "before", "after"])
def test_a_move_killed_between_its_halves_reconciles_to_one_consistent_state(
    server: Server, tmp_path: Path, when: str
) -> None:
    server.reset()
    cli = CliProcess(server.url, tmp_path)
    cli.killed(MOVE_KILLED, when, "move", "d-src-data", "--to", "i-dst")
    pending = [r.action for r in cli.journal.pending()]
    assert pending == ([] if when == "between" else ["AttachDisk"])
    again = cli.run("move", "d-src-data", "--to", "i-dst")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "moved from i-src to i-dst" in again.stdout
    disk = next(d for d in server.state()["Disks"] if d["DiskId"] == "d-src-data")
    assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-dst")
    requests = server.requests()
    assert applied_per(requests, "DetachDisk", "DiskId") == {"d-src-data": 1}
    assert applied_per(requests, "AttachDisk", "DiskId") == {"d-src-data": 1}
    journal = cli.journal
    assert journal.pending() == []
    outcomes = Counter(r.operation_id for r in journal.records() if r.kind == "outcome")
    assert set(outcomes.values()) == {1}
    assert journal_problems(journal, requests) == []
    assert consistency_problems(server.state()) == []
