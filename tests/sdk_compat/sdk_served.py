"""What the SDK tests get: the emulator served over HTTP, its endpoint, and a control client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ecs_detach.emulator import Emulator


@dataclass
class Served:
    emulator: Emulator
    url: str
    endpoint: str  # host:port, what the SDKs take as their endpoint / domain
    control: httpx.Client

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock through the control API, as a test outside the process would."""
        response = self.control.post("/_emulator/clock", json={"advance_seconds": seconds})
        assert response.status_code == 200, response.text
