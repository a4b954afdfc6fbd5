"""Windows end to end: the detach takes the data disk offline in the guest (Set-Disk), the undo attaches it
back and brings it online with its drive letter, even when the guest numbers its disks differently by then."""

from __future__ import annotations

from typing import Any

from ecs_detach import workflow
from ecs_detach.guest import GuestReport
from ecs_detach.plan import StepKind

from .conftest import Env, EnvFactory
from .test_guest import GUEST, guest_state, plan_for
from .test_guest_remount import detached_after_unmount, undo

FLEET: dict[str, Any] = {
    "Instances": [{"InstanceId": "i-app", "Status": "Running", "OSType": "windows"}],
    "Disks": [
        {"DiskId": "d-app-sys", "InstanceId": "i-app", "Type": "system"},
        {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data"},
        {"DiskId": "d-spare", "Type": "data", "Status": "Available"},
    ],
    "Emulator": {
        "Guests": {
            "i-app": {
                "OSType": "windows",
                "Mounts": [{"DiskId": "d-app-data", "Partition": 2, "MountPoint": "D:"}],
            }
        }
    },
}


def guest_now(env: Env) -> GuestReport:
    """What the guest shows of the data disk now (the toolkit's own probe, read-only)."""
    report = plan_for(env, GUEST).preconditions
    assert report is not None and report.guest is not None
    return report.guest


def test_a_windows_disk_goes_offline_and_comes_back_online_with_its_drive_letter(
    make_env: EnvFactory,
) -> None:
    env = make_env(FLEET)
    record = detached_after_unmount(env)
    assert guest_state(env)["OfflineDisks"] == ["d-app-data"]
    assert record.context["remount_type"] == "RunPowerShellScript" and record.context["unmounted"] == "D:"
    plan, result = undo(env, record, remount=True)
    step = plan.steps[-1]
    assert step.kind is StepKind.GUEST_REMOUNT
    assert step.description == "Bring disk d-app-data online again in the guest of i-app (D:)"
    assert result.outcome is workflow.Outcome.DONE, result.message
    assert guest_state(env)["OfflineDisks"] == []
    report = guest_now(env)
    assert (report.found, report.offline, report.drive_letters) == (True, False, ("D",))


def test_the_undo_brings_its_own_disk_online_when_the_guest_numbers_disks_anew(make_env: EnvFactory) -> None:
    env = make_env(FLEET)
    record = detached_after_unmount(env)
    env.client.attach_disk("d-spare", "i-app")  # takes the detached disk's device: it is disk 1 now
    env.emu.advance(60)
    _, result = undo(env, record, remount=True)
    assert result.outcome is workflow.Outcome.DONE, result.message
    assert guest_state(env)["OfflineDisks"] == []
    report = guest_now(env)
    assert (report.disk_number, report.offline, report.drive_letters) == (2, False, ("D",))


def test_the_remount_names_the_disk_by_its_serial_not_its_number(make_env: EnvFactory) -> None:
    env = make_env(FLEET)
    plan = workflow.prepare_reattach(env.client, detached_after_unmount(env), remount=True)
    script = plan.steps[-1].params["CommandContent"]
    assert "Get-Disk -SerialNumber 'app-data' | Set-Disk -IsOffline $false" in script
    assert "-Number" not in script  # the number read before the detach may name another disk by now


def test_a_windows_detach_and_undo_rerun_brings_it_online(make_env: EnvFactory) -> None:
    env = make_env(FLEET)
    record = detached_after_unmount(env)
    plan = workflow.prepare_reattach(env.client, record, remount=False)
    assert workflow.run(env.client, plan, **env.kw).outcome is workflow.Outcome.DONE
    assert guest_state(env)["OfflineDisks"] == ["d-app-data"]  # attached, still offline
    _, again = undo(env, record, remount=True)
    assert again.outcome is workflow.Outcome.DONE, again.message
    assert again.message.endswith("In the guest: D: online again.")
    assert guest_state(env)["OfflineDisks"] == []
