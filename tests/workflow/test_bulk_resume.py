"""A bulk run killed after it stopped an instance, resumed by a new bulk plan that reads the journal.

A "killed" run is a real `run_bulk` interrupted at a chosen progress report by an exception no code catches
(like SIGKILL, nothing after it runs in that worker): the journal and the emulator keep what it did. The
operator then plans the same disks again with `prepare_bulk(..., journal=...)` in a new process (a fresh
`Journal` on the same file) and runs it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecs_detach import workflow
from ecs_detach.journal import Journal
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import BulkItem, Outcome, ProgressEvent

from .conftest import Env, EnvFactory, web_fleet

NO_HOT = {"NoHotDetachInstanceTypes": ["ecs.g7.large"]}  # i-web must be stopped to detach a data disk
DISKS = ("d-web-data", "d-web-logs")
OPTIONS = DetachOptions(allow_stop=True, restart=True)


class Killed(BaseException):
    """The process died here (nothing in the workflow catches it)."""


def _fleet() -> dict[str, Any]:
    fleet = web_fleet(**NO_HOT)
    fleet["Disks"].append({"DiskId": "d-web-logs", "InstanceId": "i-web", "Type": "data", "Status": "In_use"})
    return fleet


def killed_bulk(env: Env, disks: tuple[str, ...], phase: StepKind, nth: int = 1) -> None:
    """Plan and run a bulk detach of `disks` (stop, detach each, start); die at report `nth` of `phase`."""
    seen: list[ProgressEvent] = []

    def die(event: ProgressEvent) -> None:
        if event.phase == phase.value:
            seen.append(event)
            if len(seen) == nth:
                raise Killed

    plans = workflow.prepare_bulk(env.client, [BulkItem(d, OPTIONS) for d in disks], facts=env.kw["facts"])
    with pytest.raises(Killed):
        workflow.run_bulk(env.client, plans, **{**env.kw, "on_progress": die})


def plan_again(env: Env, disks: tuple[str, ...], journal: Journal | None) -> list[workflow.Plan]:
    items = [BulkItem(d, OPTIONS) for d in disks]
    return workflow.prepare_bulk(env.client, items, facts=env.kw["facts"], journal=journal)


def sent(env: Env, action: str, target: str) -> int:
    """How many `action` calls for `target` (a disk or an instance id) the emulator accepted."""
    key = "DiskId" if action == "DetachDisk" else "InstanceId"
    return sum(1 for c in env.calls(action) if not c["code"] and c["params"].get(key) == target)


def test_killed_after_its_stop_the_new_bulk_plan_resumes_and_starts_the_instance_again(
    make_env: EnvFactory,
) -> None:
    env = make_env(_fleet())
    killed_bulk(env, DISKS, StepKind.DETACH_DISK)  # stopped i-web, died before the first DetachDisk
    assert env.instance("i-web")["Status"] == "Stopped"
    assert [env.disk(d)["Status"] for d in DISKS] == ["In_use", "In_use"]

    journal = Journal(env.journal.path)  # the next process
    data, logs = plan_again(env, DISKS, journal)
    assert data.calls == ("DetachDisk", "StartInstance")  # no second stop; the start it was killed before
    assert any("stopped by an earlier ecs-detach run" in w for w in data.warnings)
    assert "Start instance i-web again (stopped by an earlier run)" in data.describe()
    assert logs.calls == ("DetachDisk",)

    report = workflow.run_bulk(env.client, [data, logs], **{**env.kw, "journal": journal})
    assert report.ok, report.summary()
    assert [r.outcome for r in report.results] == [Outcome.DONE, Outcome.DONE]
    assert report.results[-1].message.endswith("Instance i-web was started again.")
    assert env.instance("i-web")["Status"] == "Running"
    assert [env.disk(d)["Status"] for d in DISKS] == ["Available", "Available"]
    for disk_id in DISKS:
        assert sent(env, "DetachDisk", disk_id) == 1, disk_id
    assert sent(env, "StopInstance", "i-web") == 1 and sent(env, "StartInstance", "i-web") == 1
    assert journal.stopped_by_us("i-web") is None


def test_killed_between_two_detaches_the_resume_detaches_the_rest_once_and_starts_the_instance(
    make_env: EnvFactory,
) -> None:
    env = make_env(_fleet())
    killed_bulk(env, DISKS, StepKind.DETACH_DISK, nth=2)  # d-web-data detached, died before d-web-logs
    env.emu.advance(60)
    assert [env.disk(d)["Status"] for d in DISKS] == ["Available", "In_use"]

    journal = Journal(env.journal.path)
    data, logs = plan_again(env, DISKS, journal)
    assert data.calls == ("StartInstance",) and not data.nothing_to_do  # only the start is left
    report = workflow.run_bulk(env.client, [data, logs], **{**env.kw, "journal": journal})
    assert [r.outcome for r in report.results] == [Outcome.ALREADY_DETACHED, Outcome.DONE], report.summary()
    assert "Instance i-web was started again." in report.results[-1].message
    assert env.instance("i-web")["Status"] == "Running"
    for disk_id in DISKS:
        assert sent(env, "DetachDisk", disk_id) == 1, disk_id
    assert sent(env, "StartInstance", "i-web") == 1


def test_without_the_journal_the_bulk_plan_cannot_know_and_the_instance_stays_stopped(
    make_env: EnvFactory,
) -> None:
    env = make_env(_fleet())
    killed_bulk(env, DISKS, StepKind.DETACH_DISK)
    blind = plan_again(env, DISKS, None)
    assert [p.calls for p in blind] == [("DetachDisk",), ("DetachDisk",)]
    assert all(any("left Stopped" in w for w in p.warnings) for p in blind)
    report = workflow.run_bulk(env.client, blind, **env.kw)
    assert report.ok, report.summary()
    assert env.instance("i-web")["Status"] == "Stopped"
    assert sent(env, "StartInstance", "i-web") == 0


def test_an_instance_started_by_someone_since_the_plan_is_not_started_again(make_env: EnvFactory) -> None:
    env = make_env(_fleet())
    killed_bulk(env, DISKS, StepKind.DETACH_DISK, nth=2)
    env.emu.advance(60)
    journal = Journal(env.journal.path)
    plans = plan_again(env, DISKS, journal)
    assert plans[0].calls == ("StartInstance",)
    env.client.start_instance("i-web")  # someone else, between the plan and the run
    env.emu.advance(60)
    report = workflow.run_bulk(env.client, plans, **{**env.kw, "journal": journal})
    # Running again: d-web-logs now needs a stop the confirmed plan did not show, and nothing is started.
    assert [r.outcome for r in report.results] == [Outcome.ALREADY_DETACHED, Outcome.BLOCKED]
    assert "Instance i-web is Running, not Stopped: not starting it." in report.results[-1].message
    assert sent(env, "StartInstance", "i-web") == 1  # theirs only
    assert sent(env, "DetachDisk", "d-web-data") == 1 and sent(env, "DetachDisk", "d-web-logs") == 0
    assert env.instance("i-web")["Status"] == "Running"


def test_killed_after_stopping_for_a_system_disk_the_resume_detaches_it_once_and_never_starts_the_instance(
    make_env: EnvFactory,
) -> None:
    env = make_env(web_fleet(**NO_HOT))
    killed_bulk(env, ("d-web-sys",), StepKind.DETACH_DISK)
    assert env.instance("i-web")["Status"] == "Stopped"

    journal = Journal(env.journal.path)
    (plan,) = plan_again(env, ("d-web-sys",), journal)
    assert plan.calls == ("DetachDisk",)  # no second stop
    assert any("stopped by an earlier ecs-detach run" in w for w in plan.warnings)
    assert any("Not restarting instance i-web" in w and "system disk" in w for w in plan.warnings)
    report = workflow.run_bulk(env.client, [plan], **{**env.kw, "journal": journal})
    assert report.ok, report.summary()
    assert env.disk("d-web-sys")["Status"] == "Available"
    assert env.instance("i-web")["Status"] == "Stopped"
    assert sent(env, "DetachDisk", "d-web-sys") == 1
    assert sent(env, "StopInstance", "i-web") == 1 and sent(env, "StartInstance", "i-web") == 0
