"""What every reliability test checks, read from the emulator's request log and the journal.

The emulator is the witness: its request log says which mutations reached the state machine (status 200,
including a ``lost_response`` fault, which is applied and then dropped), and its state says where every disk
and instance ended. The journal says what ecs-detach promised to record.

`serve_emulator` / `Server` is the one served ``ecs-detach emulator`` of these tests (conftest's ``server``
fixture), and `CliProcess` runs the CLI against it in a process of its own (to be killed, or to start fresh).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_detach.actions import MUTATING_ACTIONS
from ecs_detach.emulator.testing import EcsEmulatorServer
from ecs_detach.guest import probe_script
from ecs_detach.journal import INTENT, OUTCOME, Journal, JournalRecord

MUTATIONS = ("DetachDisk", "AttachDisk", "StopInstance", "StartInstance")  # what changes disks and instances
# The read-only guest probes go out as RunCommand too; they are reads (guest_read.run_probe), never journaled.
PROBE_MARK = probe_script("linux").splitlines()[0].partition(":")[0]
ALL_FAULT_KINDS = (
    "internal_error",
    "service_unavailable",
    "throttling",
    "throttling_retry_after",
    "reset",
    "lost_response",
)


def applied(requests: Iterable[Mapping[str, Any]], action: str) -> list[Mapping[str, Any]]:
    """The calls of ``action`` the state machine accepted (answered 200, even if the answer was then lost)."""
    return [r for r in requests if r["action"] == action and r.get("status") == 200]


def applied_per(requests: Iterable[Mapping[str, Any]], action: str, param: str) -> Counter[str]:
    """How many times ``action`` was applied per value of ``param`` (DiskId, InstanceId)."""
    return Counter(str(r["params"].get(param, "")) for r in applied(requests, action))


def is_probe(request: Mapping[str, Any]) -> bool:
    content = str(request["params"].get("CommandContent", ""))
    return request["action"] == "RunCommand" and content.startswith(PROBE_MARK)


def mutation_log(requests: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The mutating calls received (`actions.MUTATING`: CreateSnapshot and the guest's unmount and remount
    RunCommand included), without the read-only guest probes."""
    return [r for r in requests if r["action"] in MUTATING_ACTIONS and not is_probe(r)]


def mutation_key(action: str, params: Mapping[str, Any]) -> tuple[str, str, str]:
    """(action, disk, instance) of a mutation, from a request's params or an intent's disk / instance."""
    disk = str(params.get("DiskId", "")) if action in ("DetachDisk", "AttachDisk", "CreateSnapshot") else ""
    return action, disk, str(params.get("InstanceId") or params.get("InstanceId.1") or "")


def faults_seen(requests: Iterable[Mapping[str, Any]]) -> Counter[str]:
    return Counter(str(r["fault"]) for r in requests if r.get("fault"))


def journal_problems(journal: Journal, requests: Sequence[Mapping[str, Any]]) -> list[str]:
    """Everything that breaks the journal's promise (safety rule 3), one sentence each; empty when kept.

    - every intent has at least one outcome;
    - every outcome belongs to an intent;
    - every mutation the emulator received has an intent for the same action and resource, and never more
      accepted calls than intents;
    - every accepted call (status 200) has its request id in an ``ok`` outcome, or (its answer lost, or the
      process killed before writing it) a reconciled outcome saying it went through.
    """
    records = journal.records(rotated=True)  # the whole history: long runs rotate
    problems = [f"skipped journal line: {line}" for line in journal.skipped]
    intents: dict[str, JournalRecord] = {r.operation_id: r for r in records if r.kind == INTENT}
    outcomes: dict[str, list[JournalRecord]] = {}
    for record in records:
        if record.kind == OUTCOME:
            outcomes.setdefault(record.operation_id, []).append(record)
    for op, intent in intents.items():
        if op not in outcomes:
            problems.append(
                f"intent without an outcome: {intent.action} {intent.disk_id} {intent.instance_id}"
            )
    for op in outcomes:
        if op not in intents:
            problems.append(f"outcome without an intent: {op}")

    intent_count = Counter(
        mutation_key(i.action, {"DiskId": i.disk_id, "InstanceId": i.instance_id}) for i in intents.values()
    )
    accepted = Counter(
        mutation_key(r["action"], r["params"]) for r in mutation_log(requests) if r.get("status") == 200
    )
    received = {mutation_key(r["action"], r["params"]) for r in mutation_log(requests)}
    for k in sorted(received):
        if intent_count[k] == 0:
            problems.append(f"a mutation reached the API without an intent: {k}")
    for k, n in sorted(accepted.items()):
        if n > intent_count[k]:
            problems.append(f"{n} accepted calls but {intent_count[k]} intent(s) for {k}")
    ok_ids = {o.request_id for outs in outcomes.values() for o in outs if o.result == "ok"}
    # A RunCommand's ok outcome keeps its InvokeId (its result is read by it), which the request log lacks.
    ok_commands = {
        mutation_key(o.action, {"InstanceId": o.instance_id})
        for outs in outcomes.values()
        for o in outs
        if o.result == "ok" and o.action == "RunCommand"
    }
    # A call whose answer never reached the journal (lost, or the process died) is recorded by reconciling.
    went_through = {
        mutation_key(o.action, {"DiskId": o.disk_id, "InstanceId": o.instance_id})
        for outs in outcomes.values()
        for o in outs
        if o.reconciled and o.succeeded
    }
    for r in mutation_log(requests):
        if r.get("status") != 200 or r["request_id"] in ok_ids:
            continue
        if r["action"] == "RunCommand" and mutation_key(r["action"], r["params"]) in ok_commands:
            continue
        if mutation_key(r["action"], r["params"]) not in went_through:
            problems.append(f"accepted {r['action']} {r['request_id']} has no outcome saying it took effect")
    return problems


def last_word(journal: Journal, action: str, disk_id: str = "") -> JournalRecord | None:
    """The latest outcome of the last `action` operation in the journal (on `disk_id`, if given: a guest
    step's RunCommand names its disk in the context)."""
    outcomes = [
        outcome
        for intent, outcome in journal.operations()
        if intent.action == action and disk_id in ("", intent.disk_id, intent.context.get("disk_id"))
    ]
    return outcomes[-1] if outcomes else None


def consistency_problems(state: Mapping[str, Any]) -> list[str]:
    """Disks and instances agree: every attachment names an existing instance of the same region, a disk's
    status matches whether it is attached, at most one system disk per instance, no device used twice."""
    problems: list[str] = []
    instances = {i["InstanceId"]: i for i in state.get("Instances") or []}
    devices: Counter[tuple[str, str]] = Counter()
    system_disks: Counter[str] = Counter()
    for disk in state.get("Disks") or []:
        disk_id = disk["DiskId"]
        attachments = [
            a for a in (disk.get("Attachments") or {}).get("Attachment") or [] if a.get("InstanceId")
        ]
        owners = [a["InstanceId"] for a in attachments] or (
            [disk["InstanceId"]] if disk.get("InstanceId") else []
        )
        status = disk.get("Status")
        if status in ("In_use", "Detaching", "Attaching") and not owners:
            problems.append(f"{disk_id} is {status} but attached nowhere")
        if status == "Available" and owners:
            problems.append(f"{disk_id} is Available but attached to {owners}")
        for owner in owners:
            instance = instances.get(owner)
            if instance is None:
                problems.append(f"{disk_id} is attached to {owner}, which does not exist")
                continue
            if instance.get("RegionId") and disk.get("RegionId") and instance["RegionId"] != disk["RegionId"]:
                problems.append(f"{disk_id} ({disk['RegionId']}) is attached across regions to {owner}")
            if disk.get("Type") == "system":
                system_disks[owner] += 1
        for attachment in attachments:
            if attachment.get("Device"):
                devices[(attachment["InstanceId"], attachment["Device"])] += 1
    problems += [f"{owner} has {n} system disks" for owner, n in system_disks.items() if n > 1]
    problems += [f"device {dev} used {n} times on {owner}" for (owner, dev), n in devices.items() if n > 1]
    return problems


# --- the served emulator and the CLI against it ---------------------------------------------------------


@dataclass
class Server:
    """``ecs-detach emulator`` in a child process (`EcsEmulatorServer`, the project's pytest plugin's), on
    `fleet`, read and driven through its control API."""

    process: EcsEmulatorServer
    fleet: Mapping[str, Any]

    @property
    def url(self) -> str:
        return self.process.url

    def reset(self) -> None:
        """The fleet as it started; the request log, the rate limits and the faults afresh."""
        self.process.reset(self.fleet)

    def requests(self) -> list[dict[str, Any]]:
        return self.process.requests

    def state(self) -> dict[str, Any]:
        return self.process.state()

    def guest(self, instance_id: str) -> dict[str, Any]:
        section: dict[str, Any] = self.state()["Emulator"]["Guests"][instance_id]
        return section

    def now(self) -> float:
        return self.process.advance(0)

    def advance(self, seconds: float) -> None:
        self.process.advance(max(0.0, seconds))


@contextmanager
def serve_emulator(fleet: Mapping[str, Any], time_scale: float = 1.0) -> Iterator[Server]:
    """``ecs-detach emulator`` on `fleet`, its clock at `time_scale` (0: transitions finish at once)."""
    with EcsEmulatorServer(fleet, time_scale=time_scale) as process:
        yield Server(process, fleet)


class CliProcess:
    """``ecs-detach ARGV --yes --demo --endpoint URL --journal J`` in a subprocess of its own, against a
    served emulator, with HOME and the state directory in `home` and this tree on PYTHONPATH."""

    def __init__(self, url: str, home: Path) -> None:
        self.journal_path = home / "journal.jsonl"
        self.common = ["--yes", "--demo", "--endpoint", url, "--journal", str(self.journal_path)]
        self.env = {
            "HOME": str(home),
            "XDG_STATE_HOME": str(home / "state"),
            "PATH": "",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        }

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """The command to its end; never a traceback."""
        ran = self._run("-m", "ecs_detach.cli", *argv)
        assert "Traceback" not in ran.stderr, ran.stderr
        return ran

    def killed(self, script: str, *argv: str) -> None:
        """``python -c SCRIPT ARGV...``: a script that runs the CLI and SIGKILLs itself at some point."""
        ran = self._run("-c", script, *argv)
        assert ran.returncode == -signal.SIGKILL, ran.stdout + ran.stderr

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, *args, *self.common]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=self.env)

    @property
    def journal(self) -> Journal:
        return Journal(self.journal_path)
