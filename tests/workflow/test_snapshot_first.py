"""Snapshot before detach (`DetachOptions(snapshot=True)`): the plan shows it and says it is billed, the run
sends CreateSnapshot first, follows its progress, and sends DetachDisk only once it is accomplished; the
snapshot id is in the result and in the journal. Refused where the API cannot snapshot."""

from __future__ import annotations

from typing import Any

from ecs_detach import workflow
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import Outcome

from .conftest import EnvFactory, web_fleet

SNAP = DetachOptions(snapshot=True)


def _snapshots(env: Any) -> list[dict[str, Any]]:
    return list(env.emu.state()["Emulator"].get("Snapshots", []))


def test_the_plan_shows_the_snapshot_first_and_that_it_is_billed(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", SNAP, facts=env.kw["facts"])
    assert plan.executable
    assert plan.calls == ("CreateSnapshot", "DetachDisk")
    kinds = [step.kind for step in plan.steps]
    assert kinds[:2] == [StepKind.CREATE_SNAPSHOT, StepKind.WAIT_SNAPSHOT]
    assert plan.steps[0].aliyun.startswith(
        "aliyun ecs CreateSnapshot --RegionId cn-hangzhou --DiskId d-web-data"
    )
    assert plan.steps[1].eta_seconds == 40  # the emulator's Durations.CreateSnapshot
    assert any("billed" in warning for warning in plan.warnings)
    without = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    assert without.calls == ("DetachDisk",) and not any("billed" in w for w in without.warnings)


def test_the_snapshot_is_accomplished_before_the_detach_is_sent(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", SNAP, facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE, result.message
    (snapshot,) = _snapshots(env)
    assert result.snapshot_id == snapshot["SnapshotId"] and snapshot["Status"] == "accomplished"
    assert f"Snapshot {result.snapshot_id} was taken first" in result.message
    log = [(r["action"], r["emulator_time"]) for r in env.emu.requests if r["action"] != "DescribeDisks"]
    actions = [action for action, _ in log]
    assert actions.index("CreateSnapshot") < actions.index("DetachDisk")
    detach_at = next(t for a, t in log if a == "DetachDisk")
    assert snapshot["LastModifiedTime"] <= detach_at  # accomplished before the detach was sent
    # Progress was shown while it was taken.
    waits = [e.state for e in env.events if e.phase == StepKind.WAIT_SNAPSHOT.value]
    assert any(state.startswith("progressing ") and state.endswith("%") for state in waits)
    assert waits[-1] == "accomplished"
    # The journal: the CreateSnapshot intent and outcome, and the snapshot id on the DetachDisk.
    ops = {intent.action: (intent, outcome) for intent, outcome in env.journal.operations()}
    assert set(ops) == {"CreateSnapshot", "DetachDisk"}
    assert ops["CreateSnapshot"][1] is not None and ops["CreateSnapshot"][1].succeeded
    assert ops["DetachDisk"][0].context["snapshot_id"] == result.snapshot_id


def test_a_failed_snapshot_leaves_the_disk_attached(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(FailedSnapshotDiskIds=["d-web-data"]))
    plan = workflow.prepare(env.client, "d-web-data", SNAP, facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.FAILED and result.exit_code == 1
    assert "is failed: disk d-web-data was not detached" in result.message
    assert [c["action"] for c in env.calls()] == []  # no DetachDisk (CreateSnapshot is not in MUTATIONS)
    assert env.disk("d-web-data")["Status"] == "In_use"


def test_a_local_disk_cannot_be_snapshotted_first(make_env: EnvFactory) -> None:
    fleet = web_fleet()
    fleet["Disks"].append(
        {
            "DiskId": "d-web-local",
            "InstanceId": "i-web",
            "Type": "data",
            "Category": "local_ssd_pro",
            "Portable": True,
        }
    )
    env = make_env(fleet)
    plan = workflow.prepare(env.client, "d-web-local", SNAP, facts=env.kw["facts"])
    assert not plan.executable
    assert "cannot be taken first" in plan.refusal and "DiskCategory.OperationNotSupported" in plan.refusal
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.BLOCKED and result.exit_code == 3
    assert not [r for r in env.emu.requests if r["action"] in ("CreateSnapshot", "DetachDisk")]


def test_a_snapshot_already_progressing_blocks_before_the_detach(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    env.client.create_snapshot("d-web-data", name="someone-else")
    plan = workflow.prepare(env.client, "d-web-data", SNAP, facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.BLOCKED
    assert result.code == "IncorrectDiskStatus.CreatingSnapshot"
    assert "was not detached" in result.message
    assert env.disk("d-web-data")["Status"] == "In_use"
