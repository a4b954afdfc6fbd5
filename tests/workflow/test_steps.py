"""Each mutating step kind is defined once (`detach.steps`) and sent one way (`detach.send`): what a plan
shows is what the run journals and sends."""

from __future__ import annotations

from ecs_detach import workflow
from ecs_detach.detach.send import EXECUTORS
from ecs_detach.detach.steps import MUTATING_STEPS, StepKind
from ecs_detach.plan import PlanStep
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import Outcome

from .conftest import EnvFactory, web_fleet


def test_every_mutating_step_kind_has_one_spec_and_one_executor() -> None:
    assert set(MUTATING_STEPS) == set(EXECUTORS)
    for kind in StepKind:
        step = PlanStep(kind, "", "", 0.0, "")
        assert step.mutating == (kind in MUTATING_STEPS)
        assert step.action == (MUTATING_STEPS[kind].action if step.mutating else None)


def test_the_run_journals_and_sends_the_parameters_the_plan_shows(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    options = DetachOptions(
        allow_stop=True, force_stop=True, stopped_mode="StopCharging", delete_with_instance=False
    )
    plan = workflow.prepare(env.client, "d-web-sys", options, facts=env.kw["facts"])
    shown = [(step.action, dict(step.params)) for step in plan.steps if step.mutating]
    assert [action for action, _ in shown] == ["StopInstance", "DetachDisk"]

    result = workflow.run(env.client, plan, **env.kw)

    assert result.outcome is Outcome.DONE
    journaled = [(r.action, dict(r.params)) for r in env.journal.records() if r.kind == "intent"]
    assert journaled == shown
    calls = env.calls()
    assert [call["action"] for call in calls] == [action for action, _ in shown]
    for call, (_, params) in zip(calls, shown, strict=True):
        assert {key: call["params"][key].lower() for key in params} == {
            k: v.lower() for k, v in params.items()
        }
