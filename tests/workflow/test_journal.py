"""The journal: intents and outcomes as JSON lines, no secrets, corrupt lines skipped, pending intents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_detach.journal import (
    INTENT,
    Journal,
    JournalRecord,
    JournalWarning,
    Result,
    classify,
    default_journal_path,
)

from .builders import disk, instance


def test_default_path_follows_xdg_state_home(tmp_path: Path) -> None:
    assert (
        default_journal_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "ecs-detach" / "journal.jsonl"
    )
    assert default_journal_path({}, home=tmp_path) == tmp_path / ".local/state/ecs-detach/journal.jsonl"
    assert default_journal_path({"XDG_STATE_HOME": "relative"}, home=tmp_path).is_relative_to(tmp_path)


def test_intent_and_outcome_are_linked_and_secrets_are_never_written(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl", clock=lambda: 1_700_000_000.0)
    intent = journal.intent(
        "AttachDisk",
        disk_id="d-1",
        instance_id="i-1",
        params={"DiskId": "d-1", "Bootable": "true", "Password": "hunter2!", "KeyPairName": "kp"},
        profile="prod",
        region="cn-hangzhou",
        endpoint="https://ecs.cn-hangzhou.aliyuncs.com",
        context={"disk_type": "system"},
    )
    assert journal.in_flight() == [intent] and journal.pending() == []  # its writer, this process, is alive
    journal.outcome(intent, Result.OK, request_id="R-1")
    text = (tmp_path / "j.jsonl").read_text()
    assert "hunter2" not in text and "kp" not in text.replace("kind", "")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["kind"] for line in lines] == ["intent", "outcome"]
    assert lines[0]["op"] == lines[1]["op"]
    assert lines[0]["params"] == {"DiskId": "d-1", "Bootable": "true"}
    assert lines[1]["request_id"] == "R-1" and lines[1]["result"] == "ok"
    assert lines[0]["at"].startswith("2023-11-14T22:13:20")
    assert journal.pending() == []


def test_corrupt_lines_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    first = journal.intent("DetachDisk", disk_id="d-1", instance_id="i-1")
    with path.open("ab") as handle:
        handle.write(b'{"kind": "intent", "op": \n\xff\xfe garbage\n[1,2]\n')
    second = journal.intent("DetachDisk", disk_id="d-2", instance_id="i-1")
    with pytest.warns(JournalWarning, match="corrupt journal line"):
        records = journal.records()
    assert [r.operation_id for r in records] == [first.operation_id, second.operation_id]
    assert len(journal.skipped) == 3


def test_a_missing_journal_is_empty(tmp_path: Path) -> None:
    assert Journal(tmp_path / "none.jsonl").records() == []


def test_classify_reads_the_live_state() -> None:
    detach = JournalRecord(INTENT, "op", "DetachDisk", "t", disk_id="d-data", instance_id="i-web")
    assert classify(detach, disk("Detaching"), None)[0] == Result.IN_PROGRESS
    assert classify(detach, disk("Available"), None)[0] == Result.WENT_THROUGH
    assert classify(detach, disk("In_use"), None)[0] == Result.DID_NOT_HAPPEN
    stop = JournalRecord(INTENT, "op", "StopInstance", "t", instance_id="i-web")
    assert classify(stop, None, instance("Stopping"))[0] == Result.IN_PROGRESS
    assert classify(stop, None, instance("Stopped"))[0] == Result.WENT_THROUGH
    assert classify(stop, None, instance("Running"))[0] == Result.DID_NOT_HAPPEN


def test_demo_mode_keeps_its_own_journal(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path)}
    assert default_journal_path(env, demo=True) != default_journal_path(env)
    assert default_journal_path(env, demo=True).name == "journal-demo.jsonl"


def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"v": 1, "kind": "intent", "op": "abc", "act')  # killed mid-write
    journal = Journal(path)
    intent = journal.intent("DetachDisk", disk_id="d-1", instance_id="i-1")
    with pytest.warns(JournalWarning):
        records = journal.records()
    assert records == [intent]
