"""An emulator with a manual clock, a client on it, and the workflow's time wired to the emulator's clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.journal import Journal
from ecs_detach.workflow import ProgressEvent, emulator_facts

MUTATIONS = ("DetachDisk", "AttachDisk", "StopInstance", "StartInstance")


@dataclass
class Env:
    emu: Emulator
    client: EcsClient
    journal: Journal
    events: list[ProgressEvent] = field(default_factory=list)

    @property
    def kw(self) -> dict[str, Any]:
        """What every workflow call takes here: facts, journal, time on the emulator's clock."""
        return {
            "facts": emulator_facts(self.emu),
            "journal": self.journal,
            "clock": self.emu.now,
            "sleep": self.emu.advance,
            "on_progress": self.events.append,
        }

    def calls(self, action: str | None = None) -> list[dict[str, Any]]:
        """The mutating API calls the emulator received (optionally one action)."""
        wanted = (action,) if action else MUTATIONS
        return [r for r in self.emu.requests if r["action"] in wanted]

    def disk(self, disk_id: str) -> dict[str, Any]:
        return next(d for d in self.emu.state()["Disks"] if d["DiskId"] == disk_id)

    def instance(self, instance_id: str) -> dict[str, Any]:
        return next(i for i in self.emu.state()["Instances"] if i["InstanceId"] == instance_id)


EnvFactory = Callable[[Mapping[str, Any]], Env]


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[EnvFactory]:
    clients: list[EcsClient] = []

    def make(fleet: Mapping[str, Any]) -> Env:
        emu = Emulator(fleet=dict(fleet), clock=ManualClock())
        client = EcsClient.for_emulator(emu, sleep=emu.advance)
        clients.append(client)
        return Env(emu, client, Journal(tmp_path / f"journal-{len(clients)}.jsonl"))

    yield make
    for client in clients:
        client.close()


def web_fleet(**emulator: Any) -> dict[str, Any]:
    """One Running instance with a system disk and a data disk."""
    fleet: dict[str, Any] = {
        "Instances": [{"InstanceId": "i-web", "Status": "Running", "InstanceType": "ecs.g7.large"}],
        "Disks": [
            {"DiskId": "d-web-sys", "InstanceId": "i-web", "Type": "system", "Status": "In_use"},
            {"DiskId": "d-web-data", "InstanceId": "i-web", "Type": "data", "Status": "In_use"},
        ],
    }
    if emulator:
        fleet["Emulator"] = emulator
    return fleet
