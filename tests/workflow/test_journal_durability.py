"""The journal under a full disk, odd paths, newer schemas and several processes at once (issue 14).

A mutating call is never sent unless its whole intent is on disk; an outcome that cannot be written ends the
run loudly; nothing half-written stays behind; another live process's intent is in flight, not pending.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from journal_helpers import KILLED

from ecs_detach import workflow
from ecs_detach.journal import Journal, JournalError, JournalRecord, JournalWarning, Result
from ecs_detach.models import Disk, Instance
from ecs_detach.workflow import Outcome

from .conftest import EnvFactory, web_fleet

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        **kw,
    )


# -- short writes and a full disk ------------------------------------------------------------------

# RLIMIT_FSIZE makes the kernel cut a write at the limit and refuse the next one (EFBIG): a real short write.
SHORT_WRITE = """
    import resource, signal, sys
    from ecs_detach.journal import Journal, JournalError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    journal = Journal(sys.argv[1])
    first = journal.intent("DetachDisk", disk_id="d-1", instance_id="i-1")
    size = journal.path.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + int(sys.argv[2]), resource.RLIM_INFINITY))
    try:
        journal.intent("DetachDisk", disk_id="d-2" * 20, instance_id="i-2")
    except JournalError as exc:
        print("refused:", exc)
    print("size", size, journal.path.stat().st_size)
"""


@pytest.mark.parametrize("room", [0, 1, 60])
def test_a_record_cut_short_by_a_full_disk_is_rolled_back_and_refused(tmp_path: Path, room: int) -> None:
    path = tmp_path / "journal.jsonl"
    done = _python(SHORT_WRITE, str(path), str(room))
    assert done.returncode == 0, done.stderr
    refused, sizes = done.stdout.strip().splitlines()
    assert refused.startswith("refused: Could not write the journal") and "was not recorded" in refused
    _, before, after = sizes.split()
    assert before == after  # nothing of the cut record is left
    assert [r.disk_id for r in Journal(path).records()] == ["d-1"]


class _FullAfterIntents(Journal):
    """A journal whose disk fills up once the intents are written: every outcome fails to be recorded."""

    def outcome(self, intent: JournalRecord, result: str, **kw: Any) -> JournalRecord:
        raise JournalError(f"Could not write the journal {self.path}: no space left on the device.")


def test_no_call_is_sent_when_its_intent_cannot_be_journaled(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    kw = env.kw | {"journal": Journal("/dev/full")}
    result = workflow.run(env.client, plan, **kw)
    assert result.outcome is Outcome.FAILED and result.exit_code != 0
    assert "DetachDisk was not sent" in result.message and "/dev/full" in result.message
    assert "--journal" in result.remedy
    assert env.calls() == []
    assert env.disk("d-web-data")["Status"] == "In_use"


def test_an_outcome_that_cannot_be_journaled_ends_the_run_loudly_and_is_reconciled_later(
    make_env: EnvFactory,
) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    full = _FullAfterIntents(env.journal.path, owner=KILLED)  # the process "dies" right after
    result = workflow.run(env.client, plan, **(env.kw | {"journal": full}))
    assert result.outcome is Outcome.FAILED and result.exit_code == 1
    assert "DetachDisk was sent" in result.message and "could not be journaled" in result.message
    assert "ecs-detach journal --reconcile" in result.message
    assert [c["action"] for c in env.calls()] == ["DetachDisk"]  # and nothing after it
    env.emu.advance(60)
    (settled,) = Journal(env.journal.path).reconcile(env.client)
    assert settled.action == "DetachDisk" and settled.result == Result.WENT_THROUGH


# -- odd paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/full", "/dev/null"])
def test_a_device_is_refused_before_anything_is_read_or_written(device: str) -> None:
    journal = Journal(device)
    with pytest.raises(JournalError, match=rf"{device} is a device, pipe or socket, not a regular file"):
        journal.records()
    with pytest.raises(JournalError, match="not a regular file") as refused:
        journal.intent("DetachDisk", disk_id="d-1", instance_id="i-1")
    assert "--journal" in refused.value.remedy
    assert "the TUI" not in refused.value.remedy  # the TUI takes no --journal: its words say config.toml
    assert "journal = PATH in config.toml" in refused.value.remedy


def test_a_directory_is_refused_with_its_path(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    with pytest.raises(JournalError, match=rf"{tmp_path} is a directory"):
        journal.pending()
    with pytest.raises(JournalError, match=r"Cannot open the journal|is a directory"):
        journal.intent("DetachDisk", disk_id="d-1", instance_id="i-1")


def test_the_cli_names_the_bad_journal_path_and_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ecs_detach.cli", "journal", "--demo", "--journal", "/dev/zero"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "/dev/zero" in done.stderr and "--journal" in done.stderr
    assert "Traceback" not in done.stderr and "bug" not in done.stderr.lower()


# -- schema ----------------------------------------------------------------------------------------


def test_a_line_of_a_newer_schema_is_skipped_with_a_warning_not_read_as_v1(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.intent("DetachDisk", disk_id="d-1", instance_id="i-1")
    newer = {"v": 2, "kind": "intent", "op": "x2", "action": "DetachDisk", "at": "2026-01-01T00:00:00.0Z"}
    with path.open("a") as file:
        file.write(json.dumps(newer) + "\n")
    with pytest.warns(JournalWarning, match="newer ecs-detach"):
        records = journal.records()
    assert [r.disk_id for r in records] == ["d-1"]
    assert any("schema v2" in line and ":2:" in line for line in journal.skipped)


# -- several processes at once ---------------------------------------------------------------------

HOLDER = """
    import sys
    from ecs_detach.journal import Journal
    journal = Journal(sys.argv[1])
    intent = journal.intent("DetachDisk", disk_id="d-web-data", instance_id="i-web")
    print(intent.operation_id, flush=True)
    sys.stdin.readline()  # "sending": in flight until told to go on
    journal.outcome(intent, "ok", request_id="R-1")
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Another live process with a DetachDisk in flight in the shared journal."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(tmp_path / "shared.jsonl")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    operation_id = process.stdout.readline().strip()
    yield process, operation_id
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def test_another_live_processs_intent_is_in_flight_and_left_alone(
    make_env: EnvFactory, tmp_path: Path, holder: tuple[subprocess.Popen[str], str]
) -> None:
    env = make_env(web_fleet())
    process, operation_id = holder
    journal = Journal(tmp_path / "shared.jsonl")
    assert journal.pending() == []
    assert [r.operation_id for r in journal.in_flight()] == [operation_id]
    assert journal.reconcile(env.client) == []  # no false did-not-happen for a call still under way
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()
    assert process.wait(timeout=30) == 0
    [(_, outcome)] = journal.operations()
    assert outcome is not None and outcome.result == Result.OK and not outcome.reconciled


def test_a_killed_processs_intent_becomes_pending_and_is_reconciled_once(
    make_env: EnvFactory, tmp_path: Path, holder: tuple[subprocess.Popen[str], str]
) -> None:
    env = make_env(web_fleet())
    process, operation_id = holder
    env.client.detach_disk("d-web-data", "i-web")  # the holder's call went out, then it was killed
    process.kill()
    process.wait(timeout=30)
    journal = Journal(tmp_path / "shared.jsonl")
    assert [r.operation_id for r in journal.pending()] == [operation_id]
    (settled,) = journal.reconcile(env.client)
    assert settled.result in (Result.IN_PROGRESS, Result.WENT_THROUGH)
    assert journal.pending() == [] and journal.reconcile(env.client) == []


APPENDER = """
    import sys
    from ecs_detach.journal import Journal
    journal = Journal(sys.argv[1])
    for n in range(150):
        journal.outcome(journal.intent("DetachDisk", disk_id=f"d-{sys.argv[2]}-{n}" + "x" * 300), "ok")
"""


def test_processes_appending_at_once_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    writers = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(APPENDER), str(path), str(n)], cwd=ROOT)
        for n in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    journal = Journal(path)
    operations = journal.operations(rotated=True)  # 450 operations of ~700 bytes: rotated along the way
    assert journal.skipped == ()
    assert len(operations) == 450 and all(outcome is not None for _, outcome in operations)
    assert journal.rotated_paths() and len(journal.operations()) < 450
    lines = [line for p in [*journal.rotated_paths(), path] for line in p.read_bytes().splitlines()]
    assert len(lines) == 900 == len(set(lines))  # every record once, in one file


class _GatedReader:
    """A client whose first read waits until the test lets it go on: two reconcilers overlap."""

    def __init__(self, disk: Disk) -> None:
        self.disk = disk
        self.inside = threading.Event()
        self.go_on = threading.Event()

    def get_disk(self, disk_id: str) -> Disk:
        self.inside.set()
        assert self.go_on.wait(30)
        return self.disk

    def get_instance(self, instance_id: str) -> Instance:
        raise AssertionError("not asked for a DetachDisk")


def test_two_reconcilers_at_once_settle_each_intent_once(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    Journal(env.journal.path, owner=KILLED).intent("DetachDisk", disk_id="d-web-data", instance_id="i-web")
    reader = _GatedReader(env.client.get_disk("d-web-data"))
    settled: list[list[JournalRecord]] = []
    first = threading.Thread(target=lambda: settled.append(Journal(env.journal.path).reconcile(reader)))
    second = threading.Thread(target=lambda: settled.append(Journal(env.journal.path).reconcile(reader)))
    first.start()
    assert reader.inside.wait(30)
    second.start()  # blocks on the reconcile lock while the first one reads
    reader.go_on.set()
    first.join(30)
    second.join(30)
    assert sorted(len(batch) for batch in settled) == [0, 1]
    outcomes = [r for r in env.journal.records() if r.kind == "outcome"]
    assert len(outcomes) == 1 and outcomes[0].result == Result.DID_NOT_HAPPEN


def test_a_last_line_still_being_written_is_not_called_corrupt(tmp_path: Path) -> None:
    """A reader racing a writer sees the record's first bytes without its newline: no warning, no record;
    once the rest is written, the record is read."""
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.intent("DetachDisk", disk_id="d-1", instance_id="i-1")
    line = path.read_bytes()
    path.write_bytes(line + line[:40])  # a second record half written
    with warnings.catch_warnings():
        warnings.simplefilter("error", JournalWarning)
        assert len(journal.records()) == 1
    path.write_bytes(line + line)
    assert len(journal.records()) == 2 and journal.skipped == ()
