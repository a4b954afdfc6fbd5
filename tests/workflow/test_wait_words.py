"""What an ended wait says: only what was sent goes on in the cloud (issue 12, "Words that mislead")."""

from __future__ import annotations

from ecs_detach import workflow
from ecs_detach.workflow import Outcome

from .conftest import EnvFactory, web_fleet


def _starting_fleet() -> dict[str, object]:
    fleet = web_fleet(Durations={"StartInstance": 3600})
    fleet["Instances"][0]["Status"] = "Starting"  # type: ignore[index]
    return fleet


def test_a_wait_before_anything_was_sent_says_nothing_was_sent(make_env: EnvFactory) -> None:
    env = make_env(_starting_fleet())
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw, timeout=30)
    assert result.outcome is Outcome.TIMED_OUT
    assert "Nothing was sent" in result.message and "goes on in the cloud" not in result.message
    assert env.calls() == [] and result.request_ids == ()
