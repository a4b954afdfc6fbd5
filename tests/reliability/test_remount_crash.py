"""kill -9 around the guest steps, then the next run (issue 15):

- an undo (``attach --operation OP``) killed after its AttachDisk, before its remount: the next undo finds the
  disk attached, reads the guest, and mounts it back (/etc/fstab as before the detach);
- a ``detach --unmount`` killed after its unmount, before its DetachDisk: the next ``detach`` detaches, and
  its DetachDisk record carries the remount, so the undo mounts it back.

The emulator is the real ``ecs-detach emulator``, its transitions and invocations instant (the CLI waits on
real time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .helpers import CliProcess, Server, applied_per, consistency_problems, journal_problems

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


class Cli(CliProcess):
    def killed_at(self, when: str, *argv: str) -> None:
        self.killed(KILLED, when, *argv)

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
    before = list(server.guest("i-app")["EtcFstab"])
    cli = Cli(server.url, tmp_path)
    detached = cli.run("detach", "d-app-data", "--unmount")
    assert detached.returncode == 0, detached.stdout + detached.stderr
    operation = cli.last_detach().operation_id
    cli.killed_at(when, "attach", "--operation", operation)
    again = cli.run("attach", "--operation", operation)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Disk d-app-data is already attached to instance i-app. In the guest: /data " in again.stdout
    done = "already mounted (nothing to mount back)" if when == "after-remount-sent" else "mounted again"
    assert done in again.stdout
    guest = server.guest("i-app")
    assert guest["Mounts"][0]["Mounted"] is True
    assert guest["EtcFstab"] == before
    assert_consistent(server, cli)


@pytest.mark.parametrize("when", ["after-unmount", "before-detach"])
def test_a_detach_killed_after_its_unmount_leaves_the_remount_to_the_next_runs_record(
    server: Server, tmp_path: Path, when: str
) -> None:
    server.reset()
    before = list(server.guest("i-app")["EtcFstab"])
    cli = Cli(server.url, tmp_path)
    cli.killed_at(when, "detach", "d-app-data", "--unmount")
    assert server.guest("i-app")["Mounts"][0]["Mounted"] is False
    detached = cli.run("detach", "d-app-data")  # the guest no longer shows the mount: no --unmount needed
    assert detached.returncode == 0, detached.stdout + detached.stderr
    record = cli.last_detach()
    assert record.context["unmounted"] == "/data" and "mount /data" in record.context["remount_script"]
    undone = cli.run("attach", "--operation", record.operation_id)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert "Mount /data back in the guest of i-app" in undone.stdout
    guest = server.guest("i-app")
    assert guest["Mounts"][0]["Mounted"] is True
    assert guest["EtcFstab"] == before
    assert guest["Hazards"] == []
    assert_consistent(server, cli)
