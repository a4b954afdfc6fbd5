"""Small bullets of issue 14, pinned: a Ctrl-C during a bulk run's restart wait, a wait whose state could
never be read. (The others have their tests: start-up in test_startup.py, a newer schema's journal line in
tests/workflow/test_journal_durability.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecs_detach import workflow
from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.journal import Journal
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import BulkItem, CancelToken, Outcome, ProgressEvent, emulator_facts

NOHOT: dict[str, Any] = {
    "Instances": [{"InstanceId": "i-b", "Status": "Running", "InstanceType": "ecs.nohot"}],
    "Disks": [
        {"DiskId": "d-b-sys", "InstanceId": "i-b", "Type": "system", "Status": "In_use"},
        {"DiskId": "d-b-1", "InstanceId": "i-b", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-b-2", "InstanceId": "i-b", "Type": "data", "Status": "In_use"},
    ],
    "Emulator": {"NoHotDetachInstanceTypes": ["ecs.nohot"]},
}


def test_ctrl_c_during_a_bulk_runs_restart_wait_is_interrupted_exit_4_not_a_failure(tmp_path: Path) -> None:
    emu = Emulator(fleet=NOHOT, clock=ManualClock())
    journal = Journal(tmp_path / "journal.jsonl", clock=emu.now)
    cancel = CancelToken()

    def on_progress(event: ProgressEvent) -> None:
        if event.phase == "wait-instance-running":  # the operator presses Ctrl-C here
            cancel.cancel()

    with EcsClient.for_emulator(emu, sleep=emu.advance) as client:
        facts = emulator_facts(emu)
        options = DetachOptions(allow_stop=True, restart=True)
        items = [BulkItem(d, options) for d in ("d-b-1", "d-b-2")]
        plans = workflow.prepare_bulk(client, items, facts=facts, journal=journal)
        report = workflow.run_bulk(
            client,
            plans,
            journal=journal,
            facts=facts,
            clock=emu.now,
            sleep=emu.advance,
            cancel=cancel,
            on_progress=on_progress,
        )
    assert cancel.cancelled, "the run never waited for the restart"
    assert report.exit_code == 4, report.summary()
    codes = {r.code for r in report.results}
    assert "InvalidOperation.InstanceTypeNotSupport" not in codes and "InstanceTypeNotSupport" not in codes
    assert all(r.outcome in (Outcome.DONE, Outcome.CANCELLED) for r in report.results), report.summary()
    assert any(r.outcome is Outcome.CANCELLED for r in report.results)
    started = [i for i, o in journal.operations() if i.action == "StartInstance" and o is not None]
    assert len(started) == 1 and started[0].instance_id == "i-b"  # the start was sent and journaled


def test_a_wait_whose_state_was_never_read_says_so_at_the_timeout(tmp_path: Path) -> None:
    """Every read of the disk fails after the DetachDisk: the timeout message says the state could not be
    read, never 'still ?' or 'still' with nothing."""
    emu = Emulator(
        fleet={
            "Instances": [{"InstanceId": "i-app", "Status": "Running"}],
            "Disks": [
                {"DiskId": "d-app-sys", "InstanceId": "i-app", "Type": "system", "Status": "In_use"},
                {"DiskId": "d-app-1", "InstanceId": "i-app", "Type": "data", "Status": "In_use"},
            ],
        },
        clock=ManualClock(),
    )
    journal = Journal(tmp_path / "journal.jsonl", clock=emu.now)

    def on_progress(event: ProgressEvent) -> None:
        if event.phase == "detach-disk":  # from now on, no read of the disk gets through
            emu.set_faults(rate=1.0, kinds=["internal_error"], actions=["DescribeDisks"], seed=1)

    with EcsClient.for_emulator(emu, sleep=emu.advance) as client:
        facts = emulator_facts(emu)
        plan = workflow.prepare(client, "d-app-1", facts=facts, journal=journal)
        result = workflow.run(
            client,
            plan,
            journal=journal,
            facts=facts,
            clock=emu.now,
            sleep=emu.advance,
            timeout=30,
            on_progress=on_progress,
        )
    assert result.outcome is Outcome.TIMED_OUT and result.exit_code == 4, result.message
    assert "could not be read" in result.message
    assert "still ?" not in result.message and "still  " not in result.message
