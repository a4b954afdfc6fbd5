"""Bulk detach: per-disk preconditions, bounded concurrency, throttling, a partial-failure report."""

from __future__ import annotations

from typing import Any

from ecs_detach import workflow
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import BulkItem, Outcome

from .conftest import EnvFactory, web_fleet


def _fleet() -> dict[str, Any]:
    instances = [
        {"InstanceId": "i-a", "Status": "Running"},
        {"InstanceId": "i-b", "Status": "Running", "InstanceType": "ecs.nohot"},
        {"InstanceId": "i-locked", "Status": "Running", "OperationLocks": {"LockReason": ["security"]}},
    ]
    disks = [
        {"DiskId": "d-a-1", "InstanceId": "i-a", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-a-2", "InstanceId": "i-a", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-b-1", "InstanceId": "i-b", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-b-2", "InstanceId": "i-b", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-locked", "InstanceId": "i-locked", "Type": "data", "Status": "In_use"},
        {"DiskId": "d-local", "InstanceId": "i-a", "Type": "data", "Status": "In_use", "Portable": False},
    ]
    disks += [
        {
            "DiskId": f"d-{i['InstanceId']}-sys",
            "InstanceId": i["InstanceId"],
            "Type": "system",
            "Status": "In_use",
        }
        for i in instances
    ]
    return {"Instances": instances, "Disks": disks, "Emulator": {"NoHotDetachInstanceTypes": ["ecs.nohot"]}}


def test_one_disk_failing_never_stops_or_hides_the_others(make_env: EnvFactory) -> None:
    env = make_env(_fleet())
    options = DetachOptions(allow_stop=True, restart=True)
    items = [
        BulkItem(d, options) for d in ("d-a-1", "d-locked", "d-b-1", "d-local", "d-b-2", "d-a-2", "d-gone")
    ]
    plans = workflow.prepare_bulk(env.client, items, facts=env.kw["facts"])
    assert [p.executable for p in plans] == [True, False, True, False, True, True, False]
    report = workflow.run_bulk(env.client, plans, concurrency=3, **env.kw)
    outcomes = {r.disk_id: r.outcome for r in report.results}
    assert outcomes == {
        "d-a-1": Outcome.DONE,
        "d-locked": Outcome.BLOCKED,
        "d-b-1": Outcome.DONE,
        "d-local": Outcome.BLOCKED,
        "d-b-2": Outcome.DONE,
        "d-a-2": Outcome.DONE,
        "d-gone": Outcome.BLOCKED,
    }
    assert [r.disk_id for r in report.results] == [i.disk_id for i in items]  # the order given
    assert len(report.succeeded) == 4 and len(report.failed) == 3
    assert not report.ok and report.exit_code == 3
    summary = report.summary()
    assert "4 of 7 disk(s) done" in summary and "locked for security" in summary and "not portable" in summary
    for disk_id in ("d-a-1", "d-a-2", "d-b-1", "d-b-2"):
        assert env.disk(disk_id)["Status"] == "Available"
    # i-b cannot hot-detach: stopped once for both its disks, started once after the last of them.
    actions = [(c["action"], c["params"].get("InstanceId")) for c in env.calls()]
    assert actions.count(("StopInstance", "i-b")) == 1
    assert actions.count(("StartInstance", "i-b")) == 1
    assert env.instance("i-b")["Status"] == "Running"
    assert not any(a == ("StopInstance", "i-a") for a in actions)
    assert all(c["params"].get("InstanceId") != "i-locked" for c in env.calls())


def test_throttling_is_backed_off_and_every_disk_detaches_once(make_env: EnvFactory) -> None:
    env = make_env(_fleet())
    env.emu.set_faults(rate=0.75, kinds=["throttling"], actions=["DetachDisk"], seed=11)
    plans = workflow.prepare_bulk(env.client, ["d-a-1", "d-a-2"], facts=env.kw["facts"])
    report = workflow.run_bulk(env.client, plans, concurrency=1, **env.kw)
    assert report.ok, report.summary()
    applied = [c for c in env.calls("DetachDisk") if c["status"] == 200 and not c.get("fault")]
    assert sorted(c["params"]["DiskId"] for c in applied) == ["d-a-1", "d-a-2"]
    assert len(env.calls("DetachDisk")) > 2  # some were throttled and sent again
    assert any("throttled" in e.message for e in env.events if e.phase == "throttled")
    assert report.to_dict()["succeeded"] == 2


def test_an_instance_whose_system_disk_the_group_detached_is_never_started(make_env: EnvFactory) -> None:
    env = make_env(web_fleet(NoHotDetachInstanceTypes=["ecs.g7.large"]))
    options = DetachOptions(allow_stop=True, restart=True, delete_with_instance=False)
    plans = workflow.prepare_bulk(
        env.client, [BulkItem(d, options) for d in ("d-web-sys", "d-web-data")], facts=env.kw["facts"]
    )
    assert plans[1].has_step(StepKind.START_INSTANCE)  # the data disk's own plan would start it again
    report = workflow.run_bulk(env.client, plans, **env.kw)
    assert report.ok and report.exit_code == 0, report.summary()
    last = report.results[-1]
    assert "Not starting instance i-web" in last.message and "left Stopped" in last.message, last.message
    assert last.stopped_instance
    assert env.instance("i-web")["Status"] == "Stopped"
    assert [c["action"] for c in env.calls()] == ["StopInstance", "DetachDisk", "DetachDisk"]  # no start
