"""Guests and Cloud Assistant in the emulator: the three actions, the guest shell, the hazards of a detach."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.fleet import FleetError, load_fleet

from .conftest import error_of

HZ = {"RegionId": "cn-hangzhou"}


def run(
    backend: Backend, clock: ManualClock, instance_id: str, script: str, kind: str = "RunShellScript"
) -> dict[str, Any]:
    invoke = backend.handle(
        "RunCommand", {**HZ, "Type": kind, "InstanceId.1": instance_id, "CommandContent": script}
    )
    clock.advance(2)
    return result(backend, invoke["InvokeId"])


def result(backend: Backend, invoke_id: str) -> dict[str, Any]:
    body = backend.handle("DescribeInvocationResults", {**HZ, "InvokeId": invoke_id})
    (row,) = body["Invocation"]["InvocationResults"]["InvocationResult"]
    row["Text"] = base64.b64decode(row["Output"]).decode()
    return dict(row)


def test_agent_status_names_online_and_absent_agents(backend: Backend) -> None:
    body = backend.handle(
        "DescribeCloudAssistantStatus",
        {**HZ, "InstanceId.1": "i-files-01", "InstanceId.2": "i-noagent-01", "InstanceId.3": "i-db-replica"},
    )
    rows = {
        r["InstanceId"]: r for r in body["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]
    }
    assert rows["i-files-01"]["CloudAssistantStatus"] == "true"
    assert rows["i-noagent-01"]["CloudAssistantStatus"] == "false"
    assert rows["i-noagent-01"]["CloudAssistantVersion"] == ""
    assert rows["i-db-replica"]["CloudAssistantStatus"] == "false"  # Stopped: no heartbeat
    assert error_of(backend, "DescribeCloudAssistantStatus", {}).code == "MissingRegionId"


def test_an_invocation_runs_on_the_emulator_clock_and_output_is_base64(
    backend: Backend, clock: ManualClock
) -> None:
    invoke = backend.handle(
        "RunCommand",
        {**HZ, "Type": "RunShellScript", "InstanceId.1": "i-files-01", "CommandContent": "cat /etc/fstab"},
    )
    assert invoke["InvokeId"].startswith("t-") and invoke["CommandId"].startswith("c-")
    assert result(backend, invoke["InvokeId"])["InvocationStatus"] == "Running"
    clock.advance(2)
    done = result(backend, invoke["InvokeId"])
    assert (done["InvocationStatus"], done["InvokeRecordStatus"], done["ExitCode"]) == (
        "Success",
        "Finished",
        0,
    )
    assert " /data ext4 defaults 0 2" in done["Text"]
    assert "LABEL=app /var/lib/app xfs defaults,nofail 0 2" in done["Text"]


def test_base64_content_and_plaintext_output(backend: Backend, clock: ManualClock) -> None:
    script = base64.b64encode(b"echo hello").decode()
    invoke = backend.handle(
        "RunCommand",
        {
            **HZ,
            "Type": "RunShellScript",
            "InstanceId.1": "i-files-01",
            "CommandContent": script,
            "ContentEncoding": "Base64",
        },
    )
    clock.advance(2)
    body = backend.handle(
        "DescribeInvocationResults", {**HZ, "InvokeId": invoke["InvokeId"], "ContentEncoding": "PlainText"}
    )
    assert body["Invocation"]["InvocationResults"]["InvocationResult"][0]["Output"] == "hello\n"


def test_lsblk_finds_the_disk_by_its_serial(backend: Backend, clock: ManualClock) -> None:
    done = run(backend, clock, "i-files-01", "lsblk -J -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL")
    devices = {d["serial"]: d for d in json.loads(done["Text"])["blockdevices"]}
    (part,) = devices["files-01-data"]["children"]
    assert (part["name"], part["fstype"], part["mountpoint"]) == ("vdb1", "ext4", "/data")


def test_unknown_commands_answer_127(backend: Backend, clock: ManualClock) -> None:
    done = run(backend, clock, "i-files-01", "rm -rf /data")
    assert (done["InvocationStatus"], done["ExitCode"], done["ErrorCode"]) == (
        "Failed",
        127,
        "ExitCodeNonzero",
    )
    assert done["Text"] == "sh: line 1: rm: command not found\n"


def test_umount_changes_the_model_and_a_busy_one_refuses(backend: Backend, clock: ManualClock) -> None:
    busy = run(backend, clock, "i-files-01", "umount /var/lib/app")
    assert busy["ExitCode"] == 32 and "target is busy" in busy["Text"]
    holders = run(backend, clock, "i-files-01", "fuser -vm /var/lib/app")
    assert "app       2211 ..c.. java" in holders["Text"]
    assert run(backend, clock, "i-files-01", "umount /data")["ExitCode"] == 0
    after = run(backend, clock, "i-files-01", "lsblk -J -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL")
    devices = {d["serial"]: d for d in json.loads(after["Text"])["blockdevices"]}
    assert devices["files-01-data"]["children"][0]["mountpoint"] is None
    assert run(backend, clock, "i-files-01", "mount /data")["ExitCode"] == 0


def test_sed_comments_the_fstab_line_and_cp_keeps_a_backup(backend: Backend, clock: ManualClock) -> None:
    script = (
        "set -e\ncp -p /etc/fstab /etc/fstab.ecs-detach.bak\n"
        "sed -i 's|^LABEL=app |# ecs-detach: &|' /etc/fstab\ncat /etc/fstab"
    )
    done = run(backend, clock, "i-files-01", script)
    assert "# ecs-detach: LABEL=app /var/lib/app" in done["Text"]
    backup = run(backend, clock, "i-files-01", "cat /etc/fstab.ecs-detach.bak")
    assert backup["Text"].count("LABEL=app /var/lib/app") == 1 and "# ecs-detach" not in backup["Text"]
    run(backend, clock, "i-files-01", "sed -i 's|^# ecs-detach: ||' /etc/fstab")
    assert "# ecs-detach" not in run(backend, clock, "i-files-01", "cat /etc/fstab")["Text"]


def test_set_e_stops_at_the_first_failure(backend: Backend, clock: ManualClock) -> None:
    done = run(backend, clock, "i-files-01", "set -e\numount /var/lib/app\numount /data")
    assert done["ExitCode"] == 32
    assert run(backend, clock, "i-files-01", "findmnt -n -o SOURCE /data")["Text"] == "/dev/vdb1\n"


def test_no_agent_and_stopped_instances_abort_the_invocation(backend: Backend, clock: ManualClock) -> None:
    absent = run(backend, clock, "i-noagent-01", "cat /etc/fstab")
    assert (absent["InvocationStatus"], absent["ErrorCode"]) == ("Aborted", "ClientNotResponse")
    stopped = run(backend, clock, "i-db-replica", "cat /etc/fstab")
    assert (stopped["InvocationStatus"], stopped["ErrorCode"]) == ("Aborted", "InstanceNotRunning")
    assert stopped["ErrorInfo"] == "the instance is not running when create task"


def test_run_command_errors(backend: Backend) -> None:
    base = {**HZ, "InstanceId.1": "i-files-01", "CommandContent": "echo x"}
    assert error_of(backend, "RunCommand", {**base, "Type": "RunPython"}).code == "InvalidCmdType.NotFound"
    assert error_of(backend, "RunCommand", {**base}).code == "MissingType"
    missing = error_of(backend, "RunCommand", {**base, "Type": "RunShellScript", "InstanceId.1": "i-nope"})
    assert (missing.status, missing.code) == (404, "InvalidInstance.NotFound")


def test_powershell_on_windows_and_not_on_linux(backend: Backend, clock: ManualClock) -> None:
    disks = run(
        backend,
        clock,
        "i-win-01",
        "Get-Disk | Select-Object Number,SerialNumber,IsOffline,OperationalStatus | ConvertTo-Json",
        "RunPowerShellScript",
    )
    rows = json.loads(disks["Text"])
    assert [r["SerialNumber"] for r in rows] == ["win-01-sys", "win-01-data"]
    parts = run(
        backend,
        clock,
        "i-win-01",
        "Get-Partition | Select-Object DiskNumber,PartitionNumber,DriveLetter | ConvertTo-Json",
        "RunPowerShellScript",
    )
    assert {"DiskNumber": 1, "PartitionNumber": 2, "DriveLetter": "D"} in json.loads(parts["Text"])
    assert (
        run(backend, clock, "i-win-01", "Set-Disk -Number 1 -IsOffline $true", "RunPowerShellScript")[
            "ExitCode"
        ]
        == 0
    )
    assert (
        json.loads(
            run(
                backend,
                clock,
                "i-win-01",
                "Get-Disk | Select-Object Number,SerialNumber,IsOffline,OperationalStatus | ConvertTo-Json",
                "RunPowerShellScript",
            )["Text"]
        )[1]["IsOffline"]
        is True
    )
    wrong = run(backend, clock, "i-files-01", "Get-Disk", "RunPowerShellScript")
    assert (wrong["InvocationStatus"], wrong["ErrorCode"]) == ("Invalid", "CommandNotApplicable")


def test_detaching_a_mounted_disk_succeeds_and_the_state_shows_the_hazard(
    backend: Backend, clock: ManualClock
) -> None:
    backend.handle("DetachDisk", {**HZ, "DiskId": "d-files-01-data", "InstanceId": "i-files-01"})
    clock.advance(60)
    guest = backend.snapshot()["Emulator"]["Guests"]["i-files-01"]
    hazards = [h["Hazard"] for h in guest["Hazards"] if h["DiskId"] == "d-files-01-data"]
    assert any("writes in flight were lost" in h for h in hazards)
    assert any("/etc/fstab still names the detached disk" in h for h in hazards)
    blocks = run(backend, clock, "i-files-01", "lsblk -J -o NAME,SERIAL,TYPE,FSTYPE,MOUNTPOINT,UUID,LABEL")
    assert "files-01-data" not in blocks["Text"]


def test_the_snapshot_reloads_the_guests_as_they_are(backend: Backend, clock: ManualClock) -> None:
    run(backend, clock, "i-files-01", "umount /data")
    again = Backend(backend.snapshot(), ManualClock())
    invoke = again.handle(
        "RunCommand",
        {**HZ, "Type": "RunShellScript", "InstanceId.1": "i-files-01", "CommandContent": "umount /data"},
    )
    again.advance(2)
    assert "not mounted" in result(again, invoke["InvokeId"])["Text"]


@pytest.mark.parametrize(
    ("guests", "message"),
    [
        ({"i-nope": {}}, "'i-nope' is not an instance of the fleet"),
        ({"i-web-01": {"Agent": "sleeping"}}, "Agent: expected one of running, stopped, absent"),
        (
            {"i-web-01": {"Mounts": [{"DiskId": "d-web-01-data", "MountPoint": "data"}]}},
            "MountPoint: expected an absolute path",
        ),
        (
            {"i-web-01": {"Mounts": [{"DiskId": "d-nope", "MountPoint": "/x"}]}},
            "'d-nope' is not a disk of the fleet",
        ),
    ],
)
def test_a_bad_guests_section_says_what_is_wrong(guests: dict[str, Any], message: str) -> None:
    fleet = load_fleet("demo")
    fleet["Emulator"]["Guests"] = guests
    with pytest.raises(FleetError, match=message):
        load_fleet(fleet)
