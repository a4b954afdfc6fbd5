"""``detach`` of several disks plans with the journal, as the single-disk path does: a bulk run killed after
it stopped an instance is resumed by the next command, which starts the instance that run stopped.

On the emulator served over HTTP in a thread (instant transitions, state kept between commands). The killed
run is a real bulk run (the library's, with the CLI's own journal file and session) interrupted at a chosen
progress report by an exception no code catches, like SIGKILL: the journal and the emulator keep what it did.
"""

from __future__ import annotations

from typing import Any

import pytest
from cli_helpers import CliRunner, HttpEmulator

from ecs_detach import workflow
from ecs_detach.journal import Journal
from ecs_detach.preconditions import DetachOptions
from ecs_detach.session import open_client

METAL, WEB = "d-metal-01-data", "d-web-01-data"  # i-metal-01's type cannot hot-detach: it must be stopped


class Killed(BaseException):
    """The process died here (nothing in the workflow catches it)."""


def _killed_bulk_run(http_emulator: HttpEmulator, journal: Journal) -> None:
    """`detach METAL WEB --stop-instance --restart-instance`, killed just before METAL's DetachDisk (after
    stopping i-metal-01). WEB's group, on another instance, finishes meanwhile."""

    def die(event: workflow.ProgressEvent) -> None:
        if event.phase == "detach-disk" and event.disk_id == METAL:
            raise Killed

    options = DetachOptions(allow_stop=True, restart=True)
    with open_client(endpoint=http_emulator.url) as session:
        items = [workflow.BulkItem(d, options) for d in (METAL, WEB)]
        facts = workflow.emulator_facts(http_emulator.emulator)  # the instance type that cannot hot-detach
        plans = workflow.prepare_bulk(session.client, items, facts=facts)
        assert plans[0].calls == ("StopInstance", "DetachDisk", "StartInstance")
        with pytest.raises(Killed):
            workflow.run_bulk(session.client, plans, journal=journal, facts=facts, on_progress=die)


def _state(http_emulator: HttpEmulator, kind: str, key: str, wanted: str) -> str:
    (item,) = [i for i in http_emulator.emulator.state()[kind] if i[key] == wanted]
    return str(item["Status"])


def _accepted(http_emulator: HttpEmulator, action: str) -> list[dict[str, Any]]:
    return [r for r in http_emulator.emulator.requests if r["action"] == action and not r["code"]]


def test_a_killed_bulk_detach_is_resumed_and_the_instance_it_stopped_started_again(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    _killed_bulk_run(http_emulator, journal)
    assert _state(http_emulator, "Instances", "InstanceId", "i-metal-01") == "Stopped"
    assert _state(http_emulator, "Disks", "DiskId", METAL) == "In_use"

    ran = cli(
        "detach", METAL, WEB, "--stop-instance", "--restart-instance", "--yes", "--json",
        *http_emulator.endpoint_args,
    )  # fmt: skip
    assert ran.code == 0, ran.err
    document = ran.json()
    metal, web = document["plans"]
    assert [s["action"] for s in metal["steps"] if s["action"]] == ["DetachDisk", "StartInstance"]
    assert any("stopped by an earlier ecs-detach run" in w for w in metal["warnings"])
    assert web["nothing_to_do"]  # the killed run's other group had finished it
    assert f"Warning ({METAL}): Instance i-metal-01 was stopped by an earlier ecs-detach run" in ran.err
    results = {r["disk_id"]: r for r in document["report"]["results"]}
    assert results[METAL]["outcome"] == "done"
    assert results[METAL]["message"].endswith("Instance i-metal-01 was started again.")

    assert _state(http_emulator, "Instances", "InstanceId", "i-metal-01") == "Running"
    assert _state(http_emulator, "Disks", "DiskId", METAL) == "Available"
    detaches = [r["params"]["DiskId"] for r in _accepted(http_emulator, "DetachDisk")]
    assert sorted(detaches) == [METAL, WEB]  # exactly one DetachDisk per disk
    assert [r["params"]["InstanceId"] for r in _accepted(http_emulator, "StopInstance")] == ["i-metal-01"]
    assert [r["params"]["InstanceId"] for r in _accepted(http_emulator, "StartInstance")] == ["i-metal-01"]
    assert journal.stopped_by_us("i-metal-01") is None
