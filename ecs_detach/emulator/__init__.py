"""A stateful emulator of the Alibaba Cloud ECS API: the test double for the client, the demo and the SDKs.

```python
from ecs_detach.emulator import Emulator, ManualClock
emu = Emulator(fleet="demo", clock=ManualClock())
httpx.Client(transport=emu.transport())   # in-process; any Host works
emu.asgi_app()                            # the same over HTTP (``ecs-detach emulator`` serves it)
emu.advance(60); emu.reset("demo"); emu.state(); emu.requests
emu.set_faults(rate=0.2, kinds=["service_unavailable", "reset"], actions=["DetachDisk"], seed=7)
emu.set_faults(latency_ms=50)             # a fixed delay on every reply
emu.clear_faults()
```

For other people's tests: ``with mock_ecs() as ecs:`` serves one on a free port for the block (and points the
standard environment variables at it); the pytest plugin gives the fixtures ``ecs_emulator`` and
``ecs_emulator_server`` (``ecs_detach.emulator.testing``).

Importing this module is cheap: the state machine, httpx and uvicorn load when first used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_detach.emulator.clock import Clock, ImmediateClock, ManualClock, ScaledClock

if TYPE_CHECKING:
    from ecs_detach.emulator.asgi import EmulatorApp
    from ecs_detach.emulator.backend import Backend
    from ecs_detach.emulator.faults import FaultPlan
    from ecs_detach.emulator.fleet import EmulatorSettings
    from ecs_detach.emulator.gateway import Gateway
    from ecs_detach.emulator.server import ServerThread
    from ecs_detach.emulator.testing import mock_ecs
    from ecs_detach.emulator.transport import EmulatorTransport

__all__ = [
    "DEFAULT_REGION",
    "EMULATOR_ACCESS_KEY_ID",
    "EMULATOR_ACCESS_KEY_SECRET",
    "Clock",
    "Emulator",
    "ImmediateClock",
    "ManualClock",
    "ScaledClock",
    "mock_ecs",
]

EMULATOR_ACCESS_KEY_ID = "LTAI5tEmulatorDemoKey"
EMULATOR_ACCESS_KEY_SECRET = "emulator-demo-secret"
DEFAULT_REGION = "cn-hangzhou"

FleetSource = str | Path | Mapping[str, Any]


class Emulator:
    """The emulator: one state machine (``backend``) behind one gateway, reachable in-process or over HTTP.

    ``clock`` defaults to real time (``ScaledClock(1.0)``); tests pass a ``ManualClock``. The gateway checks
    request timestamps against ``wall_clock`` (real time), whatever the emulator's clock says.
    ``on_state_loaded`` is called once a fleet is in place: at start and after every reset.
    """

    def __init__(
        self,
        fleet: FleetSource = "demo",
        clock: Clock | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        log_size: int = 10_000,
        on_state_loaded: Callable[[], object] | None = None,
    ) -> None:
        from ecs_detach.emulator.backend import MUTATING_ACTIONS, Backend
        from ecs_detach.emulator.gateway import Gateway

        self.clock: Clock = clock if clock is not None else ScaledClock(1.0)
        self._initial_fleet: FleetSource = fleet
        self.backend: Backend = Backend(fleet, self.clock)
        self.gateway: Gateway = Gateway(
            self.backend,
            self.backend,
            mutating_actions=MUTATING_ACTIONS,
            wall_clock=wall_clock,
            log_size=log_size,
        )
        self._on_state_loaded = on_state_loaded
        if on_state_loaded is not None:
            on_state_loaded()

    # ------------------------------------------------------------------ hosting

    def transport(self) -> EmulatorTransport:
        """An ``httpx.BaseTransport`` and ``httpx.AsyncBaseTransport`` answering in-process."""
        from ecs_detach.emulator.asgi import ControlApi
        from ecs_detach.emulator.transport import EmulatorTransport

        return EmulatorTransport(self.gateway, control=ControlApi(self))

    def asgi_app(self, *, allow_remote_control: bool = False) -> EmulatorApp:
        """The API and the ``/_emulator/`` control routes as an ASGI app (control from loopback only)."""
        from ecs_detach.emulator.asgi import EmulatorApp

        return EmulatorApp(self, allow_remote_control=allow_remote_control)

    def serve_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
        """Serve over HTTP from a background thread (started; ``stop()`` or use it as a context manager).

        ``.url`` is ``http://127.0.0.1:PORT``; ``.endpoint`` (``127.0.0.1:PORT``) is what the official SDK's
        ``Config(endpoint=...)`` takes.
        """
        from ecs_detach.emulator.server import ServerThread

        return ServerThread(self, host, port).start()

    # ------------------------------------------------------------------ state and time

    @property
    def settings(self) -> EmulatorSettings:
        return self.backend.settings

    @property
    def credentials(self) -> tuple[str, str]:
        """The demo access key (id, secret) every emulator accepts."""
        return EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

    def now(self) -> float:
        """The emulator's virtual time, epoch seconds."""
        return self.backend.now()

    def now_iso(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now()))

    def advance(self, seconds: float) -> float:
        """Move virtual time forward; transitions that fall due fire. Returns the new time."""
        return self.backend.advance(seconds)

    def reset(self, fleet: FleetSource | None = None, *, keep_faults: bool = False) -> None:
        """Replace the state with ``fleet`` (default: the fleet this emulator started with).

        A clean start: the request log, the rate-limit windows and the fault plan start afresh
        (``keep_faults=True`` keeps the plan, for a test that resets between calls it wants faulted).
        Remembered nonces stay: a replayed request is still a replay.
        """
        self.backend.reset(self._initial_fleet if fleet is None else fleet)
        self.gateway.clear_log()
        self.gateway.reset_limits()
        if not keep_faults:
            self.gateway.faults.clear()
        if self._on_state_loaded is not None:
            self._on_state_loaded()

    def state(self) -> dict[str, Any]:
        """The current state as a fleet file."""
        return self.backend.snapshot()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The API calls received, oldest first: action, params (no secrets), status, code, request_id, ..."""
        return self.gateway.requests

    # ------------------------------------------------------------------ faults

    @property
    def faults(self) -> FaultPlan:
        return self.gateway.faults.plan

    def set_faults(
        self,
        rate: float = 0.0,
        kinds: Iterable[str] | None = None,
        actions: Iterable[str] | None = None,
        seed: int = 0,
        *,
        latency_ms: float = 0.0,
        retry_after_ms: int = 100,
    ) -> FaultPlan:
        """Inject faults (see ``ecs_detach.emulator.faults`` for the kinds); replaces any previous plan."""
        from ecs_detach.emulator.faults import FaultPlan

        plan = FaultPlan.build(
            rate=rate,
            kinds=kinds,
            actions=actions,
            seed=seed,
            latency_ms=latency_ms,
            retry_after_ms=retry_after_ms,
        )
        self.gateway.faults.set_plan(plan)
        return plan

    def clear_faults(self) -> None:
        self.gateway.faults.clear()

    def __repr__(self) -> str:
        return f"Emulator(clock={self.clock!r})"


def __getattr__(name: str) -> Any:
    """``mock_ecs`` loads with its module on first use (the facade stays cheap to import)."""
    if name == "mock_ecs":
        from ecs_detach.emulator.testing import mock_ecs

        return mock_ecs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
