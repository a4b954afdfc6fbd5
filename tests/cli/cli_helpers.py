"""Helpers for the scripting CLI tests (a unique module name: every test folder has its own conftest)."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEMO_SECRET = "emulator-demo-secret"
CREDENTIAL_VARS = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ECS_DETACH_PROTECTED_PROFILES",
    "ECS_DETACH_PROTECTED_REGIONS",
)


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self) -> Any:
        import json

        return json.loads(self.out)


class FakeTerminal(io.StringIO):
    """Stdin as a terminal an operator types into."""

    def isatty(self) -> bool:
        return True


CliRunner = Callable[..., Ran]


@dataclass
class Served:
    """``ecs-detach emulator`` in a subprocess: its URL, control API and request log."""

    url: str
    process: subprocess.Popen[str]

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def reset(self, fleet: Any = None) -> None:
        with self.control() as http:
            response = http.post("/_emulator/reset", json=fleet) if fleet else http.post("/_emulator/reset")
            assert response.status_code == 200, response.text
            assert http.delete("/_emulator/faults").status_code == 200

    def requests(self, action: str | None = None) -> list[dict[str, Any]]:
        with self.control() as http:
            logged: list[dict[str, Any]] = http.get("/_emulator/requests").json()["requests"]
        return [r for r in logged if action is None or r.get("action") == action]

    def env(self, tmp_path: Path, **extra: str) -> dict[str, str]:
        """A subprocess environment: the emulator's key, an isolated home, nothing else that matters."""
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
        env.update(
            HOME=str(tmp_path),
            XDG_STATE_HOME=str(tmp_path / "state"),
            ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5tEmulatorDemoKey",
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=DEMO_SECRET,
        )
        env.update(extra)
        return env


def instant_fleet() -> dict[str, Any]:
    """The demo fleet with every transition instant, for runs over HTTP that must not wait on real time."""
    import copy

    from ecs_detach.emulator.fleet import load_fleet

    fleet = copy.deepcopy(load_fleet("demo"))
    fleet["Emulator"]["Durations"] = {
        "DetachDisk": 0,
        "AttachDisk": 0,
        "StopInstance": 0,
        "StartInstance": 0,
        "RunCommand": 0,
    }
    return fleet


@dataclass
class HttpEmulator:
    emulator: Any
    url: str

    @property
    def endpoint_args(self) -> list[str]:
        return ["--endpoint", self.url]
