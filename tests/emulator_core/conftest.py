"""Fixtures for the emulator core: a Backend on the demo fleet with a manual clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.errors import EmulatorError


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> Backend:
    return Backend("demo", clock)


Call = Callable[..., dict[str, Any]]


@pytest.fixture
def call(backend: Backend) -> Call:
    """``call("DescribeDisks", RegionId="cn-hangzhou")``: the body, or the EmulatorError raised."""

    def _call(action: str, region_hint: str | None = None, **params: str) -> dict[str, Any]:
        return backend.handle(action, params, region_hint=region_hint)

    return _call


def error_of(
    backend: Backend, action: str, params: dict[str, str], region_hint: str | None = None
) -> EmulatorError:
    with pytest.raises(EmulatorError) as caught:
        backend.handle(action, params, region_hint=region_hint)
    return caught.value


def disk(backend: Backend, disk_id: str) -> dict[str, Any]:
    body = backend.handle(
        "DescribeDisks", {"DiskIds": f'["{disk_id}"]'}, region_hint=_region_of(backend, disk_id)
    )
    (found,) = body["Disks"]["Disk"]
    return found


def instance(backend: Backend, instance_id: str) -> dict[str, Any]:
    return backend.handle("DescribeInstanceAttribute", {"InstanceId": instance_id}, region_hint=None)


def _region_of(backend: Backend, disk_id: str) -> str:
    for item in backend.snapshot()["Disks"]:
        if item["DiskId"] == disk_id:
            return str(item["RegionId"])
    raise AssertionError(f"no disk {disk_id}")
