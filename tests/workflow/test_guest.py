"""Guest-aware detach: the probe's parser, the guest rows, the plan's guest step and the run that sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_detach import workflow
from ecs_detach.guest import GuestState, disk_serial, parse_holders, parse_probe, unmount_script
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import GUEST_MOUNTED, DetachOptions, RowStatus, Verdict
from ecs_detach.workflow import GuestTime

from .conftest import Env, EnvFactory

GUEST = DetachOptions(guest_check=True)
UNMOUNT = DetachOptions(guest_check=True, unmount=True)


def fleet(guest: dict[str, Any], *, status: str = "Running") -> dict[str, Any]:
    return {
        "Instances": [{"InstanceId": "i-app", "Status": status}],
        "Disks": [
            {"DiskId": "d-app-sys", "InstanceId": "i-app", "Type": "system"},
            {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data"},
        ],
        "Emulator": {"Guests": {"i-app": guest}},
    }


MOUNTED = {"Mounts": [{"DiskId": "d-app-data", "MountPoint": "/data", "Fstab": True}]}


def plan_for(env: Env, options: DetachOptions = GUEST, disk_id: str = "d-app-data") -> workflow.Plan:
    return workflow.prepare(
        env.client,
        disk_id,
        options,
        facts=workflow.emulator_facts(env.emu),
        journal=env.journal,
        guest_time=GuestTime(sleep=env.emu.advance, clock=env.emu.now),
    )


def guest_state(env: Env) -> dict[str, Any]:
    section: dict[str, Any] = env.emu.state()["Emulator"]["Guests"]["i-app"]
    return section


def test_the_serial_is_the_disk_id_without_d_and_at_most_20_characters() -> None:
    assert disk_serial("d-bp1abcdefghijklmnopqrstu") == "bp1abcdefghijklmnopq"
    assert disk_serial("d-web-01-data") == "web-01-data"


def test_the_parser_finds_the_disk_by_serial_and_its_fstab_lines() -> None:
    tree = {
        "blockdevices": [
            {"name": "vda", "serial": "other", "type": "disk", "children": []},
            {
                "name": "vdb",
                "serial": "app-data",
                "type": "disk",
                "children": [
                    {"name": "vdb1", "type": "part", "fstype": "xfs", "mountpoint": "/srv", "uuid": "u-1"},
                    {"name": "vdb2", "type": "part", "fstype": "swap", "mountpoint": "[SWAP]", "uuid": "u-2"},
                ],
            },
        ]
    }
    output = "\n".join(
        [
            "--- lsblk",
            json.dumps(tree),
            "--- fstab",
            "UUID=u-1 /srv xfs defaults,nofail 0 2",
            "UUID=zzz /other ext4 defaults 0 2",
            "# a comment",
            "--- swaps",
        ]
    )
    report = parse_probe("i-app", "d-app-data", "linux", output)
    assert report.state is GuestState.READ and report.found
    assert report.mount_points == ("/srv",) and report.swap == ("/dev/vdb2",)
    (entry,) = report.active_fstab
    assert entry.mount_point == "/srv" and entry.nofail
    assert "umount /srv" in unmount_script(report)


def test_output_that_is_not_the_probes_is_unreadable_not_a_traceback() -> None:
    report = parse_probe("i-app", "d-app-data", "linux", "--- lsblk\nnot json")
    assert report.state is GuestState.UNREADABLE and "could not be understood" in report.detail


def test_fuser_output_names_the_holders() -> None:
    output = (
        "--- /data\n                     USER        PID ACCESS COMMAND\n"
        "/data:               root     kernel mount /data\n                     app       2211 ..c.. java\n"
    )
    (holder,) = parse_holders(output)
    assert (holder.command, holder.pid, holder.user, holder.mount_point) == ("java", 2211, "app", "/data")


def test_a_mounted_disk_with_an_fstab_line_is_fixable_and_refused_without_unmount(
    make_env: EnvFactory,
) -> None:
    env = make_env(fleet(MOUNTED))
    plan = plan_for(env)
    pre = plan.preconditions
    assert pre is not None and pre.verdict is Verdict.FIXABLE and pre.predicted_code is None
    assert pre.rule(GUEST_MOUNTED).status is RowStatus.FIXABLE and "/data" in pre.row(23).sentence
    assert pre.row(24).status is RowStatus.FIXABLE and "/data ext4 defaults 0 2" in pre.row(24).sentence
    assert not plan.executable and "--unmount" in plan.refusal


def test_the_run_unmounts_by_run_command_before_detaching_and_journals_it(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    plan = plan_for(env, UNMOUNT)
    (step,) = [s for s in plan.steps if s.kind is StepKind.GUEST_UNMOUNT]
    assert (
        "umount /data" in step.params["CommandContent"] and "# ecs-detach: &" in step.params["CommandContent"]
    )
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is workflow.Outcome.DONE, result.message
    actions = [r["action"] for r in env.emu.requests if r["action"] in ("RunCommand", "DetachDisk")]
    assert actions[-2:] == ["RunCommand", "DetachDisk"]
    guest = guest_state(env)
    assert guest["Mounts"][0]["Mounted"] is False and guest["Hazards"] == []
    assert any(line.startswith("# ecs-detach: UUID=") for line in guest["EtcFstab"])
    assert "/etc/fstab.ecs-detach-d-app-data.bak" in guest["Backups"]
    journaled = [(i.action, o.result if o else None) for i, o in env.journal.operations()]
    assert journaled == [("RunCommand", "ok"), ("DetachDisk", "ok")]


def test_a_mount_that_became_busy_refuses_the_detach_and_names_the_holder(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    plan = plan_for(env, UNMOUNT)
    busy = {"Busy": True, "Holder": {"Command": "postgres", "Pid": 77, "User": "pg"}}
    state = env.emu.state()
    state["Emulator"]["Guests"]["i-app"]["Mounts"][0].update(busy)
    env.emu.reset(state)
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is workflow.Outcome.BLOCKED and result.exit_code == 3
    assert "target is busy" in result.message and "postgres (pid 77, user pg)" in result.message
    assert not [r for r in env.emu.requests if r["action"] == "DetachDisk"]


@pytest.mark.parametrize(
    ("guest", "row", "status", "words"),
    [
        ({"Agent": "absent"}, 22, RowStatus.UNKNOWN, "lsblk -o NAME,SERIAL"),
        ({"Agent": "stopped"}, 22, RowStatus.UNKNOWN, "not online"),
        ({"Swap": [{"DiskId": "d-app-data"}]}, 25, RowStatus.FAIL, "swapoff /dev/vdb1"),
        ({"Lvm": [{"DiskId": "d-app-data", "VolumeGroup": "vg0"}]}, 25, RowStatus.FAIL, "pvmove /dev/vdb1"),
        ({"Raid": [{"DiskId": "d-app-data"}]}, 25, RowStatus.FAIL, "mdadm"),
        (
            {"Mounts": [{"DiskId": "d-app-data", "MountPoint": "/d", "Busy": True, "Holder": "nginx"}]},
            23,
            RowStatus.FAIL,
            "held by nginx",
        ),
    ],
)
def test_guest_rows(
    make_env: EnvFactory, guest: dict[str, Any], row: int, status: RowStatus, words: str
) -> None:
    pre = plan_for(make_env(fleet(guest))).preconditions
    assert pre is not None
    assert pre.row(row).status is status
    assert words in pre.row(row).sentence + pre.row(row).remedy


def test_a_stopped_instance_makes_the_guest_rows_not_applicable(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED, status="Stopped"))
    pre = plan_for(env).preconditions
    assert pre is not None and {r.status for r in pre.rows[21:]} == {RowStatus.NOT_APPLICABLE}
    assert not [r for r in env.emu.requests if r["action"] == "RunCommand"]


def test_skipping_the_guest_check_reads_nothing_and_warns(make_env: EnvFactory) -> None:
    env = make_env(fleet(MOUNTED))
    plan = plan_for(env, DetachOptions(guest_check=True, skip_guest_check=True))
    assert plan.executable and any("--skip-guest-check" in w for w in plan.warnings)
    assert not [r for r in env.emu.requests if r["action"] == "RunCommand"]


def test_a_windows_disk_online_is_taken_offline(make_env: EnvFactory) -> None:
    guest = {"OSType": "windows", "Mounts": [{"DiskId": "d-app-data", "MountPoint": "E:"}]}
    env = make_env(fleet(guest))
    plan = plan_for(env, UNMOUNT)
    (step,) = [s for s in plan.steps if s.kind is StepKind.GUEST_UNMOUNT]
    assert (
        step.params["Type"] == "RunPowerShellScript"
        and "Set-Disk -Number 1 -IsOffline $true" in step.params["CommandContent"]
    )
    assert workflow.run(env.client, plan, **env.kw).outcome is workflow.Outcome.DONE
    assert guest_state(env)["OfflineDisks"] == ["d-app-data"]
