"""Every detach and move says how to undo it: the exact command, with the operation id the journal lists (one
line per disk in a bulk run), in the human output and as the JSON's ``"undo"``; a detach that did not go
through names none. A remount whose answer is lost names the same undo, run again, beside the script."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CliRunner, HttpEmulator


def _listed(cli: CliRunner, action: str = "DetachDisk") -> dict[str, str]:
    """The operation ids `ecs-detach journal --json` lists, by disk, of the calls that went through."""
    operations = cli("journal", "--json").json()["operations"]
    return {
        op["disk_id"]: op["operation_id"]
        for op in operations
        if op["action"] == action and op["result"] in ("ok", "went-through")
    }


def _undo_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("Undo")]


def _argv(line: str) -> list[str]:
    """The command an undo line names, as the words to give `cli` (after ``ecs-detach``)."""
    command = line.split(": ", 1)[1].split(" (", 1)[0]
    words = shlex.split(command)
    assert words[0] == "ecs-detach", line
    return words[1:]


def _disk(http_emulator: HttpEmulator, disk_id: str) -> dict[str, Any]:
    disk: dict[str, Any] = next(d for d in http_emulator.emulator.state()["Disks"] if d["DiskId"] == disk_id)
    return disk


def test_a_detach_ends_with_its_undo_and_running_it_reattaches_the_disk(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    endpoint = http_emulator.endpoint_args
    ran = cli("detach", "d-web-01-data", "--yes", *endpoint)
    assert ran.code == 0, ran.err
    operation = _listed(cli)["d-web-01-data"]
    (line,) = _undo_lines(ran.out)
    assert line == (
        f"Undo: ecs-detach attach --operation {operation} --endpoint {http_emulator.url} "
        "(re-attaches it to i-web-01)"
    )
    assert ran.out.rstrip().endswith(line)
    undone = cli(*_argv(line), "--yes")  # as printed: it names the endpoint the detach used
    assert undone.code == 0, undone.err
    disk = _disk(http_emulator, "d-web-01-data")
    assert disk["Status"] == "In_use" and disk["InstanceId"] == "i-web-01"


def test_the_json_carries_the_undo_command_with_the_journals_operation_id(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    ran = cli("detach", "d-web-01-data", "--yes", "--json", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    operation = _listed(cli)["d-web-01-data"]
    assert ran.json()["undo"] == [
        {
            "disk_id": "d-web-01-data",
            "operation_id": operation,
            "command": ["ecs-detach", "attach", "--operation", operation, "--endpoint", http_emulator.url],
            "does": "re-attaches it to i-web-01",
        }
    ]


def test_no_wait_names_the_undo_of_the_accepted_detach(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    ran = cli("detach", "d-web-01-data", "--yes", "--no-wait", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    operation = _listed(cli)["d-web-01-data"]
    assert _undo_lines(ran.out) == [
        f"Undo: ecs-detach attach --operation {operation} --endpoint {http_emulator.url} "
        "(re-attaches it to i-web-01)"
    ]


def test_a_failed_detach_names_no_undo(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    http_emulator.emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["DetachDisk"])
    ran = cli("detach", "d-web-01-data", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 1, ran.err
    assert _undo_lines(ran.out) == [] and "ecs-detach attach" not in ran.text
    failed = cli("detach", "d-web-01-data", "--yes", "--json", *http_emulator.endpoint_args)
    assert failed.code == 1 and failed.json()["undo"] == []


def test_a_bulk_detach_names_one_undo_per_disk_detached(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    endpoint = http_emulator.endpoint_args
    disks = ("d-web-01-data", "d-jump-01-data", "d-web-02-data")  # the jump host is locked: blocked
    ran = cli("detach", *disks, "--yes", *endpoint)
    assert ran.code == 3, ran.err
    listed = _listed(cli)
    assert sorted(listed) == ["d-web-01-data", "d-web-02-data"]
    assert _undo_lines(ran.out) == [
        f"Undo d-web-01-data: ecs-detach attach --operation {listed['d-web-01-data']} --endpoint "
        f"{http_emulator.url} (re-attaches it to i-web-01)",
        f"Undo d-web-02-data: ecs-detach attach --operation {listed['d-web-02-data']} --endpoint "
        f"{http_emulator.url} (re-attaches it to i-web-02)",
    ]
    for line in _undo_lines(ran.out):
        assert cli(*_argv(line), "--yes").code == 0
    assert [_disk(http_emulator, d)["Status"] for d in disks] == ["In_use"] * 3


def test_a_bulk_detachs_json_lists_each_disks_undo(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    ran = cli("detach", "d-web-01-data", "d-jump-01-data", "--yes", "--json", *http_emulator.endpoint_args)
    assert ran.code == 3, ran.err
    operation = _listed(cli)["d-web-01-data"]
    assert [(u["disk_id"], u["command"]) for u in ran.json()["undo"]] == [
        ("d-web-01-data", ["ecs-detach", "attach", "--operation", operation, "--endpoint", http_emulator.url])
    ]


def test_an_unmount_says_its_undo_mounts_the_disk_back(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    ran = cli("detach", "d-files-01-data", "--yes", "--unmount", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    operation = _listed(cli)["d-files-01-data"]
    assert _undo_lines(ran.out) == [
        f"Undo: ecs-detach attach --operation {operation} --endpoint {http_emulator.url} "
        "(re-attaches it to i-files-01, then in the guest: /data mounted back)"
    ]


def test_a_move_ends_with_its_own_undo_and_running_it_moves_the_disk_back(
    cli: CliRunner, http_emulator: HttpEmulator
) -> None:
    endpoint = http_emulator.endpoint_args
    ran = cli("move", "d-web-01-data", "--to", "i-web-02", "--yes", *endpoint)
    assert ran.code == 0, ran.err
    operation = _listed(cli, "AttachDisk")["d-web-01-data"]
    (line,) = _undo_lines(ran.out)
    assert line == (
        f"Undo: ecs-detach move --undo {operation} --endpoint {http_emulator.url} (moves it back to i-web-01)"
    )
    back = cli(*_argv(line), "--yes")
    assert back.code == 0, back.err
    disk = _disk(http_emulator, "d-web-01-data")
    assert disk["Status"] == "In_use" and disk["InstanceId"] == "i-web-01"


def test_a_lost_remount_names_the_same_undo_run_again(cli: CliRunner, http_emulator: HttpEmulator) -> None:
    endpoint = http_emulator.endpoint_args
    assert cli("detach", "d-files-01-data", "--yes", "--unmount", *endpoint).code == 0
    operation = _listed(cli)["d-files-01-data"]
    http_emulator.emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["RunCommand"])
    undone = cli("attach", "--operation", operation, "--yes", "--json", *endpoint)
    assert undone.code == 1, undone.err
    assert "by hand" in undone.err and "mount /data" in undone.err
    again = f"ecs-detach attach --operation {operation} --endpoint {http_emulator.url}"
    assert f"run the same undo again, which is safe ({again}:" in undone.err, undone.err
    assert again in undone.json()["result"]["remedy"]  # the JSON's remedy names it too
    http_emulator.emulator.clear_faults()
    rerun = cli(*shlex.split(again)[1:], "--yes")
    assert rerun.code == 0, rerun.err
    assert "already attached" in rerun.out and "/data mounted again" in rerun.out


def test_the_undo_names_the_journal_the_detach_was_journaled_in(
    cli: CliRunner, http_emulator: HttpEmulator, tmp_path: Path
) -> None:
    journal = tmp_path / "my journal.jsonl"  # a path with a space: the line quotes it for the shell
    ran = cli("detach", "d-web-01-data", "--yes", "--journal", str(journal), *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    (line,) = _undo_lines(ran.out)
    assert f"--journal '{journal}'" in line
    assert cli(*_argv(line), "--yes").code == 0
    assert _disk(http_emulator, "d-web-01-data")["Status"] == "In_use"


def test_a_system_disks_undo_asks_for_the_logon_credential(
    cli: CliRunner, http_emulator: HttpEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = cli("detach", "d-web-01-sys", "--stop-instance", "--yes", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    operation = _listed(cli)["d-web-01-sys"]
    (line,) = _undo_lines(ran.out)
    assert line == (
        f"Undo: ecs-detach attach --operation {operation} --endpoint {http_emulator.url} --bootable "
        "(re-attaches it to i-web-01 as its system disk, once it is Stopped; add --password-env VAR or "
        "--key-pair NAME)"
    )
    monkeypatch.setenv("ROOT_PW", "S3cret-Pa55word!")
    undone = cli(*_argv(line), "--password-env", "ROOT_PW", "--yes")
    assert undone.code == 0, undone.err
    disk = _disk(http_emulator, "d-web-01-sys")
    assert disk["Status"] == "In_use" and disk["InstanceId"] == "i-web-01"


def test_the_in_process_demo_says_its_undo_starts_afresh(cli: CliRunner) -> None:
    ran = cli("detach", "d-web-01-data", "--demo", "--yes")
    assert ran.code == 0, ran.err
    (line,) = _undo_lines(ran.out)
    assert line.startswith("Undo: ecs-detach attach --operation ") and " --demo (" in line
    assert "--demo starts every command from the demo fleet afresh" in ran.out
