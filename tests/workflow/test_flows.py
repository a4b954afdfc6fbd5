"""Complete flows on the emulator with a manual clock: outcomes, API calls received, the journal."""

from __future__ import annotations

from typing import Any

import pytest
from journal_helpers import KILLED

from ecs_detach import workflow
from ecs_detach.errors import IncorrectStateError
from ecs_detach.journal import Journal, Result
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions, Verdict
from ecs_detach.workflow import CancelToken, Outcome

from .conftest import EnvFactory, web_fleet


def test_a_data_disk_detaches_from_a_running_instance(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    assert plan.executable and plan.calls == ("DetachDisk",)
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE and result.exit_code == 0
    assert result.message == "Disk d-web-data is detached from instance i-web."
    assert env.disk("d-web-data")["Status"] == "Available"
    assert env.instance("i-web")["Status"] == "Running"
    assert [c["action"] for c in env.calls()] == ["DetachDisk"]
    # Progress: the state, elapsed time and ETA, up to the end.
    waits = [e for e in env.events if e.phase == StepKind.WAIT_DISK_DETACHED.value]
    assert waits[0].state == "Detaching" and waits[0].eta == pytest.approx(60)
    assert waits[-1].state == "Available" and waits[-1].elapsed >= 60
    # The journal: an intent and an outcome, linked, with the request id the API gave.
    ops = env.journal.operations()
    assert len(ops) == 1
    intent, outcome = ops[0]
    assert (intent.action, intent.disk_id, intent.instance_id) == ("DetachDisk", "d-web-data", "i-web")
    assert intent.profile == "demo" and intent.region == "cn-hangzhou" and intent.endpoint
    assert outcome is not None and outcome.result == Result.OK
    assert outcome.request_id == env.calls("DetachDisk")[0]["request_id"] == result.request_ids[0]


def test_a_system_disk_stop_detach_start_refused_reattach_start(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    options = DetachOptions(
        allow_stop=True,
        force_stop=True,
        stopped_mode="StopCharging",
        delete_with_instance=False,
        restart=True,
    )
    plan = workflow.prepare(env.client, "d-web-sys", options, facts=env.kw["facts"])
    assert plan.preconditions is not None and plan.preconditions.verdict is Verdict.FIXABLE
    assert plan.calls == ("StopInstance", "DetachDisk")  # no restart: it could not start
    assert any("cannot start" in warning for warning in plan.warnings)
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE
    assert "left Stopped" in result.message
    assert env.instance("i-web")["Status"] == "Stopped"
    assert env.disk("d-web-sys")["Status"] == "Available"
    assert [c["action"] for c in env.calls()] == ["StopInstance", "DetachDisk"]
    stop, detach = env.calls()
    assert stop["params"]["ForceStop"].lower() == "true" and stop["params"]["StoppedMode"] == "StopCharging"
    assert detach["params"]["DeleteWithInstance"].lower() == "false"
    assert env.disk("d-web-sys")["DeleteWithInstance"] is False

    # The instance cannot start without a system disk: the API says so.
    with pytest.raises(IncorrectStateError) as refused:
        env.client.start_instance("i-web")
    assert refused.value.code == "InvalidInstance.NotFoundSystemDisk"

    # Undo from the journal: a system disk needs a credential, which is never journaled.
    found = env.journal.last_detach("d-web-sys")
    assert found is not None
    record = found[0]
    assert record.context["disk_type"] == "system"
    blocked = workflow.reattach(env.client, record, **env.kw)
    assert blocked.outcome is Outcome.BLOCKED and "password or a key pair" in blocked.message
    undo = workflow.reattach(env.client, record, password="S3cret-Pa55!", start_after=True, **env.kw)
    assert undo.outcome is Outcome.DONE, undo.message
    assert env.disk("d-web-sys")["Status"] == "In_use"
    assert env.disk("d-web-sys")["Device"] == "/dev/xvda"
    assert env.instance("i-web")["Status"] == "Running"
    assert "S3cret" not in env.journal.path.read_text()
    attach = env.calls("AttachDisk")[0]
    assert attach["params"]["Bootable"].lower() == "true"


def test_a_security_lock_blocks_and_nothing_is_sent(make_env: EnvFactory) -> None:
    fleet = web_fleet()
    fleet["Instances"][0]["OperationLocks"] = {"LockReason": [{"LockReason": "security"}]}
    env = make_env(fleet)
    plan = workflow.prepare(env.client, "d-web-data", DetachOptions(allow_stop=True), facts=env.kw["facts"])
    assert not plan.executable
    assert "locked for security" in plan.refusal
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.BLOCKED and result.exit_code == 3
    assert env.calls() == []
    assert env.journal.records() == []


def test_a_disk_that_is_not_portable_is_refused_with_the_reason(make_env: EnvFactory) -> None:
    fleet = web_fleet()
    fleet["Disks"][1].update({"Portable": False, "DiskChargeType": "PrePaid"})
    env = make_env(fleet)
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    assert plan.preconditions is not None
    assert plan.preconditions.predicted_code == "DiskNotPortable"
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.BLOCKED
    assert "not portable" in result.message and "subscription" in result.message
    assert env.calls() == []


def test_a_multi_attach_disk_loses_only_the_chosen_attachment(make_env: EnvFactory) -> None:
    fleet: dict[str, Any] = {
        "Instances": [
            {"InstanceId": "i-a", "Status": "Running", "ZoneId": "cn-hangzhou-h"},
            {"InstanceId": "i-b", "Status": "Running", "ZoneId": "cn-hangzhou-h"},
        ],
        "Disks": [
            {"DiskId": "d-a-sys", "InstanceId": "i-a", "Type": "system", "Status": "In_use"},
            {"DiskId": "d-b-sys", "InstanceId": "i-b", "Type": "system", "Status": "In_use"},
            {
                "DiskId": "d-shared",
                "Type": "data",
                "Status": "In_use",
                "MultiAttach": "Enabled",
                "ZoneId": "cn-hangzhou-h",
                "Attachments": {"Attachment": [{"InstanceId": "i-a"}, {"InstanceId": "i-b"}]},
            },
        ],
    }
    env = make_env(fleet)
    unchosen = workflow.prepare(env.client, "d-shared", facts=env.kw["facts"])
    assert not unchosen.executable and "i-a, i-b" in unchosen.refusal
    conflict = workflow.prepare(
        env.client,
        "d-shared",
        DetachOptions(instance_id="i-a", delete_with_instance=True),
        facts=env.kw["facts"],
    )
    assert not conflict.executable and "DeleteWithInstance" in conflict.refusal
    plan = workflow.prepare(env.client, "d-shared", DetachOptions(instance_id="i-a"), facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE
    shared = env.disk("d-shared")
    assert [a["InstanceId"] for a in shared["Attachments"]["Attachment"]] == ["i-b"]
    assert shared["Status"] == "In_use"


def test_a_lost_response_after_detach_applied_is_reconciled_without_a_second_detach(
    make_env: EnvFactory,
) -> None:
    env = make_env(web_fleet())
    env.emu.set_faults(rate=1.0, kinds=["lost_response"], actions=["DetachDisk"], seed=1)
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE, result.message
    assert env.disk("d-web-data")["Status"] == "Available"
    detaches = env.calls("DetachDisk")
    assert len(detaches) == 1 and detaches[0]["fault"] == "lost_response"
    assert any("went through" in e.message for e in env.events if e.phase == "reconcile")
    ((_, outcome),) = env.journal.operations()
    assert outcome is not None and outcome.reconciled and outcome.result == Result.IN_PROGRESS
    results = [r.result for r in env.journal.records() if r.kind == "outcome"]
    assert results == [Result.UNKNOWN, Result.IN_PROGRESS]
    assert env.journal.pending() == []


def test_a_lost_request_that_did_not_apply_is_sent_again_only_after_reading(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    env.emu.set_faults(rate=1.0, kinds=["reset"], actions=["DetachDisk"], seed=1)
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])

    def heal(event: workflow.ProgressEvent) -> None:
        if event.phase == "reconcile":
            env.emu.clear_faults()

    result = workflow.run(env.client, plan, **{**env.kw, "on_progress": heal})
    assert result.outcome is Outcome.DONE, result.message
    actions = [r["action"] for r in env.emu.requests]
    first, second = (i for i, a in enumerate(actions) if a == "DetachDisk")
    assert "DescribeDisks" in actions[first + 1 : second]  # read before the second DetachDisk
    assert [r.result for r in env.journal.records() if r.kind == "outcome"] == [
        Result.UNKNOWN,
        Result.DID_NOT_HAPPEN,
        Result.OK,
    ]


def test_a_process_killed_during_the_wait_is_reconciled_on_a_fresh_start(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    # The first process wrote its intent, sent DetachDisk, and died before writing the outcome.
    killed = Journal(env.journal.path, owner=KILLED)
    intent = killed.intent("DetachDisk", disk_id="d-web-data", instance_id="i-web", region="cn-hangzhou")
    env.client.detach_disk("d-web-data", "i-web")
    env.emu.advance(20)
    # A fresh start: a new Journal on the same file.
    fresh = Journal(env.journal.path)
    assert [p.operation_id for p in fresh.pending()] == [intent.operation_id]
    (reconciled,) = fresh.reconcile(env.client)
    assert reconciled.result == Result.IN_PROGRESS and reconciled.reconciled
    assert "went through" in reconciled.message
    assert fresh.pending() == []
    followed = workflow.follow(
        env.client, "d-web-data", "i-web", clock=env.emu.now, sleep=env.emu.advance, facts=env.kw["facts"]
    )
    assert followed.outcome is Outcome.DONE
    assert len(env.calls("DetachDisk")) == 1


def test_an_intent_that_never_reached_the_api_reconciles_as_did_not_happen(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    Journal(env.journal.path, owner=KILLED).intent("StopInstance", instance_id="i-web")
    (reconciled,) = env.journal.reconcile(env.client)
    assert reconciled.result == Result.DID_NOT_HAPPEN


def test_the_wait_times_out_and_says_the_detach_goes_on(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(Durations={"DetachDisk": 900}))
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.TIMED_OUT and result.exit_code == 4
    assert "still Detaching after 300 s" in result.message
    assert "goes on in the cloud" in result.message
    assert env.disk("d-web-data")["Status"] == "Detaching"


def test_cancelling_the_wait_does_not_cancel_the_detach(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    token = CancelToken()

    def cancel_after_a_while(event: workflow.ProgressEvent) -> None:
        if event.phase == StepKind.WAIT_DISK_DETACHED.value and event.elapsed >= 10:
            token.cancel()

    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    result = workflow.run(
        env.client, plan, **{**env.kw, "on_progress": cancel_after_a_while, "cancel": token}
    )
    assert result.outcome is Outcome.CANCELLED
    assert env.disk("d-web-data")["Status"] == "Detaching"
    env.emu.advance(60)
    assert env.disk("d-web-data")["Status"] == "Available"


def test_a_lock_added_after_the_plan_aborts_before_the_detach(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-sys", DetachOptions(allow_stop=True), facts=env.kw["facts"])
    assert plan.executable

    def lock_while_stopping(event: workflow.ProgressEvent) -> None:
        if event.phase == StepKind.WAIT_INSTANCE_STOPPED.value and event.state == "Stopped":
            state = env.emu.state()
            state["Instances"][0]["OperationLocks"] = {"LockReason": [{"LockReason": "security"}]}
            env.emu.reset(state)

    result = workflow.run(env.client, plan, **{**env.kw, "on_progress": lock_while_stopping})
    assert result.outcome is Outcome.ABORTED
    assert "changed for the worse" in result.message and "locked for security" in result.message
    assert "left Stopped" in result.message
    assert env.calls("DetachDisk") == []


def test_a_detach_behind_our_back_is_reported(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    env.client.detach_disk("d-web-data", "i-web")  # someone else
    env.emu.advance(60)
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.ALREADY_DETACHED
    assert "already detached" in result.message
    assert len(env.calls("DetachDisk")) == 1


def test_a_stop_not_in_the_confirmed_plan_is_never_done(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    # Confirmed while the instance was Stopped: no stop in the plan. Then someone starts it.
    env.client.stop_instance("i-web")
    env.emu.advance(30)
    plan = workflow.prepare(env.client, "d-web-sys", DetachOptions(allow_stop=True), facts=env.kw["facts"])
    assert plan.calls == ("DetachDisk",)
    env.client.start_instance("i-web")
    env.emu.advance(30)
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.BLOCKED
    assert "did not include stopping" in result.message
    assert env.calls("DetachDisk") == []


def test_a_data_disk_on_a_type_that_cannot_hot_detach_stops_and_restarts(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(NoHotDetachInstanceTypes=["ecs.g7.large"]))
    options = DetachOptions(allow_stop=True, restart=True)
    plan = workflow.prepare(env.client, "d-web-data", options, facts=env.kw["facts"])
    assert plan.calls == ("StopInstance", "DetachDisk", "StartInstance")
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE
    assert "started again" in result.message
    assert env.instance("i-web")["Status"] == "Running"
    assert [c["action"] for c in env.calls()] == ["StopInstance", "DetachDisk", "StartInstance"]


@pytest.mark.anyio
async def test_the_async_variant_runs_the_same_flow(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    result = await workflow.run_async(env.client, plan, **env.kw)
    assert result.outcome is Outcome.DONE
    assert env.disk("d-web-data")["Status"] == "Available"


def test_already_detached_after_our_own_call_counts_as_done(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])

    def race(event: workflow.ProgressEvent) -> None:
        if event.phase == StepKind.DETACH_DISK.value and not env.calls("DetachDisk"):
            env.client.detach_disk("d-web-data", "i-web")  # someone else, between our check and our call
            env.emu.advance(60)

    result = workflow.run(env.client, plan, **{**env.kw, "on_progress": race})
    assert result.outcome is Outcome.DONE
    assert [c["code"] for c in env.calls("DetachDisk")] == ["", "InvalidDisk.AlreadyDetached"]


def test_read_only_mode_refuses_before_anything_is_journaled_or_sent(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    client = env.client.with_read_only(True)
    plan = workflow.prepare(client, "d-web-data", facts=env.kw["facts"])
    result = workflow.run(client, plan, **env.kw)
    assert result.outcome is Outcome.FAILED and result.exit_code == 1
    assert "read-only" in result.message and result.remedy
    assert env.calls() == []
    assert env.journal.records() == []


def test_reconcile_reads_each_intent_in_its_region_and_leaves_other_profiles_alone(
    make_env: EnvFactory,
) -> None:
    fleet = web_fleet()
    fleet["Instances"].append({"InstanceId": "i-sh", "Status": "Running", "RegionId": "cn-shanghai"})
    fleet["Disks"].append({"DiskId": "d-sh", "InstanceId": "i-sh", "Type": "data", "Status": "In_use"})
    env = make_env(fleet)
    env.client.with_region("cn-shanghai").detach_disk("d-sh", "i-sh")
    killed = Journal(env.journal.path, owner=KILLED)
    here = killed.intent(
        "DetachDisk", disk_id="d-sh", instance_id="i-sh", region="cn-shanghai", profile="demo"
    )
    other = killed.intent(
        "DetachDisk", disk_id="d-x", instance_id="i-x", region="cn-hangzhou", profile="prod"
    )
    (reconciled,) = env.journal.reconcile(env.client)  # a cn-hangzhou client of profile "demo"
    assert reconciled.operation_id == here.operation_id
    assert reconciled.result == Result.IN_PROGRESS
    assert [p.operation_id for p in env.journal.pending()] == [other.operation_id]


def test_without_platform_facts_the_api_decides_and_a_limit_is_waited_out(make_env: EnvFactory) -> None:
    fleet = web_fleet(MaxDetachingDisksPerInstance=1)
    fleet["Disks"].append({"DiskId": "d-busy", "InstanceId": "i-web", "Type": "data", "Status": "Detaching"})
    env = make_env(fleet)
    pre = workflow.inspect(env.client, "d-web-data")  # real mode: no facts
    assert pre.verdict is Verdict.READY
    assert {row.number for row in pre.unknown_rows} == {11, 17, 18}
    plan = workflow.prepare(env.client, "d-web-data")
    result = workflow.run(env.client, plan, **{**env.kw, "facts": None})
    assert result.outcome is Outcome.DONE, result.message
    codes = [c["code"] for c in env.calls("DetachDisk")]
    assert codes[0] == "DisksDetachingOnEcsExceeded" and codes[-1] == ""
    assert any("DisksDetachingOnEcsExceeded" in e.message for e in env.events)


def test_without_platform_facts_a_refusal_is_explained(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(NoHotDetachInstanceTypes=["ecs.g7.large"]))
    plan = workflow.prepare(env.client, "d-web-data")
    assert plan.executable  # unknown: the API decides
    result = workflow.run(env.client, plan, **{**env.kw, "facts": None})
    assert result.outcome is Outcome.FAILED and result.exit_code == 1
    assert result.code == "InvalidOperation.InstanceTypeNotSupport"
    assert result.remedy
    assert env.instance("i-web")["Status"] == "Running"


def test_undo_right_after_a_cancelled_wait_follows_the_detach_then_attaches(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    token = CancelToken()

    def cancel_at_once(event: workflow.ProgressEvent) -> None:
        if event.phase == StepKind.WAIT_DISK_DETACHED.value:
            token.cancel()

    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])
    cancelled = workflow.run(env.client, plan, **{**env.kw, "on_progress": cancel_at_once, "cancel": token})
    assert cancelled.outcome is Outcome.CANCELLED
    found = env.journal.last_detach("d-web-data")
    assert found is not None
    undo = workflow.reattach(env.client, found[0], **env.kw)
    assert undo.outcome is Outcome.DONE, undo.message
    assert env.disk("d-web-data")["Status"] == "In_use"
    assert env.disk("d-web-data")["InstanceId"] == "i-web"
    assert [c["action"] for c in env.calls()] == ["DetachDisk", "AttachDisk"]


def test_a_wait_that_times_out_after_our_stop_says_the_instance_is_left_stopped(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(Durations={"DetachDisk": 900}))
    plan = workflow.prepare(env.client, "d-web-sys", DetachOptions(allow_stop=True), facts=env.kw["facts"])
    result = workflow.run(env.client, plan, **env.kw)
    assert result.outcome is Outcome.TIMED_OUT
    assert result.message.endswith("Instance i-web was stopped by this run and is left Stopped.")
    assert result.stopped_instance


def test_a_server_error_on_detach_is_reconciled_before_anything_is_sent_again(make_env: EnvFactory) -> None:
    env = make_env(web_fleet())
    env.emu.set_faults(rate=1.0, kinds=["internal_error"], actions=["DetachDisk"], seed=1)
    plan = workflow.prepare(env.client, "d-web-data", facts=env.kw["facts"])

    def heal(event: workflow.ProgressEvent) -> None:
        if event.phase == "reconcile":
            env.emu.clear_faults()

    result = workflow.run(env.client, plan, **{**env.kw, "on_progress": heal})
    assert result.outcome is Outcome.DONE, result.message
    assert [c["code"] for c in env.calls("DetachDisk")] == ["InternalError", ""]
    assert [r.result for r in env.journal.records() if r.kind == "outcome"] == [
        Result.UNKNOWN,
        Result.DID_NOT_HAPPEN,
        Result.OK,
    ]


def test_a_run_killed_after_its_stop_is_resumed_and_the_instance_started_again(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(NoHotDetachInstanceTypes=["ecs.g7.large"]))
    # The killed run: its StopInstance went out (intent journaled), then the process died.
    Journal(env.journal.path, owner=KILLED).intent(
        "StopInstance", instance_id="i-web", region="cn-hangzhou", profile="demo"
    )
    env.client.stop_instance("i-web")
    env.emu.advance(30)
    fresh = Journal(env.journal.path)
    (reconciled,) = fresh.reconcile(env.client)
    assert reconciled.result == Result.WENT_THROUGH
    options = DetachOptions(allow_stop=True, restart=True)
    plan = workflow.prepare(env.client, "d-web-data", options, facts=env.kw["facts"], journal=fresh)
    assert plan.calls == ("DetachDisk", "StartInstance")
    assert any("stopped by an earlier ecs-detach run" in w for w in plan.warnings)
    result = workflow.run(env.client, plan, **{**env.kw, "journal": fresh})
    assert result.outcome is Outcome.DONE, result.message
    assert "started again" in result.message
    assert env.instance("i-web")["Status"] == "Running"
    assert fresh.stopped_by_us("i-web") is None
    # Without the journal the plan cannot know, and says the instance is left Stopped.
    env2 = make_env(web_fleet(NoHotDetachInstanceTypes=["ecs.g7.large"]))
    env2.client.stop_instance("i-web")
    env2.emu.advance(30)
    blind = workflow.prepare(env2.client, "d-web-data", options, facts=env2.kw["facts"])
    assert blind.calls == ("DetachDisk",)
    assert any("left Stopped" in w for w in blind.warnings)
