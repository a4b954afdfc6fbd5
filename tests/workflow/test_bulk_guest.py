"""Bulk runs read the guests (issue 15): each instance's guest probed once for all of its disks, several
instances at once; a disk mounted there is refused (nothing sent for it) unless `unmount`, which releases it
first, as one disk's run does."""

from __future__ import annotations

import threading
from typing import Any

from ecs_detach import workflow
from ecs_detach.guest import GuestState
from ecs_detach.plan import StepKind
from ecs_detach.preconditions import DetachOptions, RowStatus
from ecs_detach.workflow import GuestTime, Outcome

from .conftest import Env, EnvFactory

GUEST = DetachOptions(guest_check=True)
UNMOUNT = DetachOptions(guest_check=True, unmount=True)
SKIP = DetachOptions(guest_check=True, skip_guest_check=True)
PROBE = "# ecs-detach guest probe (read-only): block devices"


def fleet(instances: int = 2, guests: dict[str, Any] | None = None) -> dict[str, Any]:
    """i-0: d-0-data mounted at /data (an fstab line), d-0-logs not mounted; i-1..: one data disk each."""
    ids = [f"i-{n}" for n in range(instances)]
    disks = [{"DiskId": f"d-{n}-data", "InstanceId": i, "Type": "data"} for n, i in enumerate(ids)]
    disks.append({"DiskId": "d-0-logs", "InstanceId": "i-0", "Type": "data"})
    mounted = {"Mounts": [{"DiskId": "d-0-data", "MountPoint": "/data", "Fstab": True}]}
    return {
        "Instances": [{"InstanceId": i, "Status": "Running"} for i in ids],
        "Disks": disks,
        "Emulator": {"Guests": {"i-0": mounted, **(guests or {})}},
    }


def plans_for(env: Env, disk_ids: list[str], options: DetachOptions = GUEST) -> list[workflow.Plan]:
    return workflow.prepare_bulk(
        env.client,
        [workflow.BulkItem(disk_id, options) for disk_id in disk_ids],
        facts=workflow.emulator_facts(env.emu),
        journal=env.journal,
        guest_time=GuestTime(sleep=env.emu.advance, clock=env.emu.now),
    )


def run(env: Env, plans: list[workflow.Plan]) -> workflow.BulkReport:
    return workflow.run_bulk(env.client, plans, **env.kw)


def probes(env: Env) -> list[str]:
    """The instance of each probe RunCommand (the disk-independent one, not the holders' or a fix)."""
    return [
        r["params"]["InstanceId.1"]
        for r in env.emu.requests
        if r["action"] == "RunCommand" and r["params"].get("CommandContent", "").startswith(PROBE)
    ]


def detached(env: Env) -> list[str]:
    return [r["params"]["DiskId"] for r in env.calls("DetachDisk")]


def mounted(env: Env, disk_id: str) -> bool:
    mounts = env.emu.state()["Emulator"]["Guests"]["i-0"]["Mounts"]
    return any(m["DiskId"] == disk_id and m["Mounted"] for m in mounts)


def test_a_mounted_disk_is_refused_and_nothing_is_sent_for_it_while_the_others_go_on(
    make_env: EnvFactory,
) -> None:
    env = make_env(fleet())
    plans = plans_for(env, ["d-0-data", "d-1-data"])
    refused, ready = plans
    assert not refused.executable and "--unmount" in refused.refusal
    assert refused.preconditions is not None and refused.preconditions.row(23).status is RowStatus.FIXABLE
    assert ready.executable and ready.preconditions is not None
    assert ready.preconditions.guest is not None and ready.preconditions.guest.state is GuestState.READ
    report = run(env, plans)
    assert [r.outcome for r in report.results] == [Outcome.BLOCKED, Outcome.DONE]
    assert report.exit_code == 3
    assert detached(env) == ["d-1-data"]
    assert mounted(env, "d-0-data")
    assert env.emu.state()["Emulator"]["Guests"]["i-0"]["Hazards"] == []


def test_each_instance_is_probed_once_whatever_the_number_of_its_disks(make_env: EnvFactory) -> None:
    env = make_env(fleet())
    plans = plans_for(env, ["d-0-data", "d-0-logs", "d-1-data"])
    assert sorted(probes(env)) == ["i-0", "i-1"]
    data, logs, _ = plans
    assert data.preconditions is not None and data.preconditions.row(23).status is RowStatus.FIXABLE
    assert logs.executable and logs.preconditions is not None
    assert logs.preconditions.row(23).status is RowStatus.PASS  # the same probe's output, read for this disk


def test_the_guests_of_several_instances_are_read_at_once(make_env: EnvFactory) -> None:
    env = make_env(fleet(instances=4))
    waiting: set[str] = set()
    lock = threading.Lock()
    all_waiting = threading.Event()

    def sleep(seconds: float) -> None:
        # The first wait of each probe holds until all four probes wait together: one after another, they
        # never would (the guard's timeout only ends a failing run).
        with lock:
            waiting.add(threading.current_thread().name)
            if len(waiting) == 4:
                all_waiting.set()
        all_waiting.wait(timeout=30)
        env.emu.advance(seconds)

    items = [workflow.BulkItem(f"d-{n}-data", GUEST) for n in range(1, 4)] + [
        workflow.BulkItem("d-0-logs", GUEST)
    ]
    plans = workflow.prepare_bulk(env.client, items, guest_time=GuestTime(sleep=sleep, clock=env.emu.now))
    assert all_waiting.is_set()
    assert sorted(probes(env)) == ["i-0", "i-1", "i-2", "i-3"]
    assert all(p.executable for p in plans)


def test_unmount_releases_the_disk_in_the_guest_before_its_detach(make_env: EnvFactory) -> None:
    env = make_env(fleet())
    plans = plans_for(env, ["d-0-data", "d-1-data"], UNMOUNT)
    assert all(p.executable for p in plans)
    assert plans[0].has_step(StepKind.GUEST_UNMOUNT) and not plans[1].has_step(StepKind.GUEST_UNMOUNT)
    report = run(env, plans)
    assert report.ok and report.exit_code == 0, report.summary()
    order = [
        r["action"] if r["action"] == "RunCommand" else r["params"]["DiskId"]
        for r in env.emu.requests
        if r["action"] == "DetachDisk"
        or (r["action"] == "RunCommand" and "umount /data" in r["params"].get("CommandContent", ""))
    ]
    assert order.index("RunCommand") < order.index("d-0-data")
    assert not mounted(env, "d-0-data")
    assert env.emu.state()["Emulator"]["Guests"]["i-0"]["Hazards"] == []
    journaled = [
        i.action for i, _ in env.journal.operations() if "d-0-data" in (i.disk_id, i.context.get("disk_id"))
    ]
    assert journaled == ["RunCommand", "DetachDisk"]


def test_an_instance_without_the_agent_is_unknown_and_goes_on_with_a_warning(make_env: EnvFactory) -> None:
    env = make_env(fleet(guests={"i-1": {"Agent": "absent"}}))
    (plan,) = plans_for(env, ["d-1-data"])
    assert plan.executable and plan.preconditions is not None
    row = plan.preconditions.row(22)
    assert row.status is RowStatus.UNKNOWN and "not installed" in row.sentence
    assert "lsblk" in row.remedy  # the commands to run by hand
    assert any("could not be read" in w for w in plan.warnings)
    assert probes(env) == []


def test_skipping_the_guest_check_reads_no_guest_warns_and_journals_it(make_env: EnvFactory) -> None:
    env = make_env(fleet())
    plans = plans_for(env, ["d-0-data", "d-1-data"], SKIP)
    assert [r for r in env.emu.requests if r["action"] == "RunCommand"] == []
    assert all(p.executable and any("--skip-guest-check" in w for w in p.warnings) for p in plans)
    report = run(env, plans)
    assert report.ok, report.summary()
    contexts = [i.context["guest_check"] for i, _ in env.journal.operations() if i.action == "DetachDisk"]
    assert contexts == ["skipped", "skipped"]
    assert mounted(env, "d-0-data") is False  # detached while mounted: the hazard the check would have seen
    assert env.emu.state()["Emulator"]["Guests"]["i-0"]["Hazards"] != []
