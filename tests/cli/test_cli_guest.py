"""The guest-aware detach on the command line (issue 15's "done when"): check names the mount and the fstab
line; detach refuses a mounted disk (exit 3, nothing sent) unless --unmount; an agent-less one is unknown."""

from __future__ import annotations

from typing import Any

from cli_helpers import CliRunner, HttpEmulator

from ecs_detach.journal import Journal


def guest(http_emulator: HttpEmulator, instance_id: str) -> dict[str, Any]:
    section: dict[str, Any] = http_emulator.emulator.state()["Emulator"]["Guests"][instance_id]
    return section


def sent(http_emulator: HttpEmulator, *actions: str) -> list[str]:
    return [r["action"] for r in http_emulator.emulator.requests if r["action"] in actions]


def test_check_json_names_the_mount_point_and_the_fstab_line(cli: CliRunner) -> None:
    ran = cli("check", "d-files-01-data", "--demo", "--json")
    assert ran.code == 0, ran.err
    data = ran.json()
    assert data["verdict"] == "fixable" and data["guest"]["mount_points"] == ["/data"]
    (line,) = data["guest"]["fstab"]
    assert line["mount_point"] == "/data" and line["line"].endswith("/data ext4 defaults 0 2")
    rows = {row["row"]: row for row in data["rows"]}
    assert rows[23]["status"] == "fixable" and rows[24]["status"] == "fixable"
    assert len(data["rows"]) == 25


def test_detach_refuses_a_mounted_disk_and_sends_nothing(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    ran = cli("detach", "d-files-01-data", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 3, ran.err
    assert "--unmount" in ran.err
    assert sent(http_emulator, "DetachDisk") == []
    assert guest(http_emulator, "i-files-01")["Mounts"][0]["Mounted"] is True


def test_detach_unmount_releases_the_disk_in_the_guest_first(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    ran = cli("detach", "d-files-01-data", "--yes", "--unmount", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    assert "umount /data" in ran.out  # the script, word for word, in the plan
    # The probe's RunCommand, the holders' probe, then the fix; DetachDisk only after it.
    assert sent(http_emulator, "RunCommand", "DetachDisk")[-2:] == ["RunCommand", "DetachDisk"]
    mounts = guest(http_emulator, "i-files-01")["Mounts"]
    assert [m["Mounted"] for m in mounts if m["DiskId"] == "d-files-01-data"] == [False]
    assert guest(http_emulator, "i-files-01")["Hazards"] == []
    assert [i.action for i, _ in journal.operations()] == ["RunCommand", "DetachDisk"]


def test_detach_without_the_guest_check_of_a_mounted_disk_leaves_the_hazard(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    ran = cli("detach", "d-files-01-data", "--yes", "--skip-guest-check", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    assert "--skip-guest-check" in ran.out and "Warning:" in ran.out
    assert sent(http_emulator, "RunCommand") == []
    hazards = [h["Hazard"] for h in guest(http_emulator, "i-files-01")["Hazards"]]
    assert any("writes in flight were lost" in h for h in hazards)
    (intent, _), *_ = journal.operations()
    assert intent.action == "DetachDisk" and intent.context["guest_check"] == "skipped"


def test_a_busy_mount_is_blocked_with_what_holds_it(cli: CliRunner) -> None:
    ran = cli("check", "d-files-01-app", "--demo")
    assert ran.code == 3
    assert "java (pid 2211, user app)" in ran.out


def test_an_instance_without_the_agent_reports_unknown_with_the_manual_commands(cli: CliRunner) -> None:
    ran = cli("check", "d-noagent-01-data", "--demo", "--json")
    rows = {row["row"]: row for row in ran.json()["rows"]}
    assert rows[22]["status"] == "unknown"
    assert "not installed" in rows[22]["sentence"]
    assert "ls -l /dev/disk/by-id/ | grep noagent-01-data" in rows[22]["remedy"]
    assert "sudo umount" in rows[22]["remedy"]


def detach_then_undo(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal, *flags: str
) -> tuple[Any, dict[str, Any]]:
    ran = cli("detach", "d-files-01-data", "--yes", "--unmount", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    found = journal.last_detach("d-files-01-data")
    assert found is not None
    undone = cli(
        "attach", "--operation", found[0].operation_id, "--yes", *flags, *http_emulator.endpoint_args
    )
    files = guest(http_emulator, "i-files-01")
    (mount,) = [m for m in files["Mounts"] if m["DiskId"] == "d-files-01-data"]
    return undone, {"mounted": mount["Mounted"], "fstab": files["EtcFstab"]}


def test_attach_operation_mounts_it_back_by_default(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    undone, after = detach_then_undo(cli, http_emulator, journal)
    assert undone.code == 0, undone.err
    assert "Mount /data back in the guest of i-files-01" in undone.out and "mount /data" in undone.out
    assert after["mounted"] is True
    assert any(
        line.endswith("/data ext4 defaults 0 2") and line.startswith("UUID=") for line in after["fstab"]
    )
    assert sent(http_emulator, "AttachDisk", "RunCommand")[-2:] == ["AttachDisk", "RunCommand"]
    assert [i.action for i, _ in journal.operations()][-2:] == ["AttachDisk", "RunCommand"]


def test_attach_operation_no_remount_leaves_it_unmounted(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    undone, after = detach_then_undo(cli, http_emulator, journal, "--no-remount")
    assert undone.code == 0, undone.err
    assert "back in the guest" not in undone.out
    assert after["mounted"] is False
    assert any(line.startswith("# ecs-detach: UUID=") for line in after["fstab"])
    assert [i.action for i, _ in journal.operations()][-1] == "AttachDisk"
