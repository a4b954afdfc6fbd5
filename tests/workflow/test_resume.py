"""Resuming after a killed run, and a run that follows its confirmed plan whatever facts it is given.

A "killed" run here is a real `workflow.run` interrupted at a chosen progress report by an exception no code
catches (like SIGKILL, nothing after it runs): the journal and the emulator keep what it did. The operator
then prepares and runs the same detach again, with the journal.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecs_detach import workflow
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions, PlatformFacts
from ecs_detach.workflow import Outcome, ProgressEvent

from .conftest import Env, EnvFactory, web_fleet

NO_HOT = {"NoHotDetachInstanceTypes": ["ecs.g7.large"]}
START = "aliyun ecs StartInstance --RegionId cn-hangzhou --InstanceId i-web --profile demo"


class Killed(BaseException):
    """The process died here (nothing in the workflow catches it)."""


def killed_at(env: Env, disk_id: str, phase: StepKind) -> None:
    """Run a stop → detach → start of `disk_id` and die at the first progress report of `phase`."""

    def die(event: ProgressEvent) -> None:
        if event.phase == phase.value:
            raise Killed

    options = DetachOptions(allow_stop=True, restart=True)
    plan = workflow.prepare(env.client, disk_id, options, facts=env.kw["facts"])
    assert plan.calls == ("StopInstance", "DetachDisk", "StartInstance")
    with pytest.raises(Killed):
        workflow.run(env.client, plan, **{**env.kw, "on_progress": die})


def resume(env: Env, disk_id: str = "d-web-data", **options: Any) -> workflow.Plan:
    opts = DetachOptions(allow_stop=True, **options)
    return workflow.prepare(env.client, disk_id, opts, facts=env.kw["facts"], journal=env.journal)


def sent(env: Env) -> list[str]:
    return [c["action"] for c in env.calls() if not c["code"]]


# --- gap 1: an instance a killed run stopped is started again (or named) on every path ---------------------


def test_killed_while_the_detach_runs_the_resume_follows_it_then_starts_the_instance(
    make_env: EnvFactory,
) -> None:
    env = make_env(web_fleet(**NO_HOT))
    killed_at(env, "d-web-data", StepKind.WAIT_DISK_DETACHED)
    assert env.disk("d-web-data")["Status"] == "Detaching"
    assert env.instance("i-web")["Status"] == "Stopped"

    plan = resume(env, restart=True)
    assert [s.kind for s in plan.steps] == [
        StepKind.WAIT_DISK_DETACHED,
        StepKind.START_INSTANCE,
        StepKind.WAIT_INSTANCE_RUNNING,
    ]
    assert plan.calls == ("StartInstance",)
    assert START in plan.aliyun_commands
    assert any("stopped by an earlier ecs-detach run" in w for w in plan.warnings)
    assert "Start instance i-web again (stopped by an earlier run)" in plan.describe()

    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE, result.message
    assert "started again" in result.message
    assert env.disk("d-web-data")["Status"] == "Available"
    assert env.instance("i-web")["Status"] == "Running"
    assert sent(env) == ["StopInstance", "DetachDisk", "StartInstance"]  # nothing twice
    assert env.journal.stopped_by_us("i-web") is None


def test_killed_just_before_the_start_the_resume_of_a_detached_disk_only_starts_the_instance(
    make_env: EnvFactory,
) -> None:
    env = make_env(web_fleet(**NO_HOT))
    killed_at(env, "d-web-data", StepKind.START_INSTANCE)
    assert env.disk("d-web-data")["Status"] == "Available"

    plan = resume(env, restart=True)  # no instance named: the journal says which one
    assert plan.instance_id == "i-web" and not plan.nothing_to_do and plan.executable
    assert plan.calls == ("StartInstance",)
    assert plan.steps[0].kind is StepKind.WAIT_DISK_DETACHED
    assert START in plan.aliyun_commands

    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE, result.message
    assert "started again" in result.message
    assert env.instance("i-web")["Status"] == "Running"
    assert sent(env) == ["StopInstance", "DetachDisk", "StartInstance"]


def test_a_cancelled_wait_in_the_resume_says_the_instance_is_still_stopped(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(**NO_HOT))
    killed_at(env, "d-web-data", StepKind.WAIT_DISK_DETACHED)
    plan = resume(env, restart=True)
    token = workflow.CancelToken()

    def cancel(event: ProgressEvent) -> None:
        if event.phase == StepKind.WAIT_DISK_DETACHED.value:
            token.cancel()

    result = workflow.run(env.client, plan, **{**env.kw, "on_progress": cancel, "cancel": token})
    assert result.outcome is Outcome.CANCELLED
    assert result.message.endswith("Instance i-web was stopped by an earlier run and is left Stopped.")
    assert "StartInstance" not in sent(env)


@pytest.mark.parametrize("phase", [StepKind.WAIT_DISK_DETACHED, StepKind.START_INSTANCE])
def test_without_restart_the_resume_says_the_instance_was_left_stopped_and_how_to_start_it(
    make_env: EnvFactory, phase: StepKind
) -> None:
    env = make_env(web_fleet(**NO_HOT))
    killed_at(env, "d-web-data", phase)
    plan = resume(env)
    assert plan.calls == ()
    warning = next(w for w in plan.warnings if "left Stopped" in w)
    assert "stopped by an earlier ecs-detach run" in plan.describe()
    assert START in warning and "--restart-instance" in warning
    result = workflow.run(env.client, plan, **env.kw)
    assert result.ok, result.message
    assert env.instance("i-web")["Status"] == "Stopped"
    assert "StartInstance" not in sent(env)


def test_an_instance_someone_else_stopped_is_never_started(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(**NO_HOT))
    env.client.stop_instance("i-web")  # not us: nothing in the journal
    env.emu.advance(30)
    env.client.detach_disk("d-web-data", "i-web")
    plan = resume(env, restart=True)
    assert plan.calls == ()
    assert not any("earlier ecs-detach run" in w for w in plan.warnings)
    env.emu.advance(60)
    done = resume(env, restart=True)
    assert done.nothing_to_do and done.calls == ()
    workflow.run(env.client, plan, **env.kw)
    assert env.instance("i-web")["Status"] == "Stopped"
    assert "StartInstance" not in sent(env)


def test_an_instance_without_its_system_disk_is_never_started(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(**NO_HOT))
    killed_at(env, "d-web-data", StepKind.WAIT_DISK_DETACHED)
    env.client.detach_disk("d-web-sys", "i-web")  # someone detaches the system disk meanwhile
    plan = resume(env, restart=True)
    assert plan.calls == ()
    assert any("Not restarting instance i-web" in w and "system disk" in w for w in plan.warnings)
    result = workflow.run(env.client, plan, **env.kw)
    assert result.ok
    assert env.instance("i-web")["Status"] == "Stopped"
    assert "StartInstance" not in sent(env)


def test_a_system_disk_detached_between_plan_and_run_keeps_the_start_from_being_sent(
    make_env: EnvFactory,
) -> None:
    env = make_env(web_fleet(**NO_HOT))
    killed_at(env, "d-web-data", StepKind.START_INSTANCE)
    plan = resume(env, restart=True)
    assert plan.calls == ("StartInstance",)
    env.client.detach_disk("d-web-sys", "i-web")
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE
    assert "Not starting instance i-web" in result.message and "left Stopped" in result.message
    assert env.instance("i-web")["Status"] == "Stopped"
    assert "StartInstance" not in sent(env)


def test_a_stop_made_for_another_disk_is_named_but_started_only_by_that_disks_resume(
    make_env: EnvFactory,
) -> None:
    fleet = web_fleet(**NO_HOT)
    fleet["Disks"].append({"DiskId": "d-web-logs", "InstanceId": "i-web", "Type": "data", "Status": "In_use"})
    env = make_env(fleet)
    killed_at(env, "d-web-data", StepKind.DETACH_DISK)  # stopped, then died before its DetachDisk
    other = resume(env, "d-web-logs", restart=True)
    assert other.calls == ("DetachDisk",)
    assert any("for another disk (detach d-web-data)" in w for w in other.warnings)
    assert workflow.run(env.client, other, **env.kw).outcome is Outcome.DONE
    assert env.instance("i-web")["Status"] == "Stopped"

    own = resume(env, restart=True)
    assert own.calls == ("DetachDisk", "StartInstance")
    result = workflow.run(env.client, own, **env.kw)
    assert result.outcome is Outcome.DONE, result.message
    assert env.instance("i-web")["Status"] == "Running"
    assert sent(env) == ["StopInstance", "DetachDisk", "DetachDisk", "StartInstance"]


# --- gap 2: the run follows the confirmed plan, whatever facts it is given ----------------------------------


@pytest.mark.parametrize(
    "run_facts",
    [None, PlatformFacts(no_hot_detach_types=frozenset())],
    ids=["no-facts", "other-facts"],
)
def test_the_stop_the_confirmed_plan_showed_is_done_even_if_the_run_has_other_facts(
    make_env: EnvFactory, run_facts: PlatformFacts | None
) -> None:
    env = make_env(web_fleet(**NO_HOT))
    options = DetachOptions(allow_stop=True, restart=True)
    plan = workflow.prepare(env.client, "d-web-data", options, facts=env.kw["facts"])
    assert plan.calls == ("StopInstance", "DetachDisk", "StartInstance")
    result = workflow.run(env.client, plan, **{**env.kw, "facts": run_facts})
    assert result.outcome is Outcome.DONE, result.message
    assert "started again" in result.message
    assert [(c["action"], c["code"]) for c in env.calls()] == [
        ("StopInstance", ""),
        ("DetachDisk", ""),
        ("StartInstance", ""),
    ]
    assert env.disk("d-web-data")["Status"] == "Available"
    assert env.instance("i-web")["Status"] == "Running"


def test_a_planned_stop_is_skipped_when_the_instance_is_already_stopped_and_it_is_not_started(
    make_env: EnvFactory,
) -> None:
    env = make_env(web_fleet(**NO_HOT))
    options = DetachOptions(allow_stop=True, restart=True)
    plan = workflow.prepare(env.client, "d-web-data", options, facts=env.kw["facts"])
    env.client.stop_instance("i-web")  # someone else, between the plan and the run
    env.emu.advance(30)
    result = workflow.run(env.client, plan, **{**env.kw, "facts": None})
    assert result.outcome is Outcome.DONE, result.message
    assert sent(env) == ["StopInstance", "DetachDisk"]  # theirs, then our detach: no stop, no start by us
    assert env.instance("i-web")["Status"] == "Stopped"
