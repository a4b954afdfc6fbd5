"""The bulk runner's adaptive pace hears of each Throttling reply the client absorbs (the client's
``on_throttled`` hook), so it slows down at the first refusal and no Throttling reaches the user.
On the emulator, on a manual clock."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ecs_detach import workflow
from ecs_detach.bulk import _Pacer
from ecs_detach.client import EcsClient
from ecs_detach.preconditions import facts_from_fleet
from ecs_detach.retry import RetryPolicy

from .conftest import Env, EnvFactory


def _many_instances(count: int, **emulator: Any) -> dict[str, Any]:
    """`count` Running instances, each with a system disk and one data disk."""
    instances = [{"InstanceId": f"i-{n:03d}", "Status": "Running"} for n in range(count)]
    disks = [
        {"DiskId": f"d-{n:03d}{kind}", "InstanceId": f"i-{n:03d}", "Type": t, "Status": "In_use"}
        for n in range(count)
        for kind, t in (("-sys", "system"), ("", "data"))
    ]
    return {"Instances": instances, "Disks": disks, "Emulator": emulator}


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_absorbed_detach_throttle_slows_the_adaptive_pace_once_a_second() -> None:
    clock = _Clock()
    pacer = _Pacer(clock, None)
    start = pacer.rate
    pacer.absorbed("DescribeDisks", 0.5)  # other actions are not DetachDisk's limit
    assert pacer.rate == start
    pacer.absorbed("DetachDisk", 0.5)
    slowed = pacer.rate
    assert slowed <= 0.75 * start
    pacer.absorbed("DetachDisk", 0.5)  # the same burst's refusals: one cut
    assert pacer.rate == slowed
    clock.now += 1.0
    pacer.absorbed("DetachDisk", 0.5)
    assert pacer.rate < slowed


def test_a_throttle_near_the_limit_paces_at_nine_tenths_of_what_was_accepted() -> None:
    clock = _Clock()
    pacer = _Pacer(clock, None)
    for _ in range(100):  # 100 DetachDisk answered over the last second, each quickly
        clock.now += 0.01
        pacer.accepted(0.05)
    before = pacer.rate
    assert before > 90.0  # grown from 50 while the API kept up
    pacer.absorbed("DetachDisk", 0.5)
    assert pacer.rate == pytest.approx(90.0)  # 90 % of the 100 accepted, not a blind quarter off the pace
    clock.now += 1.0
    pacer.accepted(0.05)
    assert pacer.rate < 90.0 * 1.06  # and from now on it grows slowly


def test_a_known_limit_is_not_moved_by_absorbed_throttles() -> None:
    pacer = _Pacer(_Clock(), 10.0)
    pacer.absorbed("DetachDisk", 0.5)
    assert pacer.rate == 9.0  # 90 % of the known limit, as before


def _run(env: Env, disk_ids: list[str], client: EcsClient, **kw: Any) -> workflow.BulkReport:
    facts = facts_from_fleet(env.emu.state())  # fixed facts: they do not tell the rate limit
    plans = workflow.prepare_bulk(client, disk_ids, facts=facts)
    env.emu.gateway.clear_log()
    return workflow.run_bulk(client, plans, **{**env.kw, "facts": facts, **kw})


def test_an_unknown_limit_is_found_from_absorbed_throttles_and_never_shown(make_env: EnvFactory) -> None:
    env = make_env(
        _many_instances(
            150, RateLimits={"DetachDisk": {"Count": 60, "PerSeconds": 1}}, Durations={"DetachDisk": 0}
        )
    )
    seen: list[tuple[str, float]] = []
    lock = threading.Lock()

    def observe(action: str, delay: float) -> None:
        with lock:
            seen.append((action, delay))

    client = EcsClient.for_emulator(
        env.emu, sleep=env.emu.advance, retry=RetryPolicy(seed=1), on_throttled=observe
    )
    disks = [f"d-{n:03d}" for n in range(150)]
    with client:
        report = _run(env, disks, client, concurrency=16)
    assert report.ok, report.summary()
    log = env.emu.requests
    applied = [c["params"]["DiskId"] for c in log if c["action"] == "DetachDisk" and c["status"] == 200]
    assert sorted(applied) == disks  # each applied once
    refused = [c for c in log if c["action"] == "DetachDisk" and c["code"].startswith("Throttling")]
    # The pace starts at 50 a second and grows, so the limit is usually met (how often depends on how the
    # workers' threads interleave): each refusal was absorbed by the client's retries (its own observer heard
    # of every one, beside the pacer's), and none reached the user: no result code, no "throttled" event.
    assert len([s for s in seen if s[0] == "DetachDisk"]) == len(refused)
    assert not [r for r in report.results if "throttl" in r.code.lower()]
    assert not [e for e in env.events if e.phase == "throttled"]
