"""The notebook reads the guests when asked (``guest_check=True``, for bulk and for a move), on
the workbench's time: a disk mounted in its guest is refused (nothing sent for it); ``unmount=True`` releases
it first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ecs_detach import notebook
from ecs_detach.emulator import ManualClock
from ecs_detach.workflow import Outcome


class Silent(notebook.ProgressLine):
    """A progress line that shows nothing (no IPython, no printing)."""

    def show(self, text: str) -> None:
        pass


@pytest.fixture
def nb(tmp_path: Path) -> Iterator[notebook.Workbench]:
    bench = notebook.connect(clock=ManualClock(), journal_path=tmp_path / "journal.jsonl")
    bench.progress_factory = Silent
    yield bench
    bench.close()


def detached(bench: notebook.Workbench) -> list[str]:
    return [str(r["params"]["DiskId"]) for r in bench.emulator.requests if r["action"] == "DetachDisk"]


def data_mounted(bench: notebook.Workbench) -> bool:
    guest = bench.emulator.state()["Emulator"]["Guests"]["i-files-01"]
    return any(m["DiskId"] == "d-files-01-data" and m["Mounted"] for m in guest["Mounts"])


def test_bulk_plan_with_the_guest_check_refuses_the_mounted_disk(nb: notebook.Workbench) -> None:
    refused, ready = nb.bulk_plan(["d-files-01-data", "d-web-01-data"], guest_check=True)
    assert not refused.executable and "--unmount" in refused.refusal and ready.executable
    assert refused.preconditions is not None and refused.preconditions.guest is not None
    assert refused.preconditions.guest.mount_points == ("/data",)
    report = nb.detach_all([refused, ready], confirm=["d-web-01-data"])
    assert [r.outcome for r in report.results] == [Outcome.BLOCKED, Outcome.DONE]
    assert detached(nb) == ["d-web-01-data"] and data_mounted(nb)


def test_bulk_plan_with_unmount_releases_the_disk_before_its_detach(nb: notebook.Workbench) -> None:
    plans = nb.bulk_plan(["d-files-01-data", "d-web-01-data"], guest_check=True, unmount=True)
    assert [p.calls for p in plans] == [("RunCommand", "DetachDisk"), ("DetachDisk",)]
    report = nb.detach_all(plans, confirm=["d-files-01-data", "d-web-01-data"])
    assert report.ok, report.summary()
    assert sorted(detached(nb)) == ["d-files-01-data", "d-web-01-data"] and not data_mounted(nb)
    assert nb.emulator.state()["Emulator"]["Guests"]["i-files-01"]["Hazards"] == []


def test_move_plan_with_the_guest_read_refuses_the_mounted_disk(nb: notebook.Workbench) -> None:
    move = nb.move_plan("d-files-01-data", "i-web-02", guest_check=True)
    assert not move.executable and "--unmount" in move.refusal
    assert data_mounted(nb) and detached(nb) == []


def test_move_plan_with_unmount_releases_it_before_the_move(nb: notebook.Workbench) -> None:
    move = nb.move_plan("d-files-01-data", "i-web-02", unmount=True)
    result = nb.move(move, confirm="d-files-01-data")
    assert result.outcome is Outcome.DONE, result
    assert detached(nb) == ["d-files-01-data"] and not data_mounted(nb)
    disk = nb.client.get_disk("d-files-01-data")
    assert disk.status == "In_use" and disk.attached_instance_ids == ("i-web-02",)
