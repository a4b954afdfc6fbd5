"""kill -9 of ``ecs-detach move`` between its halves (and around its AttachDisk), then a restart: the next
``ecs-detach move`` reconciles the journal first and reaches one consistent state: the disk In_use on the
target, detached once, attached once, every journal intent with exactly one outcome.

The emulator is the real ``ecs-detach emulator``, its transitions instant (the CLI waits on real time).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_detach.journal import Journal

from .helpers import applied_per, consistency_problems, journal_problems

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


class Server:
    def __init__(self, url: str, control: httpx.Client) -> None:
        self.url, self.control = url, control

    def reset(self) -> None:
        self.control.post("/_emulator/reset", json=FLEET).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        body: dict[str, list[dict[str, Any]]] = self.control.get("/_emulator/requests").json()
        return body["requests"]

    def state(self) -> dict[str, Any]:
        body: dict[str, Any] = self.control.get("/_emulator/state").json()
        return body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    fleet = tmp_path_factory.mktemp("move-crash") / "fleet.json"
    fleet.write_text(json.dumps(FLEET))
    command = [sys.executable, "-m", "ecs_detach.cli", "emulator", "--port", "0"]
    errors = fleet.with_name("emulator.err")
    with errors.open("w") as sink:
        process = subprocess.Popen(
            [*command, "--fleet", str(fleet)], stdout=subprocess.PIPE, stderr=sink, text=True
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("emulator listening on http://"), first + errors.read_text()
        with httpx.Client(base_url=first.removeprefix("emulator listening on "), timeout=10) as control:
            yield Server(str(control.base_url).rstrip("/"), control)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("when", ["between", "before", "after"])
def test_a_move_killed_between_its_halves_reconciles_to_one_consistent_state(
    server: Server, tmp_path: Path, when: str
) -> None:
    server.reset()
    journal_path = tmp_path / "journal.jsonl"
    common = ["--to", "i-dst", "--yes", "--demo", "--endpoint", server.url, "--journal", str(journal_path)]
    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"), "PATH": ""}
    killed = subprocess.run(
        [sys.executable, "-c", MOVE_KILLED, when, "move", "d-src-data", *common],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    pending = [r.action for r in Journal(journal_path).pending()]
    assert pending == ([] if when == "between" else ["AttachDisk"])
    again = subprocess.run(
        [sys.executable, "-m", "ecs_detach.cli", "move", "d-src-data", *common],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stderr
    assert "moved from i-src to i-dst" in again.stdout
    disk = next(d for d in server.state()["Disks"] if d["DiskId"] == "d-src-data")
    assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-dst")
    requests = server.requests()
    assert applied_per(requests, "DetachDisk", "DiskId") == {"d-src-data": 1}
    assert applied_per(requests, "AttachDisk", "DiskId") == {"d-src-data": 1}
    journal = Journal(journal_path)
    assert journal.pending() == []
    outcomes = Counter(r.operation_id for r in journal.records() if r.kind == "outcome")
    assert set(outcomes.values()) == {1}
    assert journal_problems(journal, requests) == []
    assert consistency_problems(server.state()) == []
