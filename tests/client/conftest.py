"""Client test fixtures: a fresh emulator (demo fleet, manual clock) and clients on it, in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ecs_detach.client import AsyncEcsClient, EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.retry import RetryPolicy


class Sleeps(list[float]):
    """Recorded sleeps: the clients never sleep on real time in tests."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(fleet="demo", clock=ManualClock())


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(emulator: Emulator, sleeps: Sleeps) -> Iterator[EcsClient]:
    with EcsClient.for_emulator(emulator, sleep=sleeps, retry=RetryPolicy(seed=1)) as built:
        yield built


@pytest.fixture
async def aclient(emulator: Emulator, sleeps: Sleeps) -> AsyncIterator[AsyncEcsClient]:
    async with AsyncEcsClient.for_emulator(emulator, sleep=sleeps.asleep, retry=RetryPolicy(seed=1)) as built:
        yield built
