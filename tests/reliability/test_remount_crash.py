"""kill -9 around the guest steps, then the next run (issue 15):

- an undo (``attach --operation OP``) killed after its AttachDisk, before its remount: the next undo finds the
  disk attached, reads the guest, and mounts it back (/etc/fstab as before the detach);
- a ``detach --unmount`` killed after its unmount, before its DetachDisk: the next ``detach`` detaches, and
  its DetachDisk record carries the remount, so the undo mounts it back.

The emulator is the real ``ecs-detach emulator``, its transitions and invocations instant (the CLI waits on
real time).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_detach.journal import Journal

from .helpers import applied_per, consistency_problems, journal_problems

FLEET: dict[str, Any] = {
    "Instances": [{"InstanceId": "i-app", "Status": "Running", "InstanceType": "ecs.g7.large"}],
    "Disks": [
        {"DiskId": "d-app-sys", "InstanceId": "i-app", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data", "Status": "In_use"},
    ],
    "Emulator": {
        "Durations": {"DetachDisk": 0, "AttachDisk": 0, "RunCommand": 0},
        "Guests": {"i-app": {"Mounts": [{"DiskId": "d-app-data", "MountPoint": "/data", "Fstab": True}]}},
    },
}

# Runs the CLI and SIGKILLs itself at argv[1]: after the AttachDisk reply (its outcome not written),
# before the remount (nothing of it journaled), after the remount's RunCommand reply (its outcome not
# written), after the unmount ran in the guest (no DetachDisk intent yet), or with the DetachDisk intent
# written and the request not sent.
KILLED = """
import os, signal, sys
from ecs_detach.client import EcsClient
from ecs_detach.cli import main
from ecs_detach.detach import runner, undo

def die():
    os.kill(os.getpid(), signal.SIGKILL)

when = sys.argv[1]
attach, run_command, emit = EcsClient.attach_disk, EcsClient.run_command, runner.Runner.emit

def attach_disk(self, *args, **kw):
    request_id = attach(self, *args, **kw)
    if when == "after-attach":
        die()
    return request_id

def mount_back(*args, **kw):
    die()

def run(self, instance_id, content, **kw):
    invoke_id = run_command(self, instance_id, content, **kw)
    if when == "after-remount-sent" and "mount disk" in content:
        die()
    return invoke_id

def progress(self, phase, message, **kw):
    if when == "after-unmount" and phase == "guest" and message.startswith("Released"):
        die()
    return emit(self, phase, message, **kw)

def detach_disk(self, *args, **kw):
    die()

EcsClient.attach_disk, EcsClient.run_command, runner.Runner.emit = attach_disk, run, progress
if when == "before-remount":
    undo.mount_back = mount_back
if when == "before-detach":
    EcsClient.detach_disk = detach_disk
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

    def guest(self) -> dict[str, Any]:
        section: dict[str, Any] = self.state()["Emulator"]["Guests"]["i-app"]
        return section


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    fleet = tmp_path_factory.mktemp("remount-crash") / "fleet.json"
    fleet.write_text(json.dumps(FLEET))
    command = [sys.executable, "-m", "ecs_detach.cli", "emulator", "--port", "0", "--fleet", str(fleet)]
    errors = fleet.with_name("emulator.err")
    with errors.open("w") as sink:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=sink, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("emulator listening on http://"), first + errors.read_text()
        with httpx.Client(base_url=first.removeprefix("emulator listening on "), timeout=10) as control:
            yield Server(str(control.base_url).rstrip("/"), control)
    finally:
        process.terminate()
        process.wait(timeout=10)


class Cli:
    def __init__(self, server: Server, tmp_path: Path) -> None:
        self.journal_path = tmp_path / "journal.jsonl"
        self.common = ["--yes", "--demo", "--endpoint", server.url, "--journal", str(self.journal_path)]
        self.env = {
            "HOME": str(tmp_path),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "PATH": "",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        }

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ecs_detach.cli", *argv, *self.common]
        ran = subprocess.run(command, capture_output=True, text=True, timeout=120, env=self.env)
        assert "Traceback" not in ran.stderr, ran.stderr
        return ran

    def killed(self, when: str, *argv: str) -> None:
        command = [sys.executable, "-c", KILLED, when, *argv, *self.common]
        ran = subprocess.run(command, capture_output=True, text=True, timeout=120, env=self.env)
        assert ran.returncode == -signal.SIGKILL, ran.stdout + ran.stderr

    @property
    def journal(self) -> Journal:
        return Journal(self.journal_path)

    def last_detach(self) -> Any:
        found = self.journal.last_detach("d-app-data")
        assert found is not None
        return found[0]


def assert_consistent(server: Server, cli: Cli) -> None:
    requests = server.requests()
    assert applied_per(requests, "DetachDisk", "DiskId") == {"d-app-data": 1}
    assert applied_per(requests, "AttachDisk", "DiskId") == {"d-app-data": 1}
    assert cli.journal.pending() == []
    assert journal_problems(cli.journal, requests) == []
    assert consistency_problems(server.state()) == []


@pytest.mark.parametrize("when", ["after-attach", "before-remount", "after-remount-sent"])
def test_an_undo_killed_before_its_remount_ended_mounts_back_on_the_next_run(
    server: Server, tmp_path: Path, when: str
) -> None:
    server.reset()
    before = list(server.guest()["EtcFstab"])
    cli = Cli(server, tmp_path)
    detached = cli.run("detach", "d-app-data", "--unmount")
    assert detached.returncode == 0, detached.stdout + detached.stderr
    operation = cli.last_detach().operation_id
    cli.killed(when, "attach", "--operation", operation)
    again = cli.run("attach", "--operation", operation)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Disk d-app-data is already attached to instance i-app. In the guest: /data " in again.stdout
    done = "already mounted (nothing to mount back)" if when == "after-remount-sent" else "mounted again"
    assert done in again.stdout
    guest = server.guest()
    assert guest["Mounts"][0]["Mounted"] is True
    assert guest["EtcFstab"] == before
    assert_consistent(server, cli)


@pytest.mark.parametrize("when", ["after-unmount", "before-detach"])
def test_a_detach_killed_after_its_unmount_leaves_the_remount_to_the_next_runs_record(
    server: Server, tmp_path: Path, when: str
) -> None:
    server.reset()
    before = list(server.guest()["EtcFstab"])
    cli = Cli(server, tmp_path)
    cli.killed(when, "detach", "d-app-data", "--unmount")
    assert server.guest()["Mounts"][0]["Mounted"] is False
    detached = cli.run("detach", "d-app-data")  # the guest no longer shows the mount: no --unmount needed
    assert detached.returncode == 0, detached.stdout + detached.stderr
    record = cli.last_detach()
    assert record.context["unmounted"] == "/data" and "mount /data" in record.context["remount_script"]
    undone = cli.run("attach", "--operation", record.operation_id)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert "Mount /data back in the guest of i-app" in undone.stdout
    guest = server.guest()
    assert guest["Mounts"][0]["Mounted"] is True
    assert guest["EtcFstab"] == before
    assert guest["Hazards"] == []
    assert_consistent(server, cli)
