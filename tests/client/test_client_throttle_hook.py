"""The client's ``on_throttled`` hook: callers see each Throttling reply the client absorbs by retrying."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ecs_detach.client import AsyncEcsClient, EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import ThrottledError
from ecs_detach.retry import RetryPolicy


class Seen(list[tuple[str, float]]):
    """Records (action, delay) from the hook, from any thread."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __call__(self, action: str, delay: float) -> None:
        with self._lock:
            self.append((action, delay))


def _throttled(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests if r["code"].startswith("Throttling")]


def test_each_retried_throttling_reply_is_reported_with_its_delay(emulator: Emulator, sleeps: Any) -> None:
    emulator.set_faults(
        rate=1.0, kinds=["throttling_retry_after"], actions=["DetachDisk"], retry_after_ms=250
    )
    seen = Seen()
    policy = RetryPolicy(max_attempts=3)
    with EcsClient.for_emulator(emulator, sleep=sleeps.append, retry=policy, on_throttled=seen) as client:
        assert client.on_throttled is seen
        with pytest.raises(ThrottledError):
            client.detach_disk("d-web-01-data", "i-web-01")
    # Three refusals: the first two were retried (and reported, with the delay slept), the last raised.
    assert len(_throttled(emulator)) == 3
    assert seen == [("DetachDisk", 0.25), ("DetachDisk", 0.25)] and sleeps == [0.25, 0.25]


def test_other_retried_failures_are_not_reported(emulator: Emulator, sleeps: Any) -> None:
    emulator.set_faults(rate=0.5, kinds=["service_unavailable"], actions=["DescribeDisks"], seed=3)
    seen = Seen()
    policy = RetryPolicy(max_attempts=8, seed=1)
    with EcsClient.for_emulator(emulator, sleep=sleeps.append, retry=policy, on_throttled=seen) as client:
        assert client.list_disks(instance_id="i-web-01")
    assert sleeps and seen == []  # retried, but nothing was throttled


@pytest.mark.anyio
async def test_the_async_client_reports_retried_throttling_too(emulator: Emulator, sleeps: Any) -> None:
    emulator.set_faults(
        rate=1.0, kinds=["throttling_retry_after"], actions=["DetachDisk"], retry_after_ms=400
    )
    seen = Seen()
    policy = RetryPolicy(max_attempts=2)
    async with AsyncEcsClient.for_emulator(
        emulator, sleep=sleeps.asleep, retry=policy, on_throttled=seen
    ) as client:
        with pytest.raises(ThrottledError):
            await client.detach_disk("d-web-01-data", "i-web-01")
    assert seen == [("DetachDisk", 0.4)] and sleeps == [0.4]


def _rate_limited() -> Emulator:
    """One DetachDisk per 10 s: a second detach is throttled until the window passes, in virtual time."""
    fleet = {
        "Regions": [{"RegionId": "cn-hangzhou"}, {"RegionId": "cn-shanghai"}],
        "Instances": [{"InstanceId": "i-1", "Status": "Running", "RegionId": "cn-hangzhou"}],
        "Disks": [
            {"DiskId": f"d-{n}", "Status": "In_use", "InstanceId": "i-1", "RegionId": "cn-hangzhou"}
            for n in range(2)
        ],
        "Emulator": {"RateLimits": {"DetachDisk": {"Count": 1, "PerSeconds": 10}}},
    }
    return Emulator(fleet=fleet, clock=ManualClock())


def test_an_absorbed_throttle_is_reported_and_the_call_still_succeeds() -> None:
    emulator = _rate_limited()
    seen = Seen()
    policy = RetryPolicy(max_attempts=8, base_delay=2.0, seed=1)
    with EcsClient.for_emulator(emulator, retry=policy, sleep=emulator.advance, on_throttled=seen) as client:
        assert client.detach_disk("d-0", "i-1")
        assert client.detach_disk("d-1", "i-1")  # throttled on the way, absorbed by the retries
    throttled = _throttled(emulator)
    assert len(seen) == len(throttled) >= 1 and {action for action, _ in seen} == {"DetachDisk"}


def test_a_failing_observer_never_fails_the_call() -> None:
    emulator = _rate_limited()

    def broken(action: str, delay: float) -> None:
        raise RuntimeError("observer bug")

    policy = RetryPolicy(max_attempts=8, base_delay=2.0, seed=1)
    with EcsClient.for_emulator(
        emulator, retry=policy, sleep=emulator.advance, on_throttled=broken
    ) as client:
        assert client.detach_disk("d-0", "i-1")
        assert client.detach_disk("d-1", "i-1")
    assert _throttled(emulator)


def test_siblings_keep_the_hook_and_observers_add_up(emulator: Emulator, sleeps: Any) -> None:
    first, second = Seen(), Seen()
    with EcsClient.for_emulator(emulator, sleep=sleeps.append, on_throttled=first) as client:
        assert client.with_region("cn-shanghai").on_throttled is first
        assert client.with_read_only(True).on_throttled is first
        both = client.observing_throttles(second)
        assert client.on_throttled is first  # the original is unchanged
        assert both.region_id == client.region_id and both.endpoint == client.endpoint
        emulator.set_faults(
            rate=1.0, kinds=["throttling_retry_after"], actions=["DetachDisk"], retry_after_ms=100
        )
        with pytest.raises(ThrottledError):
            both.detach_disk("d-web-01-data", "i-web-01")
    assert first == second == [("DetachDisk", 0.1)] * 3  # the default policy: 4 attempts, 3 retries
    with EcsClient.for_emulator(emulator, sleep=sleeps.append) as plain:
        assert plain.on_throttled is None
        assert plain.observing_throttles(first).on_throttled is first
