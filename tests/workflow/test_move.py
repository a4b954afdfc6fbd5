"""Moving a disk to another instance (`prepare_move` / `run_move`): both sides checked before anything is
sent, one plan, the journal of both halves, a failure between the halves leaves the disk Available, a move
killed between its halves is finished by preparing it again, and undo moves it back."""

from __future__ import annotations

import copy
from typing import Any

from ecs_detach.emulator.fleet import load_fleet
from ecs_detach.journal import Result
from ecs_detach.move import CheckStatus
from ecs_detach.workflow import MoveOptions, Outcome, prepare_move, prepare_move_back, run_move

from .conftest import Env, EnvFactory

MUTATING = ("DetachDisk", "AttachDisk", "StopInstance", "StartInstance", "CreateSnapshot")


def demo(**emulator: Any) -> dict[str, Any]:
    fleet = copy.deepcopy(load_fleet("demo"))
    fleet["Emulator"].update(emulator)
    return fleet


def sent(env: Env) -> list[str]:
    return [r["action"] for r in env.emu.requests if r["action"] in MUTATING]


def move(env: Env, disk_id: str, options: MoveOptions, **kw: Any) -> Any:
    plan = prepare_move(env.client, disk_id, options, facts=env.kw["facts"], journal=env.journal)
    return plan, run_move(env.client, plan, **env.kw, **kw)


def test_a_data_disk_moves_in_one_plan_and_both_halves_are_journaled(make_env: EnvFactory) -> None:
    env = make_env(demo())
    plan, result = move(env, "d-web-01-data", MoveOptions("i-web-02"))
    assert plan.plan.calls == ("DetachDisk", "AttachDisk") and plan.plan.action == "move"
    assert result.outcome is Outcome.DONE, result.message
    assert result.message == "Disk d-web-01-data moved from i-web-01 to i-web-02: it is In_use there."
    disk = env.disk("d-web-01-data")
    assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-web-02")
    assert sent(env) == ["DetachDisk", "AttachDisk"]
    ops = [(i.action, i.instance_id, o.result if o else None) for i, o in env.journal.operations()]
    assert ops == [("DetachDisk", "i-web-01", Result.OK), ("AttachDisk", "i-web-02", Result.OK)]
    attach = env.journal.operations()[1][0]
    assert attach.context["move_from"] == "i-web-01"


def test_a_zone_mismatch_is_refused_before_anything_is_sent(make_env: EnvFactory) -> None:
    env = make_env(demo())
    plan, result = move(env, "d-web-01-data", MoveOptions("i-db-primary"))
    assert not plan.executable and "ResourcesNotInSameZone" in plan.refusal
    (zone,) = [c for c in plan.checks if c.name == "same-zone"]
    assert zone.status is CheckStatus.FAIL
    assert result.outcome is Outcome.BLOCKED and result.exit_code == 3
    assert sent(env) == [] and env.journal.operations() == []


def test_target_locks_category_and_system_disk_rules_refuse_first(make_env: EnvFactory) -> None:
    env = make_env(demo(UnsupportedDiskCategories={"ecs.t5-lc1m1.small": ["cloud_essd"]}))
    facts = env.kw["facts"]
    locked = prepare_move(env.client, "d-web-01-data", MoveOptions("i-jump-01"), facts=facts)
    assert "InstanceLockedForSecurity" in locked.refusal
    category = prepare_move(env.client, "d-web-01-data", MoveOptions("i-tiny-01"), facts=facts)
    assert "InvalidInstanceType.NotSupportDiskCategory" in category.refusal
    bootable = MoveOptions("i-web-02", allow_stop_source=True, bootable=True, credential="password")
    system = prepare_move(env.client, "d-web-01-sys", bootable, facts=facts)
    assert "InvalidInstance.NotOriginInstance" in system.refusal
    no_credentials = MoveOptions("i-web-02", allow_stop_source=True, bootable=True, stop_target=True)
    assert "Instance" in prepare_move(env.client, "d-web-01-sys", no_credentials, facts=facts).refusal
    assert sent(env) == []


def test_a_system_disk_moves_as_a_data_disk_with_the_source_stopped(make_env: EnvFactory) -> None:
    env = make_env(demo())
    refused = prepare_move(env.client, "d-web-01-sys", MoveOptions("i-web-02"), facts=env.kw["facts"])
    assert not refused.executable and "--stop-instance" in refused.refusal
    _, result = move(env, "d-web-01-sys", MoveOptions("i-web-02", allow_stop_source=True))
    assert result.outcome is Outcome.DONE, result.message
    assert sent(env) == ["StopInstance", "DetachDisk", "AttachDisk"]
    disk = env.disk("d-web-01-sys")
    assert (disk["Status"], disk["InstanceId"], disk["Device"]) == ("In_use", "i-web-02", "/dev/xvdc")
    assert env.instance("i-web-01")["Status"] == "Stopped"


def test_a_failure_between_the_halves_leaves_the_disk_available_and_says_so(make_env: EnvFactory) -> None:
    # The API refuses the attach for a reason the facts did not know (the knob is the emulator's only).
    env = make_env(demo(UnsupportedDiskCategories={"ecs.g7.large": ["cloud_essd"]}))
    plan = prepare_move(env.client, "d-web-01-data", MoveOptions("i-web-02"), facts=None)
    assert plan.executable
    result = run_move(env.client, plan, journal=env.journal, clock=env.emu.now, sleep=env.emu.advance)
    assert result.outcome is Outcome.FAILED and result.exit_code == 1
    assert "InvalidInstanceType.NotSupportDiskCategory" in result.message
    assert "Available, attached nowhere (not lost, not attached twice)" in result.message
    assert "ecs-detach attach d-web-01-data --instance i-web-01" in result.remedy
    disk = env.disk("d-web-01-data")
    assert (disk["Status"], disk["InstanceId"]) == ("Available", "")


def test_a_move_stopped_between_the_halves_is_finished_by_preparing_it_again(make_env: EnvFactory) -> None:
    env = make_env(demo())
    first = prepare_move(env.client, "d-web-01-data", MoveOptions("i-web-02"), facts=env.kw["facts"])
    from ecs_detach.workflow import run

    assert run(env.client, first.detach, **env.kw).outcome is Outcome.DONE  # the first half only
    again, result = move(env, "d-web-01-data", MoveOptions("i-web-02"))
    assert again.plan.calls == ("AttachDisk",)
    assert any("only the attach" in warning for warning in again.plan.warnings)
    assert result.outcome is Outcome.DONE, result.message
    assert sent(env) == ["DetachDisk", "AttachDisk"]  # never detached twice, attached once
    assert env.disk("d-web-01-data")["InstanceId"] == "i-web-02"


def test_undo_moves_it_back(make_env: EnvFactory) -> None:
    env = make_env(demo())
    move(env, "d-web-01-data", MoveOptions("i-web-02"))
    attach = next(i for i, _ in env.journal.operations() if i.action == "AttachDisk")
    back = prepare_move_back(env.client, attach, facts=env.kw["facts"], journal=env.journal)
    assert (back.source_instance_id, back.target_instance_id) == ("i-web-02", "i-web-01")
    result = run_move(env.client, back, **env.kw)
    assert result.outcome is Outcome.DONE, result.message
    disk = env.disk("d-web-01-data")
    assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-web-01")


def test_snapshot_first_then_move(make_env: EnvFactory) -> None:
    env = make_env(demo())
    plan, result = move(env, "d-web-01-data", MoveOptions("i-web-02", snapshot=True))
    assert plan.plan.calls == ("CreateSnapshot", "DetachDisk", "AttachDisk")
    assert result.outcome is Outcome.DONE and result.snapshot_id.startswith("s-")
    assert sent(env) == ["CreateSnapshot", "DetachDisk", "AttachDisk"]
