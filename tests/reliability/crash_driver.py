"""A detach in its own process, which SIGKILLs itself at a chosen point (the crash test runs it).

    python crash_driver.py URL JOURNAL DISK_ID CRASH_POINT

``URL`` is an ``ecs-detach emulator`` (its control API moves virtual time: waiting costs no real time).
``CRASH_POINT``: ``before:ACTION:N`` / ``after:ACTION:N`` (around the N-th call of a mutation: after the
journal's intent, before the request; after the reply, before the journal's outcome), ``poll:PHASE:N`` (at
the N-th progress report of a wait, e.g. ``wait-disk-detached``), ``event:N`` (the N-th progress report of
any kind), or ``none``. The process kills itself with SIGKILL there: no cleanup, no flush, no finally.
Without a crash it prints the run's result as JSON and exits with the run's exit code.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from typing import Any

import httpx

from ecs_detach import workflow
from ecs_detach.client import EcsClient, emulator_credentials
from ecs_detach.journal import Journal
from ecs_detach.preconditions import DetachOptions, facts_from_fleet
from ecs_detach.workflow import ProgressEvent


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class CrashPoint:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        parts = spec.split(":")
        self.where = parts[0]
        self.what = parts[1] if len(parts) == 3 else ""
        self.nth = int(parts[-1]) if self.where != "none" else 0
        self.seen: Counter[str] = Counter()

    def hit(self, where: str, what: str) -> None:
        self.seen[f"{where}:{what}"] += 1
        if where == self.where and what == self.what and self.seen[f"{where}:{what}"] == self.nth:
            die()

    def progress(self, event: ProgressEvent) -> None:
        self.seen["event"] += 1
        if self.where == "event" and self.seen["event"] == self.nth:
            die()
        if event.phase.startswith("wait-") and event.elapsed > 0:  # a poll during a wait, not its start
            self.hit("poll", event.phase)


class CrashingClient:
    """An EcsClient whose mutations pass the crash point on the way in and on the way out."""

    def __init__(self, client: EcsClient, point: CrashPoint) -> None:
        self._client = client
        self._point = point

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _around(self, action: str, call: Any, *args: Any, **kw: Any) -> str:
        self._point.hit("before", action)
        request_id: str = call(*args, **kw)
        self._point.hit("after", action)
        return request_id

    def stop_instance(self, *args: Any, **kw: Any) -> str:
        return self._around("StopInstance", self._client.stop_instance, *args, **kw)

    def start_instance(self, *args: Any, **kw: Any) -> str:
        return self._around("StartInstance", self._client.start_instance, *args, **kw)

    def detach_disk(self, *args: Any, **kw: Any) -> str:
        return self._around("DetachDisk", self._client.detach_disk, *args, **kw)

    def attach_disk(self, *args: Any, **kw: Any) -> str:
        return self._around("AttachDisk", self._client.attach_disk, *args, **kw)


def main(argv: list[str]) -> int:
    url, journal_path, disk_id, spec = argv
    control = httpx.Client(base_url=url)

    def now() -> float:
        return float(control.get("/_emulator/health").json()["now"])

    def advance(seconds: float) -> None:
        control.post("/_emulator/clock", json={"advance_seconds": max(0.0, seconds)}).raise_for_status()

    point = CrashPoint(spec)
    real = EcsClient(emulator_credentials(), "cn-hangzhou", endpoint=url, profile_name="demo", sleep=advance)
    client = CrashingClient(real, point)
    facts = facts_from_fleet(control.get("/_emulator/state").json())
    options = DetachOptions(allow_stop=True, restart=True)
    plan = workflow.prepare(client, disk_id, options, facts=facts)
    result = workflow.run(
        client,
        plan,
        journal=Journal(journal_path),
        facts=facts,
        clock=now,
        sleep=advance,
        on_progress=point.progress,
    )
    print(json.dumps({**result.to_dict(), "seen": dict(point.seen)}))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
