"""Bulk detach at scale: DetachDisk paced to the API's limit, fresh reads batched, detaching disks polled
together (first at the expected detach time). Asserted on the emulator's request log, on a manual clock."""

from __future__ import annotations

import json
import threading
from typing import Any

from ecs_detach import workflow
from ecs_detach.bulk import _Bulk
from ecs_detach.client import EcsClient
from ecs_detach.preconditions import facts_from_fleet
from ecs_detach.workflow import CancelToken, Outcome

from .conftest import Env, EnvFactory


def _one_instance(disks: int, **emulator: Any) -> dict[str, Any]:
    """One Running instance with a system disk and `disks` data disks (a bulk run serializes them)."""
    fleet: dict[str, Any] = {
        "Instances": [{"InstanceId": "i-a", "Status": "Running"}],
        "Disks": [{"DiskId": "d-a-sys", "InstanceId": "i-a", "Type": "system", "Status": "In_use"}]
        + [
            {"DiskId": f"d-a-{n:02d}", "InstanceId": "i-a", "Type": "data", "Status": "In_use"}
            for n in range(disks)
        ],
        "Emulator": {"MaxDetachingDisksPerInstance": 100, **emulator},
    }
    return fleet


def _many_instances(count: int, **emulator: Any) -> dict[str, Any]:
    """`count` Running instances, each with a system disk and one data disk."""
    instances = [{"InstanceId": f"i-{n:03d}", "Status": "Running"} for n in range(count)]
    disks = [
        {"DiskId": f"d-{n:03d}{kind}", "InstanceId": f"i-{n:03d}", "Type": t, "Status": "In_use"}
        for n in range(count)
        for kind, t in (("-sys", "system"), ("", "data"))
    ]
    return {"Instances": instances, "Disks": disks, "Emulator": emulator}


def _disk_ids(call: dict[str, Any]) -> list[str]:
    ids: list[str] = json.loads(call["params"].get("DiskIds", "[]"))
    return ids


def _run(env: Env, disk_ids: list[str], **kw: Any) -> workflow.BulkReport:
    plans = workflow.prepare_bulk(env.client, disk_ids, facts=env.kw["facts"])
    env.emu.gateway.clear_log()
    return workflow.run_bulk(env.client, plans, **{**env.kw, **kw})


def test_detach_is_paced_to_a_known_limit_so_the_api_never_throttles(make_env: EnvFactory) -> None:
    # 2 DetachDisk a second, detaches that finish at once: unpaced, the calls would go back to back.
    env = make_env(
        _one_instance(
            10, RateLimits={"DetachDisk": {"Count": 2, "PerSeconds": 1}}, Durations={"DetachDisk": 0}
        )
    )
    disks = [f"d-a-{n:02d}" for n in range(10)]
    report = _run(env, disks)
    assert report.ok, report.summary()
    log = env.emu.requests
    assert [c["code"] for c in log if c["code"]] == []  # no Throttling, nor anything else
    detaches = [c for c in log if c["action"] == "DetachDisk"]
    assert sorted(c["params"]["DiskId"] for c in detaches) == disks  # each once
    assert not [e for e in env.events if e.phase == "throttled"]
    # Order, per disk: a fresh read that names it, then its DetachDisk, then a poll that names it.
    for call in detaches:
        disk_id = call["params"]["DiskId"]
        reads = [c["seq"] for c in log if c["action"] == "DescribeDisks" and disk_id in _disk_ids(c)]
        assert len(reads) == 2 and reads[0] < call["seq"] < reads[1], (disk_id, reads, call["seq"])


def test_an_unknown_limit_is_found_without_failing_a_disk(make_env: EnvFactory) -> None:
    env = make_env(
        _one_instance(
            12, RateLimits={"DetachDisk": {"Count": 2, "PerSeconds": 1}}, Durations={"DetachDisk": 0}
        )
    )
    disks = [f"d-a-{n:02d}" for n in range(12)]
    facts = facts_from_fleet(env.emu.state())  # fixed facts: they do not tell the rate limit
    report = _run(env, disks, facts=facts)
    assert report.ok, report.summary()
    log = env.emu.requests
    applied = [c["params"]["DiskId"] for c in log if c["action"] == "DetachDisk" and c["status"] == 200]
    assert sorted(applied) == disks  # each applied once, whatever was throttled on the way
    assert not [r for r in report.results if "throttl" in r.code.lower()]
    assert len([e for e in env.events if e.phase == "throttled"]) <= 1  # said once at most, never per disk


def test_a_detaching_disk_is_first_polled_at_its_expected_detach_time(make_env: EnvFactory) -> None:
    env = make_env(
        _many_instances(
            6, Durations={"DetachDisk": 30}, RateLimits={"DetachDisk": {"Count": 1000, "PerSeconds": 1}}
        )
    )
    disks = [f"d-{n:03d}" for n in range(6)]
    report = _run(env, disks, concurrency=6)
    assert report.ok and [r.outcome for r in report.results] == [Outcome.DONE] * 6, report.summary()
    log = env.emu.requests
    for disk_id in disks:
        detach = next(c for c in log if c["action"] == "DetachDisk" and c["params"]["DiskId"] == disk_id)
        named = [c["seq"] for c in log if c["action"] == "DescribeDisks" and disk_id in _disk_ids(c)]
        # One fresh read before the call, one poll after it: the first poll, at the expected time, found it
        # detached (an earlier poll would have found it Detaching and needed another).
        assert len(named) == 2 and named[0] < detach["seq"] < named[1], (disk_id, named)
    assert len([c for c in log if c["action"] == "DescribeInstances"]) <= 6
    waits = [e for e in env.events if e.phase == "wait-disk-detached"]
    assert [e.state for e in waits] == ["Available"] * 6


def _bulk(env: Env, client: Any = None) -> Any:
    return _Bulk(  # the shared parts of a bulk run, driven directly to see the batches
        client or env.client,
        clock=env.emu.now,
        sleep=env.emu.advance,
        cancel=CancelToken(),
        rate=None,
        concurrency=4,
        on_progress=None,
    )


def test_detaching_disks_are_polled_in_batches_of_a_hundred(make_env: EnvFactory) -> None:
    env = make_env(_many_instances(150, Durations={"DetachDisk": 30}, RateLimits={"DetachDisk": None}))
    for n in range(150):
        env.client.detach_disk(f"d-{n:03d}", f"i-{n:03d}")
    env.emu.gateway.clear_log()
    bulk = _bulk(env)
    start = env.emu.now()
    watches = [bulk.poller.watch(f"d-{n:03d}", f"i-{n:03d}", 30.0, 300.0) for n in range(150)]
    bulk.poller.start()
    try:
        assert all(bulk.poller.next(w) for w in watches)
    finally:
        bulk.poller.stop()
    assert {w.state for w in watches} == {"Available"}
    polls = env.emu.requests
    assert [(c["action"], len(_disk_ids(c))) for c in polls] == [
        ("DescribeDisks", 100),
        ("DescribeDisks", 50),
    ]
    assert env.emu.now() - start == 30.0  # the first poll, at the expected detach time


class _GatedClient:
    """The client, with the first DescribeDisks held until the test lets it go."""

    def __init__(self, client: EcsClient) -> None:
        self._client = client
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def list_disks(self, **kw: Any) -> Any:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(10)
        return self._client.list_disks(**kw)


def test_fresh_reads_asked_for_together_go_in_one_call(make_env: EnvFactory) -> None:
    env = make_env(_many_instances(120))
    env.emu.gateway.clear_log()
    gated = _GatedClient(env.client)
    bulk = _bulk(env, gated)
    found: dict[str, str] = {}

    def read(n: int) -> None:
        disk, instance = bulk.reads.read(f"d-{n:03d}", f"i-{n:03d}")
        found[f"d-{n:03d}"] = f"{disk.status if disk else None}/{instance.status if instance else None}"

    first = threading.Thread(target=read, args=(0,))
    first.start()
    assert gated.entered.wait(10)  # the first read is in flight: the others queue for the next batch
    others = [threading.Thread(target=read, args=(n,)) for n in range(1, 120)]
    for thread in others:
        thread.start()
    while len(bulk.reads._pending) < 119:  # all asked for (a thread switch, not a timed wait)
        threading.Event().wait(0.001)
    gated.release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert set(found.values()) == {"In_use/Running"} and len(found) == 120
    log = env.emu.requests
    assert [(c["action"], len(_disk_ids(c))) for c in log if c["action"] == "DescribeDisks"] == [
        ("DescribeDisks", 1),
        ("DescribeDisks", 100),
        ("DescribeDisks", 19),
    ]
    assert len([c for c in log if c["action"] == "DescribeInstances"]) == 3
