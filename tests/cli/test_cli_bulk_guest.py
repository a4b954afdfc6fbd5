"""A bulk detach on the command line reads the guests (issue 15): a mounted disk is refused (nothing sent for
it, exit 3) while the others are detached; --unmount releases it first; one probe per instance."""

from __future__ import annotations

from typing import Any

from cli_helpers import CliRunner, HttpEmulator

from ecs_detach.journal import Journal

PROBE = "# ecs-detach guest probe (read-only): block devices"


def files_guest(http_emulator: HttpEmulator) -> dict[str, Any]:
    section: dict[str, Any] = http_emulator.emulator.state()["Emulator"]["Guests"]["i-files-01"]
    return section


def data_mounted(http_emulator: HttpEmulator) -> bool:
    mounts = files_guest(http_emulator)["Mounts"]
    return any(m["DiskId"] == "d-files-01-data" and m["Mounted"] for m in mounts)


def requests(http_emulator: HttpEmulator, action: str) -> list[dict[str, Any]]:
    return [r for r in http_emulator.emulator.requests if r["action"] == action]


def detached(http_emulator: HttpEmulator) -> list[str]:
    return [r["params"]["DiskId"] for r in requests(http_emulator, "DetachDisk")]


def probed(http_emulator: HttpEmulator) -> list[str]:
    return [
        r["params"]["InstanceId.1"]
        for r in requests(http_emulator, "RunCommand")
        if r["params"].get("CommandContent", "").startswith(PROBE)
    ]


def test_a_bulk_detach_refuses_the_mounted_disk_and_detaches_the_other(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    ran = cli("detach", "d-files-01-data", "d-web-01-data", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 3, ran.err
    assert detached(http_emulator) == ["d-web-01-data"]
    assert data_mounted(http_emulator) and files_guest(http_emulator)["Hazards"] == []
    assert "Guest (d-files-01-data, row 23, fixable): Mounted in the guest at /data" in ran.out
    assert "--unmount" in ran.out
    assert "not done: d-files-01-data (blocked)" in ran.err


def test_the_bulk_json_carries_each_disks_guest_and_refusal(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    ran = cli("detach", "d-files-01-data", "d-web-01-data", "--yes", "--json", *http_emulator.endpoint_args)
    assert ran.code == 3, ran.err
    data = ran.json()
    refused, ready = data["plans"]
    assert not refused["executable"] and "--unmount" in refused["refusal"] and ready["executable"]
    guest = data["preconditions"][0]["guest"]
    assert guest["mount_points"] == ["/data"] and guest["fstab"][0]["mount_point"] == "/data"
    assert data["preconditions"][1]["guest"]["state"] == "read"
    outcomes = [r["outcome"] for r in data["report"]["results"]]
    assert outcomes == ["blocked", "done"] and data["exit_code"] == 3


def test_a_bulk_detach_with_unmount_releases_the_disk_before_its_detach(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    ran = cli(
        "detach", "d-files-01-data", "d-web-01-data", "--yes", "--unmount", *http_emulator.endpoint_args
    )
    assert ran.code == 0, ran.err
    assert (
        "Script sent to the guest of i-files-01 for d-files-01-data" in ran.out and "umount /data" in ran.out
    )
    log = [
        "unmount" if r["action"] == "RunCommand" else r["params"]["DiskId"]
        for r in http_emulator.emulator.requests
        if r["action"] == "DetachDisk"
        or (r["action"] == "RunCommand" and "umount /data" in r["params"].get("CommandContent", ""))
    ]
    assert sorted(log) == ["d-files-01-data", "d-web-01-data", "unmount"]
    assert log.index("unmount") < log.index("d-files-01-data")
    assert not data_mounted(http_emulator) and files_guest(http_emulator)["Hazards"] == []
    mine = [
        i.action
        for i, _ in journal.operations()
        if "d-files-01-data" in (i.disk_id, i.context.get("disk_id"))
    ]
    assert mine == ["RunCommand", "DetachDisk"]


def test_two_disks_of_one_instance_share_one_probe(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    ran = cli(
        "detach", "d-files-01-data", "d-files-01-app", "d-web-01-data", "--yes", *http_emulator.endpoint_args
    )
    assert ran.code == 3, ran.err
    assert sorted(probed(http_emulator)) == ["i-files-01", "i-web-01"]
    # What holds the mounts: one fuser probe for both mounted disks of the instance, not one each.
    files = [r for r in requests(http_emulator, "RunCommand") if r["params"]["InstanceId.1"] == "i-files-01"]
    assert len(files) == 2
    assert "fuser -vm /data" in files[1]["params"]["CommandContent"]
    assert "fuser -vm /var/lib/app" in files[1]["params"]["CommandContent"]
    assert "held by java (pid 2211, user app) on /var/lib/app" in ran.out  # the busy one, named
    assert "Guest (d-files-01-data, row 23, fixable): Mounted in the guest at /data" in ran.out
    assert detached(http_emulator) == ["d-web-01-data"]


def test_a_bulk_detach_without_the_guest_check_warns_and_journals_it(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    ran = cli(
        "detach",
        "d-files-01-data",
        "d-web-01-data",
        "--yes",
        "--skip-guest-check",
        *http_emulator.endpoint_args,
    )
    assert ran.code == 0, ran.err
    assert requests(http_emulator, "RunCommand") == []
    assert "Warning (d-files-01-data): The guest check was skipped (--skip-guest-check)" in ran.out
    checks = [i.context["guest_check"] for i, _ in journal.operations() if i.action == "DetachDisk"]
    assert checks == ["skipped", "skipped"]


def test_an_agentless_disk_in_a_bulk_run_is_unknown_with_the_commands_to_run_by_hand(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    ran = cli("detach", "d-noagent-01-data", "d-web-01-data", "--dry-run", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    assert (
        "Guest (d-noagent-01-data, row 22, unknown): Unknown: the Cloud Assistant Agent is not installed"
        in ran.out
    )
    assert "ls -l /dev/disk/by-id/ | grep noagent-01-data" in ran.out


def test_a_bulk_unmount_at_a_terminal_asks_for_the_number_of_disks_typed(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    args = ("detach", "d-files-01-data", "d-web-01-data", "--unmount", *http_emulator.endpoint_args)
    refused = cli(*args, typed="y")
    assert refused.code == 2 and "releases disks in their guests" in refused.out + refused.err
    assert requests(http_emulator, "DetachDisk") == [] and data_mounted(http_emulator)
    ran = cli(*args, typed="2")
    assert ran.code == 0, ran.err
    assert sorted(detached(http_emulator)) == ["d-files-01-data", "d-web-01-data"]
