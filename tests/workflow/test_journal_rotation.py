"""Journal rotation (issue 14): a detach reads a small file however long the history; nothing is lost.

Past `rotate_bytes`, an append moves the finished operations to a rotated file and keeps in the journal what
a detach reads: operations without an outcome, an instance our stop left Stopped (with what followed on it),
a system disk we detached and did not attach back. History (the journal command and screen, undo) reads the
rotated files too. A process killed (SIGKILL) at any step of a rotation loses nothing and duplicates nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from journal_helpers import KILLED

from ecs_detach import workflow
from ecs_detach.cli import main as cli_main
from ecs_detach.journal import Journal, Result
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import Outcome

from .conftest import EnvFactory

ROOT = Path(__file__).resolve().parents[2]
SMALL = 8 * 1024  # rotate past 8 KiB: a dozen operations


def finished(journal: Journal, count: int, *, disk: str = "d-past") -> None:
    for n in range(count):
        intent = journal.intent(
            "DetachDisk", disk_id=f"{disk}-{n}", instance_id="i-past", context={"disk_type": "data"}
        )
        journal.outcome(intent, Result.OK, request_id=f"R-{n}")


def all_lines(journal: Journal) -> list[bytes]:
    return [line for p in [*journal.rotated_paths(), journal.path] for line in p.read_bytes().splitlines()]


def test_a_rotated_journal_keeps_what_a_detach_reads_and_history_finds_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    killed = Journal(path, owner=KILLED, rotate_bytes=SMALL)
    pending = killed.intent("DetachDisk", disk_id="d-open", instance_id="i-open")  # a killed run's intent
    journal = Journal(path, rotate_bytes=SMALL)
    old = journal.intent("DetachDisk", disk_id="d-old", instance_id="i-old", context={"disk_type": "data"})
    journal.outcome(old, Result.OK, request_id="R-old")
    stop = journal.intent("StopInstance", instance_id="i-sys", context={"reason": "detach d-sys"})
    journal.outcome(stop, Result.OK)
    root = journal.intent("DetachDisk", disk_id="d-sys", instance_id="i-sys", context={"disk_type": "system"})
    journal.outcome(root, Result.OK)
    finished(journal, 200)

    assert len(journal.rotated_paths()) == 1 and path.stat().st_size < 2 * SMALL
    assert [i.operation_id for i in journal.pending()] == [pending.operation_id]
    assert journal.stopped_by_us("i-sys") == stop  # the instance we left Stopped, and what followed on it
    kept = {i.operation_id for i, _ in journal.operations()}
    assert {stop.operation_id, root.operation_id, pending.operation_id} <= kept
    assert old.operation_id not in kept and journal.last_detach("d-old") is None
    found = journal.last_detach("d-old", rotated=True)  # undo finds it in the rotated file
    assert found is not None and found[0] == old and found[1].request_id == "R-old"
    history = journal.operations(rotated=True)
    assert len(history) == 204 and journal.skipped == ()
    assert [op for op, _ in history].count(stop) == 1
    assert len(all_lines(journal)) == 2 * 203 + 1 == len(set(all_lines(journal)))


def test_a_killed_runs_stop_survives_rotations_and_the_next_plan_starts_the_instance(
    make_env: EnvFactory,
) -> None:
    fleet = {
        "Instances": [
            {"InstanceId": "i-app", "Status": "Running", "InstanceType": "ecs.nohot"},
        ],
        "Disks": [
            {"DiskId": "d-app-root", "InstanceId": "i-app", "Type": "system", "Status": "In_use"},
            {"DiskId": "d-app-data", "InstanceId": "i-app", "Type": "data", "Status": "In_use"},
        ],
        "Emulator": {"NoHotDetachInstanceTypes": ["ecs.nohot"]},
    }
    env = make_env(fleet)
    env.journal = Journal(env.journal.path, rotate_bytes=SMALL)
    # A run that stopped i-app for its data disk was killed before the detach: i-app is left Stopped.
    killed = Journal(env.journal.path, owner=KILLED, rotate_bytes=SMALL)
    stop = killed.intent("StopInstance", instance_id="i-app", context={"reason": "detach d-app-data"})
    killed.outcome(stop, Result.OK)
    env.client.stop_instance("i-app")
    env.emu.advance(120)
    finished(env.journal, 100)  # later runs elsewhere: the journal rotates several times
    assert env.journal.rotated_paths()

    options = DetachOptions(allow_stop=True, restart=True)
    plan = workflow.prepare(env.client, "d-app-data", options, facts=env.kw["facts"], journal=env.journal)
    assert any("earlier" in w for w in plan.warnings) or "StartInstance" in plan.describe()
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE, result.message
    assert env.instance("i-app")["Status"] == "Running"
    assert [c["action"] for c in env.calls()] == ["StopInstance", "DetachDisk", "StartInstance"]


def test_a_journal_reads_what_another_process_appended_and_rotated(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    reader = Journal(path)  # reads only what was appended since its last read, unless the file was replaced
    writer = Journal(path, rotate_bytes=SMALL)
    for n in range(40):
        finished(writer, 1, disk=f"d-{n}")
        assert reader.operations() == Journal(path).operations()  # what a fresh read of the file gives
        latest, outcome = reader.operations(rotated=True)[-1]
        assert latest.disk_id == f"d-{n}-0" and outcome is not None
    assert len(writer.rotated_paths()) == 1 and len(reader.operations(rotated=True)) == 40


def test_a_journal_behind_a_symbolic_link_rotates_where_the_link_points(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    link = tmp_path / "journal.jsonl"
    link.symlink_to(tmp_path / "data" / "journal.jsonl")
    journal = Journal(link, rotate_bytes=SMALL)
    finished(journal, 40)
    assert link.is_symlink() and journal.rotated_paths()
    assert all(p.parent == tmp_path / "data" for p in journal.rotated_paths())
    assert len(journal.operations(rotated=True)) == 40


def test_the_journal_command_lists_the_rotated_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "journal.jsonl"
    finished(Journal(path, rotate_bytes=SMALL), 60)
    assert Journal(path).rotated_paths()
    assert cli_main(["journal", "--json", "--journal", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["operations"]) == 60
    assert document["rotated_files"] == [str(p) for p in Journal(path).rotated_paths()]


# -- a kill at each step of a rotation ---------------------------------------------------------------------

ROTATE_AND_DIE = """
    import os, signal, sys
    from ecs_detach import journal as module
    from ecs_detach.journal import Journal, Result

    def die(*_):
        os.kill(os.getpid(), signal.SIGKILL)

    point = sys.argv[2]

    class Dying(Journal):
        def _archive(self, lines, window):
            if point == "archive-half":  # the kill lands in the middle of the rotated file's write
                number = len(self.rotated_paths()) or 1
                with open(self._rotated_path(number), "ab") as out:
                    out.write(b"".join(lines)[: sum(map(len, lines)) // 2])
                die()
            super()._archive(lines, window)
            if point == "archived":
                die()

        def _replace_journal(self, lines):
            if point == "scratch-written":
                os.replace = die
            super()._replace_journal(lines)
            if point == "replaced":
                die()

    intent = Journal(sys.argv[1], rotate_bytes=10**9).intent("DetachDisk", disk_id="d-last")
    Dying(sys.argv[1], rotate_bytes=int(sys.argv[3])).outcome(intent, Result.OK)  # this append rotates
    print("not killed")
"""


@pytest.mark.parametrize("point", ["archive-half", "archived", "scratch-written", "replaced"])
@pytest.mark.parametrize("earlier_rotation", [False, True])
def test_a_kill_at_any_step_of_a_rotation_loses_nothing(
    tmp_path: Path, point: str, earlier_rotation: bool
) -> None:
    path = tmp_path / "journal.jsonl"
    if earlier_rotation:  # the kill lands while appending to a rotated file that already has history
        finished(Journal(path, rotate_bytes=SMALL), 30, disk="d-older")
    setup = Journal(path, rotate_bytes=10**9)  # no rotation while the scene is set
    pending = Journal(path, owner=KILLED, rotate_bytes=10**9).intent(
        "AttachDisk", disk_id="d-p", instance_id="i-p"
    )
    finished(setup, 20)
    size = path.stat().st_size
    died = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ROTATE_AND_DIE), str(path), point, str(size // 2)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert died.returncode == -signal.SIGKILL, died.stdout + died.stderr
    expected = 21 + 1 + (30 if earlier_rotation else 0)

    after_kill = Journal(path)
    assert [i.operation_id for i in after_kill.pending()] == [pending.operation_id]  # reconcile still sees it
    history = after_kill.operations(rotated=True)
    assert len(history) == expected and after_kill.skipped == ()
    assert sum(outcome is not None for _, outcome in history) == expected - 1

    finished(Journal(path, rotate_bytes=SMALL), 15, disk="d-after")  # the next rotations pick up the pieces
    journal = Journal(path)
    assert len(journal.operations(rotated=True)) == expected + 15 and journal.skipped == ()
    lines = all_lines(journal)
    assert len(lines) == 2 * (expected + 15) - 1 == len(set(lines))  # every record once, in one file
    assert [i.operation_id for i in journal.pending()] == [pending.operation_id]
