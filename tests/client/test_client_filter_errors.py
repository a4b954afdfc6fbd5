"""What the client makes of the emulator's answers to bad filter values: a parameter error."""

from __future__ import annotations

import pytest

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import InvalidParameterError


@pytest.fixture
def client() -> EcsClient:
    return EcsClient.for_emulator(Emulator(fleet="demo", clock=ManualClock()))


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.list_instances(status="Bogus"), "InvalidStatus.NotFound"),
        (lambda c: c.list_disks(status="bogus"), "InvalidStatus.ValueNotSupported"),
        (lambda c: c.list_disks(disk_type="boot"), "InvalidDiskType.ValueNotSupported"),
        (lambda c: c.list_disks(Category="bogus"), "InvalidCategory.ValueNotSupported"),
        (lambda c: c.list_disks(LockReason="bogus"), "InvalidLockReason.NotFound"),
    ],
)
def test_a_bad_filter_value_is_an_invalid_parameter(client: EcsClient, call: object, code: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        call(client)  # type: ignore[operator]
    assert caught.value.code == code
    assert "check the ids and options" in caught.value.remedy
