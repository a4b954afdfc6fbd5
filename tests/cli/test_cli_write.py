"""detach, bulk detach, attach and the journal, in-process: on the demo emulator (virtual time) and on an
emulator served over HTTP in a thread (instant transitions, state kept between commands)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import DEMO_SECRET, CliRunner, HttpEmulator
from journal_helpers import KILLED

from ecs_detach.journal import Journal


def _actions(journal: Journal) -> list[tuple[str, str, str]]:
    return [
        (i.action, i.disk_id or i.instance_id, o.result if o else "PENDING") for i, o in journal.operations()
    ]


def test_detach_a_data_disk_follows_it_to_available_and_journals_it(
    cli: CliRunner, demo_journal: Journal
) -> None:
    ran = cli("detach", "d-web-01-data", "--demo", "--yes")
    assert ran.code == 0, ran.err
    assert "Plan: detach d-web-01-data / i-web-01" in ran.out
    assert (
        "$ aliyun ecs DetachDisk --RegionId cn-hangzhou --InstanceId i-web-01 --DiskId d-web-01-data"
        in ran.out
    )
    assert "ETA: about 60 s" in ran.out
    assert "✓ Disk d-web-01-data is detached from instance i-web-01." in ran.out
    assert "Waiting for disk d-web-01-data" in ran.err  # plain progress lines off a terminal
    assert "Using DEMO (emulator)" in ran.err
    (intent, outcome), *_ = demo_journal.operations()
    assert not (demo_journal.path.parent / "journal.jsonl").exists()  # demo runs stay out of the real journal
    assert intent.action == "DetachDisk" and outcome is not None and outcome.result == "ok"
    assert outcome.request_id and outcome.request_id in ran.out


def test_detach_json_has_the_plan_the_result_and_the_exit_code(cli: CliRunner) -> None:
    ran = cli("detach", "d-web-01-data", "--demo", "--yes", "--json")
    assert ran.code == 0
    data = ran.json()
    assert data["command"] == "detach" and data["exit_code"] == 0 and data["no_wait"] is False
    assert [s["action"] for s in data["plan"]["steps"]] == ["DetachDisk", None]
    assert data["plan"]["steps"][0]["aliyun"].startswith("aliyun ecs DetachDisk")
    assert data["preconditions"]["verdict"] == "ready"
    result = data["result"]
    assert result["outcome"] == "done" and result["disk_status"] == "Available"
    assert result["steps"][0]["request_id"]


def test_a_system_disk_needs_stop_instance_else_exit_3_and_nothing_sent(
    cli: CliRunner, demo_journal: Journal
) -> None:
    ran = cli("detach", "d-web-01-sys", "--demo", "--yes")
    assert ran.code == 3
    assert "blocked, nothing was sent" in ran.err and "--stop-instance" in ran.err
    assert demo_journal.operations() == []


def test_stopping_needs_the_disk_id_typed(cli: CliRunner, demo_journal: Journal) -> None:
    wrong = cli("detach", "d-web-01-sys", "--demo", "--stop-instance", typed="yes\n")
    assert wrong.code == 2 and "not confirmed: nothing was sent" in wrong.err
    assert "Type d-web-01-sys to go ahead" in wrong.err and "SYSTEM disk" in wrong.err
    assert demo_journal.operations() == []
    right = cli(
        "detach",
        "d-web-01-sys",
        "--demo",
        "--stop-instance",
        "--delete-with-instance",
        "false",
        typed="d-web-01-sys\n",
    )
    assert right.code == 0, right.err
    assert [a for a, _, _ in _actions(demo_journal)] == ["StopInstance", "DetachDisk"]
    assert "left Stopped" in right.out


def test_a_data_disk_asks_yes_or_no_at_a_terminal(cli: CliRunner, demo_journal: Journal) -> None:
    declined = cli("detach", "d-web-01-data", "--demo", typed="\n")
    assert declined.code == 2 and demo_journal.operations() == []
    accepted = cli("detach", "d-web-01-data", "--demo", typed="y\n")
    assert accepted.code == 0


def test_without_yes_and_without_a_terminal_nothing_is_sent(cli: CliRunner, demo_journal: Journal) -> None:
    ran = cli("detach", "d-web-01-data", "--demo")
    assert ran.code == 2
    assert "stdin is not a terminal" in ran.err and "--yes" in ran.err
    assert demo_journal.operations() == []


def test_read_only_refuses_before_anything_is_sent(cli: CliRunner, demo_journal: Journal) -> None:
    ran = cli("detach", "d-web-01-data", "--demo", "--yes", "--read-only")
    assert ran.code == 2 and "read-only" in ran.err
    assert demo_journal.operations() == []


@pytest.mark.parametrize(
    ("disk", "code"),
    [("d-jump-01-data", "InstanceLockedForSecurity"), ("d-bigdata-01-hdd1", "DiskNotPortable")],
)
def test_blocked_disks_exit_3_and_nothing_is_sent(
    cli: CliRunner, demo_journal: Journal, disk: str, code: str
) -> None:
    ran = cli("detach", disk, "--demo", "--yes", "--json")
    assert ran.code == 3
    data = ran.json()
    assert data["preconditions"]["predicted_code"] == code and data["result"] is None
    assert data["plan"]["executable"] is False
    assert demo_journal.operations() == []


def test_an_available_disk_is_already_detached(cli: CliRunner) -> None:
    ran = cli("detach", "d-spare-01", "--demo", "--yes")
    assert ran.code == 0 and "already detached: nothing was sent" in ran.out


def test_no_wait_sends_detach_and_returns(cli: CliRunner, demo_journal: Journal) -> None:
    ran = cli("detach", "d-web-01-data", "--demo", "--yes", "--no-wait")
    assert ran.code == 0, ran.err
    assert "not waiting (--no-wait)" in ran.out and "ecs-detach check d-web-01-data" in ran.out
    assert _actions(demo_journal) == [("DetachDisk", "d-web-01-data", "ok")]


def test_bulk_detach_reports_partial_failure(cli: CliRunner, demo_journal: Journal) -> None:
    ran = cli("detach", "d-web-01-data", "d-jump-01-data", "d-web-02-data", "--demo", "--yes", "--json")
    assert ran.code == 3  # one disk blocked by a precondition, the others done
    data = ran.json()
    assert [p["disk_id"] for p in data["plans"]] == ["d-web-01-data", "d-jump-01-data", "d-web-02-data"]
    outcomes = {r["disk_id"]: r["outcome"] for r in data["report"]["results"]}
    assert outcomes == {"d-web-01-data": "done", "d-jump-01-data": "blocked", "d-web-02-data": "done"}
    assert data["report"]["succeeded"] == 2 and data["report"]["failed"] == 1
    assert sorted(d for _, d, _ in _actions(demo_journal)) == ["d-web-01-data", "d-web-02-data"]
    table = cli("detach", "d-web-01-data", "d-jump-01-data", "--demo", "--yes")
    assert "Preflight: 2 disks" in table.out and "InstanceLockedForSecurity" in table.out
    assert "Results" in table.out and "1 of 2 disk(s) done" in table.err
    results = table.out.split("Results", 1)[1]
    assert "blocked" in results and "InstanceLockedForSecurity" in results  # the code its preflight predicted


def test_bulk_with_every_disk_blocked_sends_nothing(cli: CliRunner, demo_journal: Journal) -> None:
    ran = cli("detach", "d-jump-01-data", "d-bigdata-01-hdd1", "--demo", "--yes")
    assert ran.code == 3 and "nothing was sent" in ran.err
    assert demo_journal.operations() == []


def test_attaching_a_system_disk_takes_the_password_from_the_environment_only(
    cli: CliRunner, demo_journal: Journal, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    secret = "S3cret-Pa55word!"
    monkeypatch.setenv("RESCUE_PW", secret)
    missing = cli("attach", "d-rescue-01-sys", "--instance", "i-rescue-01", "--demo", "--yes")
    assert missing.code == 2 and "--bootable" in missing.err
    ran = cli(
        "attach",
        "d-rescue-01-sys",
        "--instance",
        "i-rescue-01",
        "--demo",
        "--yes",
        "--bootable",
        "--password-env",
        "RESCUE_PW",
        "--json",
    )
    assert ran.code == 0, ran.err
    assert ran.json()["result"]["outcome"] == "done"
    assert "--Password <password>" in ran.json()["plan"]["steps"][0]["aliyun"]
    assert secret not in ran.text
    assert _actions(demo_journal) == [("AttachDisk", "d-rescue-01-sys", "ok")]
    assert secret not in demo_journal.path.read_text()
    unset = cli(
        "attach",
        "d-rescue-01-sys",
        "--instance",
        "i-rescue-01",
        "--demo",
        "--yes",
        "--bootable",
        "--password-env",
        "NOT_SET_ANYWHERE",
    )
    assert unset.code == 2 and "NOT_SET_ANYWHERE is not set" in unset.err


def test_undo_a_detach_from_the_journal_over_http(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    endpoint = http_emulator.endpoint_args
    detached = cli("detach", "d-web-01-data", "--yes", *endpoint)
    assert detached.code == 0, detached.err
    ((intent, _),) = journal.operations()
    listed = cli("journal", "--json")
    assert listed.json()["operations"][0]["operation_id"] == intent.operation_id
    assert listed.json()["operations"][0]["request_id"]
    undone = cli("attach", "--operation", intent.operation_id[:10], "--yes", *endpoint)
    assert undone.code == 0, undone.err
    assert "attached to instance i-web-01 again" in undone.out
    disk = next(d for d in http_emulator.emulator.state()["Disks"] if d["DiskId"] == "d-web-01-data")
    assert disk["Status"] == "In_use"
    unknown = cli("attach", "--operation", "ffffffffffff", "--yes", *endpoint)
    assert unknown.code == 2 and "no operation" in unknown.err


def test_pending_calls_are_reconciled_on_start_and_on_request(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    from ecs_detach.session import open_client

    with open_client(endpoint=http_emulator.url) as session:
        # A DetachDisk whose answer was lost: the intent is journaled, the call went through, no outcome.
        Journal(journal.path, owner=KILLED).intent(
            "DetachDisk",
            disk_id="d-web-02-data",
            instance_id="i-web-02",
            profile=session.client.profile_name or "",
            region=session.region_id,
            endpoint=session.client.endpoint,
        )
        session.client.detach_disk("d-web-02-data", "i-web-02")
    pending = cli("journal", "--pending", "--json")
    assert [op["disk_id"] for op in pending.json()["operations"]] == ["d-web-02-data"]
    ran = cli("detach", "d-web-01-data", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 0
    assert "reconciling them against the live state first" in ran.err and "went-through" in ran.err
    assert cli("journal", "--pending", "--json").json()["operations"] == []
    again = cli("journal", "--reconcile", *http_emulator.endpoint_args)
    assert again.code == 0 and "Nothing to reconcile" in again.err


def test_a_failed_detach_exits_1_with_the_remedy(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    http_emulator.emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["DetachDisk"])
    ran = cli("detach", "d-web-01-data", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 1
    assert "ecs-detach detach: " in ran.err and "DetachDisk" in ran.err and "what to do:" in ran.err
    assert "Traceback" not in ran.text and DEMO_SECRET not in ran.text
    # A 5xx is an unknown outcome: each attempt was journaled and reconciled by reading, never left pending.
    attempts = _actions(journal)
    assert attempts and all(action == "DetachDisk" and result != "PENDING" for action, _, result in attempts)
    assert cli("journal", "--pending", "--json").json()["operations"] == []


def test_a_protected_profile_refuses_changes_without_a_terminal(
    cli: CliRunner, http_emulator: HttpEmulator, monkeypatch: pytest.MonkeyPatch, journal: Journal
) -> None:
    monkeypatch.setenv("ECS_DETACH_PROTECTED_PROFILES", "*")
    ran = cli("detach", "d-web-01-data", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 2 and "protected" in ran.err
    assert journal.operations() == []
    assert not [r for r in http_emulator.emulator.requests if r["action"] == "DetachDisk"]


def test_bulk_with_a_stop_asks_for_the_number_of_disks_typed(cli: CliRunner, demo_journal: Journal) -> None:
    argv = (
        "detach",
        "d-web-01-sys",
        "d-web-02-data",
        "--demo",
        "--stop-instance",
        "--delete-with-instance",
        "false",
    )
    declined = cli(*argv, typed="y\n")
    assert declined.code == 2 and "Type 2 to go ahead" in declined.err and "d-web-01-sys" in declined.err
    assert demo_journal.operations() == []
    accepted = cli(*argv, typed="2\n")
    assert accepted.code == 0, accepted.err
    assert sorted(a for a, _, _ in _actions(demo_journal)) == ["DetachDisk", "DetachDisk", "StopInstance"]
    assert "2 of 2 disk(s) detached" in accepted.out


def test_ctrl_c_at_the_confirmation_sends_nothing(
    cli: CliRunner, demo_journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli_helpers import FakeTerminal

    class Interrupting(FakeTerminal):
        def readline(self, size: int | None = -1) -> str:
            raise KeyboardInterrupt

    from ecs_detach import commands

    monkeypatch.setattr("sys.stdin", Interrupting(""))
    assert commands.main(["detach", "d-web-01-data", "--demo"]) == 2
    assert demo_journal.operations() == []


def test_demo_with_an_endpoint_reads_the_served_emulators_knobs(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    plain = cli("check", "d-metal-01-data", "--json", *http_emulator.endpoint_args)
    assert plain.json()["verdict"] == "ready"  # a real endpoint hides that this type cannot hot-detach
    assert next(r for r in plain.json()["rows"] if r["row"] == 17)["status"] == "unknown"
    demo = cli("check", "d-metal-01-data", "--demo", "--json", *http_emulator.endpoint_args)
    assert demo.json()["verdict"] == "fixable"
    assert demo.json()["predicted_code"] == "InvalidOperation.InstanceTypeNotSupport"


def test_undo_refuses_an_operation_made_with_another_profile_or_endpoint(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    assert cli("detach", "d-web-01-data", "--yes", *http_emulator.endpoint_args).code == 0
    ((intent, _),) = journal.operations()
    ran = cli("attach", "--operation", intent.operation_id, "--yes", "--demo", "--journal", str(journal.path))
    assert ran.code == 2 and "was made with profile (environment)" in ran.err
    assert "--profile / --endpoint" in ran.err


def test_stop_options_reach_the_plan_and_the_aliyun_command(cli: CliRunner, demo_journal: Journal) -> None:
    ran = cli(
        "detach", "d-web-01-sys", "--demo", "--yes", "--stop-instance", "--force-stop",
        "--stopped-mode", "StopCharging", "--delete-with-instance", "false", "--json",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    stop = ran.json()["plan"]["steps"][0]
    assert stop["action"] == "StopInstance"
    assert stop["params"] == {"InstanceId": "i-web-01", "ForceStop": "true", "StoppedMode": "StopCharging"}
    assert "--ForceStop true --StoppedMode StopCharging" in stop["aliyun"]
    (stop_intent, _), (detach_intent, _) = demo_journal.operations()
    assert stop_intent.params["StoppedMode"] == "StopCharging"
    assert detach_intent.params["DeleteWithInstance"] == "false"


def test_reconciling_on_start_holds_the_journal_lock_and_settles_nothing_without_it(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    from ecs_detach.session import open_client

    with open_client(endpoint=http_emulator.url) as session:
        Journal(journal.path, owner=KILLED).intent(
            "DetachDisk",
            disk_id="d-web-02-data",
            instance_id="i-web-02",
            profile=session.client.profile_name or "",
            region=session.region_id,
            endpoint=session.client.endpoint,
        )
    journal.path.with_name(journal.path.name + ".lock").mkdir()  # the lock cannot be taken
    refused = cli("journal", "--reconcile", *http_emulator.endpoint_args)
    assert refused.code == 2 and "lock file" in refused.err
    assert [op["disk_id"] for op in cli("journal", "--pending", "--json").json()["operations"]] == [
        "d-web-02-data"
    ]
