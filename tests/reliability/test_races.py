"""Races: the world changes between plan and run, or under the run: noticed and reported, never acted on.

- two operators detach the same disk at once (two clients, two threads, two journals);
- a disk detached behind our back between plan and run, or while our run was stopping its instance;
- an instance locked for security between plan and run, or after our stop (state changed through the
  emulator's control API, ``POST /_emulator/reset`` with a modified state);
- an instance started between plan and run when the plan needed it Stopped.

The other operator signs with their own access key, so the emulator's request log tells whose call was whose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_detach import workflow
from ecs_detach.client import EcsClient
from ecs_detach.credentials import Credentials
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.journal import Journal
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions
from ecs_detach.workflow import Outcome, ProgressEvent, RunResult, emulator_facts

from .helpers import MUTATIONS, applied, applied_per, journal_problems

OTHER_KEY_ID = "OTHEROPERATOR01"  # masked in the log as OTHE****R01; ours is LTAI****Key
OTHER_SECRET = "other-operator-secret"
OURS = "LTAI****Key"


def fleet() -> dict[str, Any]:
    instances = [
        {"InstanceId": f"i-{n}", "Status": "Running", "InstanceType": "ecs.g7.large"} for n in range(8)
    ]
    instances.append({"InstanceId": "i-off", "Status": "Stopped", "InstanceType": "ecs.g7.large"})
    instances.append({"InstanceId": "i-nohot", "Status": "Stopped", "InstanceType": "ecs.nohot"})
    disks: list[dict[str, Any]] = []
    for instance in instances:
        iid = instance["InstanceId"]
        disks.append({"DiskId": f"d-{iid[2:]}-root", "InstanceId": iid, "Type": "system", "Status": "In_use"})
        disks.append({"DiskId": f"d-{iid[2:]}-data", "InstanceId": iid, "Type": "data", "Status": "In_use"})
    return {
        "Instances": instances,
        "Disks": disks,
        "Emulator": {
            "NoHotDetachInstanceTypes": ["ecs.nohot"],
            "AccessKeys": [{"AccessKeyId": OTHER_KEY_ID, "AccessKeySecret": OTHER_SECRET}],
        },
    }


class World:
    """The emulator, our client and journal, the other operator's client, and the control API."""

    def __init__(self, tmp: Path) -> None:
        self.emu = Emulator(fleet=fleet(), clock=ManualClock())
        self.ours = EcsClient.for_emulator(self.emu, sleep=self.emu.advance)
        self.theirs = EcsClient(
            Credentials(OTHER_KEY_ID, OTHER_SECRET),
            "cn-hangzhou",
            transport=self.emu.transport(),
            sleep=self.advance,
            profile_name="other",
        )
        self.control = httpx.Client(transport=self.emu.transport(), base_url="http://emulator")
        self.journal = Journal(tmp / "ours.jsonl", clock=self.emu.now)
        self.their_journal = Journal(tmp / "theirs.jsonl", clock=self.emu.now)
        self.facts = emulator_facts(self.emu)
        self.events: list[ProgressEvent] = []

    def advance(self, seconds: float) -> None:
        self.emu.advance(seconds)

    def kw(self, journal: Journal | None = None, hook: Callable[[ProgressEvent], None] | None = None) -> Any:
        def progress(event: ProgressEvent) -> None:
            self.events.append(event)
            if hook is not None:
                hook(event)

        return {
            "journal": journal or self.journal,
            "facts": self.facts,
            "clock": self.emu.now,
            "sleep": self.emu.advance,
            "on_progress": progress,
        }

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the live state the way an outside event would: through the control API's reset."""
        state = self.control.get("/_emulator/state").json()
        change(state)
        self.control.post("/_emulator/reset", json=state).raise_for_status()

    def lock(self, instance_id: str) -> None:
        def change(state: dict[str, Any]) -> None:
            instance = next(i for i in state["Instances"] if i["InstanceId"] == instance_id)
            instance["OperationLocks"] = {"LockReason": [{"LockReason": "security"}]}

        self.edit(change)

    def mine(self, action: str | None = None) -> list[dict[str, Any]]:
        """Our mutating calls the emulator received."""
        wanted = (action,) if action else MUTATIONS
        return [r for r in self.emu.requests if r["action"] in wanted and r["access_key_id"] == OURS]

    def disk(self, disk_id: str) -> dict[str, Any]:
        return next(d for d in self.emu.state()["Disks"] if d["DiskId"] == disk_id)

    def instance(self, instance_id: str) -> dict[str, Any]:
        return next(i for i in self.emu.state()["Instances"] if i["InstanceId"] == instance_id)

    def close(self) -> None:
        for client in (self.ours, self.theirs):
            client.close()
        self.control.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


# --- two operators, one disk -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(6))
@pytest.mark.parametrize("kind", ["data", "root"])
def test_two_operators_detaching_the_same_disk_at_once(world: World, kind: str, n: int) -> None:
    disk_id = f"d-{n}-{kind}"
    options = DetachOptions(allow_stop=True, restart=True)
    start = threading.Barrier(2)
    results: dict[str, RunResult] = {}

    def operator(name: str, client: EcsClient, journal: Journal) -> None:
        plan = workflow.prepare(client, disk_id, options, facts=world.facts)
        assert plan.executable
        start.wait(timeout=10)  # both have planned on the same state; now both go
        results[name] = workflow.run(client, plan, **world.kw(journal))

    threads = [
        threading.Thread(target=operator, args=("ours", world.ours, world.journal)),
        threading.Thread(target=operator, args=("theirs", world.theirs, world.their_journal)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(results) == {"ours", "theirs"}
    requests = world.emu.requests
    assert applied_per(requests, "DetachDisk", "DiskId") == {disk_id: 1}  # one detach, whoever won
    assert len(applied(requests, "StopInstance")) <= 1  # never stopped twice
    assert world.disk(disk_id)["Status"] == "Available"
    for result in results.values():
        # Both end well: one detached it, the other noticed it detaching or detached and followed it; or,
        # for a system disk, the loser saw the instance stopping under it and stopped without acting.
        assert result.outcome in (Outcome.DONE, Outcome.ALREADY_DETACHED, Outcome.ABORTED), result.message
        assert "Unexpected" not in result.message
    for journal in (world.journal, world.their_journal):
        assert all(outcome is not None for _, outcome in journal.operations())
    assert journal_problems(world.journal, [r for r in requests if r["access_key_id"] == OURS]) == []


# --- behind our back ----------------------------------------------------------------------------------------


def test_a_disk_detached_behind_our_back_between_plan_and_run(world: World) -> None:
    plan = workflow.prepare(world.ours, "d-0-data", DetachOptions(), facts=world.facts)
    assert plan.executable and plan.has_step(StepKind.DETACH_DISK)
    world.theirs.detach_disk("d-0-data", "i-0")
    world.emu.advance(61)
    result = workflow.run(world.ours, plan, **world.kw())
    assert result.outcome is Outcome.ALREADY_DETACHED and "already detached" in result.message.lower()
    assert world.mine() == []  # we sent nothing
    assert world.journal.records() == []


def test_a_disk_detached_behind_our_back_while_we_stop_its_instance(world: World) -> None:
    plan = workflow.prepare(world.ours, "d-1-root", DetachOptions(allow_stop=True), facts=world.facts)
    assert plan.has_step(StepKind.STOP_INSTANCE)
    done = threading.Event()

    def meddle(event: ProgressEvent) -> None:
        if (
            event.phase == StepKind.WAIT_INSTANCE_STOPPED.value
            and event.state == "Stopped"
            and not done.is_set()
        ):
            done.set()
            world.theirs.detach_disk("d-1-root", "i-1")
            world.emu.advance(61)

    result = workflow.run(world.ours, plan, **world.kw(hook=meddle))
    assert done.is_set()
    assert result.outcome is Outcome.ABORTED and result.exit_code == 3
    assert "behind our back" in result.message and "left Stopped" in result.message
    assert [r["action"] for r in world.mine()] == ["StopInstance"]  # no DetachDisk of ours
    assert result.stopped_instance and world.instance("i-1")["Status"] == "Stopped"


# --- locked for security --------------------------------------------------------------------------------


def test_an_instance_locked_for_security_between_plan_and_run(world: World) -> None:
    plan = workflow.prepare(world.ours, "d-2-data", DetachOptions(), facts=world.facts)
    assert plan.executable
    world.lock("i-2")  # a reset empties the request log: everything after it is the run's
    result = workflow.run(world.ours, plan, **world.kw())
    assert result.outcome is Outcome.BLOCKED and result.exit_code == 3
    assert result.code == "InstanceLockedForSecurity" and "security" in result.message.lower()
    assert world.mine() == [] and world.journal.records() == []
    assert world.disk("d-2-data")["Status"] == "In_use"


def test_an_instance_locked_for_security_after_our_stop(world: World) -> None:
    plan = workflow.prepare(world.ours, "d-3-root", DetachOptions(allow_stop=True), facts=world.facts)
    locked = threading.Event()

    def lock_it(event: ProgressEvent) -> None:
        if (
            event.phase == StepKind.WAIT_INSTANCE_STOPPED.value
            and event.state == "Stopped"
            and not locked.is_set()
        ):
            locked.set()
            world.lock("i-3")

    result = workflow.run(world.ours, plan, **world.kw(hook=lock_it))
    assert locked.is_set()
    assert result.outcome is Outcome.ABORTED and result.code == "InstanceLockedForSecurity"
    assert "security" in result.message.lower() and "left Stopped" in result.message
    assert world.mine("DetachDisk") == []
    assert world.disk("d-3-root")["Status"] == "In_use"
    assert all(outcome is not None for _, outcome in world.journal.operations())


# --- started between plan and run -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disk_id", "instance_id", "options"),
    [
        ("d-off-root", "i-off", DetachOptions()),  # a system disk needs it Stopped; the plan had no stop
        ("d-off-root", "i-off", DetachOptions(allow_stop=True)),  # stopping allowed, but not in the plan
        ("d-nohot-data", "i-nohot", DetachOptions(allow_stop=True, restart=True)),  # cannot hot-detach
    ],
)
def test_an_instance_started_between_plan_and_run(
    world: World, disk_id: str, instance_id: str, options: DetachOptions
) -> None:
    plan = workflow.prepare(world.ours, disk_id, options, facts=world.facts)
    assert plan.executable and not plan.has_step(StepKind.STOP_INSTANCE)  # it was Stopped: no stop planned
    world.theirs.start_instance(instance_id)
    world.emu.advance(30)
    assert world.instance(instance_id)["Status"] == "Running"
    result = workflow.run(world.ours, plan, **world.kw())
    assert result.outcome is Outcome.BLOCKED and result.exit_code == 3
    assert "did not include stopping it" in result.message, result.message
    assert world.mine() == []  # neither a stop nor a detach the operator did not confirm
    assert world.disk(disk_id)["Status"] == "In_use"
