"""`move` reads the source's guest as `detach` does: a disk mounted there is refused (exit 3, nothing sent)
unless --unmount, which releases it before the DetachDisk half; --skip-guest-check moves it unread."""

from __future__ import annotations

from cli_helpers import CliRunner, HttpEmulator

from ecs_detach.journal import Journal


def _sent(http_emulator: HttpEmulator, *actions: str) -> list[str]:
    return [r["action"] for r in http_emulator.emulator.requests if r["action"] in actions]


def _mounted(http_emulator: HttpEmulator, instance_id: str, disk_id: str) -> list[bool]:
    mounts = http_emulator.emulator.state()["Emulator"]["Guests"][instance_id]["Mounts"]
    return [m["Mounted"] for m in mounts if m["DiskId"] == disk_id]


def test_move_refuses_a_disk_mounted_in_the_source_guest(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    ran = cli("move", "d-files-01-data", "--to", "i-web-02", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 3, ran.err
    assert "--unmount" in ran.err and "in use in the guest" in ran.err
    assert _sent(http_emulator, "DetachDisk", "AttachDisk") == []
    assert _mounted(http_emulator, "i-files-01", "d-files-01-data") == [True]


def test_move_unmount_releases_it_before_detaching_then_attaches_to_the_target(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    args = ("move", "d-files-01-data", "--to", "i-web-02", "--yes", "--unmount")
    ran = cli(*args, *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    assert "umount /data" in ran.out
    assert _sent(http_emulator, "RunCommand", "DetachDisk", "AttachDisk")[-3:] == [
        "RunCommand",
        "DetachDisk",
        "AttachDisk",
    ]
    assert _mounted(http_emulator, "i-files-01", "d-files-01-data") == [False]
    assert http_emulator.emulator.state()["Emulator"]["Guests"]["i-files-01"]["Hazards"] == []
    assert [i.action for i, _ in journal.operations()] == ["RunCommand", "DetachDisk", "AttachDisk"]


def test_move_skip_guest_check_moves_without_reading_the_guest(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    args = ("move", "d-files-01-data", "--to", "i-web-02", "--yes", "--skip-guest-check")
    ran = cli(*args, *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    assert "--skip-guest-check" in ran.out
    assert _sent(http_emulator, "RunCommand", "DescribeCloudAssistantStatus") == []
