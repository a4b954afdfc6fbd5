"""The guest model's pieces the undo's remount uses: Set-Disk by serial (Windows) and the MountError knob."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.fleet import FleetError, load_fleet

from .test_guests import result, run

ONLINE = "Get-Disk -SerialNumber '{serial}' | Set-Disk -IsOffline ${offline}"


def offline_disks(backend: Backend, instance_id: str) -> list[str]:
    disks: list[str] = backend.snapshot()["Emulator"]["Guests"][instance_id]["OfflineDisks"]
    return disks


def test_set_disk_by_serial_takes_that_disk_offline_and_online(backend: Backend, clock: ManualClock) -> None:
    ps = "RunPowerShellScript"
    off = run(backend, clock, "i-win-01", ONLINE.format(serial="win-01-data", offline="true"), ps)
    assert off["ExitCode"] == 0 and offline_disks(backend, "i-win-01") == ["d-win-01-data"]
    on = run(backend, clock, "i-win-01", ONLINE.format(serial="win-01-data", offline="false"), ps)
    assert on["ExitCode"] == 0 and offline_disks(backend, "i-win-01") == []


def test_set_disk_by_a_serial_no_disk_has_fails_as_powershell_does(
    backend: Backend, clock: ManualClock
) -> None:
    ran = run(
        backend, clock, "i-win-01", ONLINE.format(serial="nosuch", offline="false"), "RunPowerShellScript"
    )
    assert ran["ExitCode"] == 1 and ran["InvocationStatus"] == "Failed"
    assert (
        "Get-Disk : No MSFT_Disk objects found with property 'SerialNumber' equal to 'nosuch'" in ran["Text"]
    )


def fleet_with_mount(**mount: Any) -> dict[str, Any]:
    return {
        "Instances": [{"InstanceId": "i-app", "Status": "Running"}],
        "Disks": [
            {"DiskId": "d-app-sys", "InstanceId": "i-app", "Type": "system"},
            {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data"},
        ],
        "Emulator": {
            "Guests": {
                "i-app": {"Mounts": [{"DiskId": "d-app-data", "MountPoint": "/data", "Fstab": True, **mount}]}
            }
        },
    }


def test_mount_error_makes_mount_fail_with_its_text(clock: ManualClock) -> None:
    backend = Backend(fleet_with_mount(Mounted=False, MountError="wrong fs type, bad superblock"), clock)
    ran = run(backend, clock, "i-app", "mount /data")
    assert ran["ExitCode"] == 32 and ran["Text"] == "mount: /data: wrong fs type, bad superblock\n"
    mount = backend.snapshot()["Emulator"]["Guests"]["i-app"]["Mounts"][0]
    assert mount["Mounted"] is False and mount["MountError"] == "wrong fs type, bad superblock"


def test_without_mount_error_the_state_has_no_such_key(clock: ManualClock) -> None:
    backend = Backend(fleet_with_mount(), clock)
    assert "MountError" not in backend.snapshot()["Emulator"]["Guests"]["i-app"]["Mounts"][0]


def test_a_mount_error_that_is_not_text_is_refused_with_where(clock: ManualClock) -> None:
    with pytest.raises(FleetError, match=r"Emulator.Guests.i-app.Mounts\[0\].MountError"):
        load_fleet(fleet_with_mount(MountError=5))


def test_hang_on_keeps_a_matching_invocation_running_for_ever(clock: ManualClock) -> None:
    fleet = fleet_with_mount()
    fleet["Emulator"]["Guests"]["i-app"]["HangOn"] = "umount"
    backend = Backend(fleet, clock)
    hung = run(backend, clock, "i-app", "umount /data")
    clock.advance(10**6)
    assert result(backend, hung["InvokeId"])["InvocationStatus"] == "Running"
    assert run(backend, clock, "i-app", "cat /etc/fstab")["InvocationStatus"] == "Success"  # others finish
    assert backend.snapshot()["Emulator"]["Guests"]["i-app"]["Mounts"][0]["Mounted"] is True


def test_hang_on_that_is_not_text_is_refused_with_where() -> None:
    fleet = fleet_with_mount()
    fleet["Emulator"]["Guests"]["i-app"]["HangOn"] = True
    with pytest.raises(FleetError, match=r"Emulator.Guests.i-app.HangOn"):
        load_fleet(fleet)
