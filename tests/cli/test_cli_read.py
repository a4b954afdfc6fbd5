"""instances, disks, check, journal, snapshot-fleet and the usage errors, in-process on the demo emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import DEMO_SECRET, CliRunner

from ecs_detach.emulator import Emulator
from ecs_detach.emulator.fleet import load_fleet
from ecs_detach.preconditions import GUEST_RULES, RULES


def test_instances_shows_a_table_and_json_with_documented_keys(cli: CliRunner) -> None:
    table = cli("instances", "--demo")
    assert table.code == 0
    assert "i-web-01" in table.out and "● Running" in table.out and "i-jump-01" in table.out
    data = cli("instances", "--demo", "--json").json()
    assert data["region_id"] == "cn-hangzhou"
    web = next(i for i in data["instances"] if i["instance_id"] == "i-web-01")
    assert set(web) == {"instance_id", "name", "status", "instance_type", "zone_id", "locks"}
    jump = next(i for i in data["instances"] if i["instance_id"] == "i-jump-01")
    assert "security" in jump["locks"]


def test_disks_of_one_instance(cli: CliRunner) -> None:
    ran = cli("disks", "--demo", "--instance", "i-web-01", "--json")
    assert ran.code == 0
    ids = {d["disk_id"] for d in ran.json()["disks"]}
    assert {"d-web-01-sys", "d-web-01-data"} <= ids
    assert all("i-web-01" in d["instance_ids"] for d in ran.json()["disks"])
    other_region = cli("disks", "--demo", "--region", "cn-shanghai")
    assert other_region.code == 0 and "d-sh-spare-01" in other_region.out


def test_check_reports_every_row_with_a_symbol_the_verdict_code_and_remedy(cli: CliRunner) -> None:
    ran = cli("check", "d-web-01-sys", "--demo")
    assert ran.code == 0  # fixable: the detach can go ahead with --stop-instance
    for number in range(1, 19):
        assert f"\n{number} " in ran.out
    assert "✓ pass" in ran.out and "↻ fixable" in ran.out and "– n/a" in ran.out
    assert "Verdict: ↻ fixable" in ran.out
    assert "DetachDisk would now answer: IncorrectInstanceStatus" in ran.out
    assert "Remedy: Stop the instance first" in ran.out


@pytest.mark.parametrize(
    ("disk", "code"),
    [("d-jump-01-data", "InstanceLockedForSecurity"), ("d-bigdata-01-hdd1", "DiskNotPortable")],
)
def test_check_of_a_blocked_disk_exits_3_with_the_predicted_code(
    cli: CliRunner, disk: str, code: str
) -> None:
    ran = cli("check", disk, "--demo", "--json")
    assert ran.code == 3
    data = ran.json()
    assert data["verdict"] == "blocked" and data["predicted_code"] == code and data["exit_code"] == 3
    assert data["remedy"]
    assert len(data["rows"]) == len(RULES) + len(GUEST_RULES)  # the API's rules and the guest's
    assert {"row", "condition", "status", "sentence", "remedy", "code", "http_status"} <= set(data["rows"][0])


def test_check_of_a_missing_disk_is_blocked_by_row_4(cli: CliRunner) -> None:
    ran = cli("check", "d-nope", "--demo", "--instance", "i-web-01")
    assert ran.code == 3
    assert "✗ fail" in ran.out and "InvalidDiskId.NotFound" in ran.out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["check", "disk1", "--demo"], "is not a disk id: disk ids start with 'd-'"),
        (["check", "i-web-01", "--demo"], "looks like an instance id"),
        (["check", "d-web;rm -rf", "--demo"], "only letters, digits and '-'"),
        (["check", "d-" + "a" * 80, "--demo"], "too long for a disk id"),
        (["disks", "--demo", "--instance", "web-01"], "is not an instance id"),
        (["instances", "--demo", "--region", "Mars!"], "is not a region id"),
        (["instances", "--demo", "--endpoint", "ftp://x"], "only http:// and https://"),
        (["detach", "d-web-01-data", "--demo", "--timeout", "soon"], "is not a number of seconds"),
        (["detach", "d-web-01-data", "--demo", "--force-stop"], "--force-stop only applies"),
        (["detach", "d-a", "d-a", "--demo"], "named twice"),
        (["attach", "--demo"], "attach needs --operation"),
        (["attach", "d-x", "--instance", "i-x", "--password-env", "P"], "are for a system disk"),
        (
            ["attach", "d-x", "--instance", "i-x", "--bootable", "--password-env", "hunter2!"],
            "NAME of an env",
        ),
        (["instances", "--colour"], "unrecognized arguments"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_message(cli: CliRunner, argv: list[str], expected: str) -> None:
    ran = cli(*argv)
    assert ran.code == 2
    assert expected in ran.err
    assert "what to do:" in ran.err
    assert "Traceback" not in ran.text
    assert ran.out == ""


def test_usage_errors_with_json_still_print_json(cli: CliRunner) -> None:
    ran = cli("check", "disk1", "--demo", "--json")
    assert ran.code == 2
    assert ran.json()["error"]["message"].startswith("'disk1' is not a disk id")


def test_unknown_profile_and_missing_credentials_exit_2_before_any_request(cli: CliRunner) -> None:
    unknown = cli("instances", "--profile", "nope")
    assert unknown.code == 2 and "unknown profile 'nope'" in unknown.err
    missing = cli("instances")
    assert missing.code == 2 and "no credentials found" in missing.err
    assert "ecs-detach --demo" in missing.err
    assert "Traceback" not in unknown.text + missing.text


def test_an_unreachable_endpoint_is_one_message_with_a_remedy(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tEmulatorDemoKey")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_SECRET)
    ran = cli("instances", "--endpoint", "http://127.0.0.1:9")
    assert ran.code == 1
    assert "what to do:" in ran.err and "--endpoint" in ran.err
    assert "Traceback" not in ran.text and DEMO_SECRET not in ran.text


def test_the_journal_is_empty_at_first_and_needs_no_credentials(cli: CliRunner, home: Path) -> None:
    ran = cli("journal", "--json")
    assert ran.code == 0
    data = ran.json()
    assert data["operations"] == [] and data["path"].startswith(str(home))
    assert "(none)" in cli("journal").out


def test_snapshot_fleet_captures_raw_objects_that_replay_in_the_emulator(
    cli: CliRunner, tmp_path: Path
) -> None:
    output = tmp_path / "capture.json"
    ran = cli("snapshot-fleet", "--demo", "--output", str(output))
    assert ran.code == 0, ran.err
    assert "ecs-detach emulator --fleet" in ran.out
    fleet = json.loads(output.read_text())
    demo = load_fleet("demo")
    assert len(fleet["Instances"]) == len(demo["Instances"]) and len(fleet["Disks"]) == len(demo["Disks"])
    assert {r["RegionId"] for r in fleet["Regions"]} == {r["RegionId"] for r in demo["Regions"]}
    web = next(i for i in fleet["Instances"] if i["InstanceId"] == "i-web-01")
    assert web["Status"] == "Running" and "InstanceType" in web  # the API's own objects and field names
    replayed = Emulator(fleet=str(output))
    assert len(replayed.state()["Disks"]) == len(demo["Disks"])


def test_snapshot_fleet_of_one_region_to_stdout(cli: CliRunner) -> None:
    ran = cli("snapshot-fleet", "--demo", "--region", "cn-shanghai")
    assert ran.code == 0
    fleet = json.loads(ran.out)
    assert {d["RegionId"] for d in fleet["Disks"]} == {"cn-shanghai"}
    assert DEMO_SECRET not in ran.text
