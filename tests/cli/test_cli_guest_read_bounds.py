"""The plan-time guest read on the command line, held by the emulator's HangOn knob (in-process demo,
manual clock): Ctrl-C during it says the guest was not read and exits as an interrupt (4); ``--timeout``
bounds it."""

from __future__ import annotations

import copy
import re
import signal
from typing import Any

import pytest
from cli_helpers import CliRunner

import ecs_detach.session
from ecs_detach.emulator.fleet import load_fleet
from ecs_detach.journal import Journal
from ecs_detach.session import Session


def hung_demo(monkeypatch: pytest.MonkeyPatch) -> list[Session]:
    """The in-process demo with files-01's guest probe never finishing; returns the sessions opened."""
    fleet = copy.deepcopy(load_fleet("demo"))
    fleet["Emulator"]["Guests"]["i-files-01"]["HangOn"] = "lsblk"
    real = ecs_detach.session.open_client
    opened: list[Session] = []

    def open_client(**kw: Any) -> Session:
        session = real(**kw, fleet=fleet)
        opened.append(session)
        return session

    monkeypatch.setattr(ecs_detach.session, "open_client", open_client)
    return opened


def ctrl_c_while_polling(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operator presses Ctrl-C while the probe's result is polled (a real SIGINT, in this thread)."""
    from ecs_detach.client import EcsClient

    real = EcsClient.invocation_result
    polled: list[str] = []

    def invocation_result(self: EcsClient, invoke_id: str, instance_id: str) -> Any:
        if instance_id == "i-files-01":  # the hung probe (a bulk run polls the others' at the same time)
            polled.append(invoke_id)
        if instance_id == "i-files-01" and len(polled) == 3:
            signal.raise_signal(signal.SIGINT)
        return real(self, invoke_id, instance_id)

    monkeypatch.setattr(EcsClient, "invocation_result", invocation_result)
    return polled


def test_ctrl_c_during_the_plan_time_guest_read_says_the_guest_was_not_read_exit_4(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, demo_journal: Journal
) -> None:
    sessions = hung_demo(monkeypatch)
    polled = ctrl_c_while_polling(monkeypatch)
    ran = cli("detach", "d-files-01-data", "--demo", "--yes", "--unmount", "--json")
    assert len(polled) >= 3, "the probe was never polled"
    assert ran.code == 4, ran.err
    assert "interrupted (Ctrl-C) while reading the guest of i-files-01" in ran.err
    assert "nothing was changed" in ran.err
    assert "the guest was not read" in ran.err and "d-files-01-data" in ran.err
    assert "ls -l /dev/disk/by-id/ | grep files-01-data" in ran.err  # what to run by hand
    assert "Traceback" not in ran.err
    assert ran.json()["error"]["code"] == "Interrupted" and ran.json()["exit_code"] == 4
    (session,) = sessions
    assert session.emulator is not None
    assert [r["action"] for r in session.emulator.requests if r["action"] == "DetachDisk"] == []
    assert demo_journal.operations() == []


def test_ctrl_c_during_a_moves_guest_read_says_the_same(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, demo_journal: Journal
) -> None:
    hung_demo(monkeypatch)
    ctrl_c_while_polling(monkeypatch)
    ran = cli("move", "d-files-01-data", "--to", "i-web-02", "--demo", "--yes", "--unmount")
    assert ran.code == 4, ran.err
    assert "while reading the guest of i-files-01" in ran.err and "the guest was not read" in ran.err
    assert demo_journal.operations() == []


def test_ctrl_c_during_a_bulk_runs_guest_reads_says_which_guests_were_not_read(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, demo_journal: Journal
) -> None:
    hung_demo(monkeypatch)
    ctrl_c_while_polling(monkeypatch)
    ran = cli("detach", "d-files-01-data", "d-web-01-data", "--demo", "--yes")
    assert ran.code == 4, ran.err
    # i-files-01's probe hangs; i-web-01's may or may not have finished when Ctrl-C lands.
    assert "interrupted (Ctrl-C) while reading the guest" in ran.err and "i-files-01" in ran.err
    assert re.search(r" not read, so whether [^\n]*d-files-01-data", ran.err) and "Traceback" not in ran.err
    assert demo_journal.operations() == []


def test_the_plan_time_guest_read_gives_up_at_the_commands_timeout(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = hung_demo(monkeypatch)
    ran = cli("detach", "d-files-01-data", "--demo", "--yes", "--timeout", "5", "--json")
    (session,) = sessions
    assert session.emulator is not None
    rows = {row["row"]: row for row in ran.json()["preconditions"]["rows"]}
    assert rows[22]["status"] == "unknown"
    assert "had not finished after 5 s: what the guest has mounted is not known" in rows[22]["sentence"]
    assert "ls -l /dev/disk/by-id/ | grep files-01-data" in rows[22]["remedy"]
    probes = [r for r in session.emulator.requests if r["action"] == "DescribeInvocationResults"]
    assert 1 <= len(probes) <= 7  # about one poll a (virtual) second for 5 s, not 60


def test_a_bulk_runs_guest_reads_give_up_at_the_commands_timeout(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    hung_demo(monkeypatch)
    ran = cli("detach", "d-files-01-data", "d-web-01-data", "--demo", "--yes", "--timeout", "5", "--json")
    pre = {p["disk_id"]: p for p in ran.json()["preconditions"] if p is not None}
    rows = {row["row"]: row for row in pre["d-files-01-data"]["rows"]}
    assert rows[22]["status"] == "unknown"
    assert "had not finished after 5 s" in rows[22]["sentence"]
