"""The pytest plugin (entry point ``pytest11``): ECS emulator fixtures for anyone's tests, as moto's for AWS.

``ecs_emulator``
    an emulator in the test process, served on a free loopback port, reset to a clean state for each test
    (the fleet of ``ecs_emulator_fleet``: ``"demo"`` unless a test module or conftest overrides that fixture)
    on a manual clock: ``.endpoint``, ``.url``, ``.credentials``, ``.reset(fleet)``, ``.advance(seconds)``,
    ``.requests``, ``.state()``, ``.set_faults(...)``, ``.emulator`` (see ``ecs_detach.emulator.testing``).
``ecs_emulator_server``
    ``ecs-detach emulator`` in a child process (for SDKs in other languages), one per session, reset for each
    test; the same surface, through the control API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ecs_detach.emulator.testing import EcsEmulator, EcsEmulatorServer


@pytest.fixture
def ecs_emulator_fleet() -> Any:
    """The fleet each test starts on: ``"demo"``, a path, or a fleet dict (override this fixture)."""
    return "demo"


@pytest.fixture(scope="session")
def _ecs_emulator_session() -> Iterator[EcsEmulator]:
    with EcsEmulator("demo") as served:
        yield served


@pytest.fixture
def ecs_emulator(_ecs_emulator_session: EcsEmulator, ecs_emulator_fleet: Any) -> EcsEmulator:
    """The in-process emulator, on a clean ``ecs_emulator_fleet`` (state, log, faults and limits reset)."""
    _ecs_emulator_session.reset(ecs_emulator_fleet)
    return _ecs_emulator_session


@pytest.fixture(scope="session")
def _ecs_emulator_server_session() -> Iterator[EcsEmulatorServer]:
    with EcsEmulatorServer("demo") as served:
        yield served


@pytest.fixture
def ecs_emulator_server(
    _ecs_emulator_server_session: EcsEmulatorServer, ecs_emulator_fleet: Any
) -> EcsEmulatorServer:
    """The emulator in a child process, on a clean ``ecs_emulator_fleet``."""
    _ecs_emulator_server_session.reset(ecs_emulator_fleet)
    return _ecs_emulator_server_session
