"""Notebook helpers refuse keywords they do not know, and name the right one; known filters work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecs_detach import notebook
from ecs_detach.emulator import ManualClock


@pytest.fixture
def nb(tmp_path: Path) -> Iterator[notebook.Workbench]:
    bench = notebook.connect(clock=ManualClock(), journal_path=tmp_path / "journal.jsonl")
    yield bench
    bench.close()


@pytest.mark.parametrize(
    ("call", "wrong", "right"),
    [
        (lambda nb, kw: nb.instances(**kw), "region", "region_id"),
        (lambda nb, kw: nb.instances(**kw), "zone", "zone_id"),
        (lambda nb, kw: nb.disks(**kw), "disktype", "disk_type"),
        (lambda nb, kw: nb.disks(**kw), "instance", "instance_id"),
        (lambda nb, kw: nb.check("d-web-01-data", **kw), "allowstop", "allow_stop"),
        (lambda nb, kw: nb.bulk_plan(["d-web-01-data"], **kw), "restart_instance", "restart"),
        (lambda nb, kw: nb.async_client(**kw), "readonly", "read_only"),
    ],
)
def test_an_unknown_keyword_is_an_error_that_names_the_right_one(
    nb: notebook.Workbench, call: Any, wrong: str, right: str
) -> None:
    sent = len(nb.emulator.requests)
    with pytest.raises(TypeError, match=rf"unexpected keyword argument '{wrong}'\. Did you mean .*'{right}'"):
        call(nb, {wrong: "cn-shanghai"})
    assert len(nb.emulator.requests) == sent  # refused before any call


def test_the_error_reads_without_a_traceback_in_jupyter(nb: notebook.Workbench) -> None:
    with pytest.raises(notebook.UnknownArgument) as caught:
        nb.instances(region="cn-shanghai")
    lines = caught.value._render_traceback_()
    assert len(lines) == 1 and "region_id" in lines[0]


def test_the_right_keyword_reads_that_region_and_says_so(nb: notebook.Workbench) -> None:
    table = nb.instances(region_id="cn-shanghai")
    assert table.title == "Instances in cn-shanghai"
    assert table.rows and {r["instance_id"] for r in table.to_records()} == {
        i.instance_id for i in nb.client.list_instances(region_id="cn-shanghai")
    }
    assert nb.instances().title == "Instances in cn-hangzhou"


def test_api_filters_work_in_snake_case_and_in_the_api_spelling(nb: notebook.Workbench) -> None:
    everything = len(nb.disks())
    portable_false = nb.disks(portable=False)
    assert 0 < len(portable_false) < everything
    assert len(nb.disks(Portable=False)) == len(portable_false)
    assert {r["portable"] for r in portable_false.to_records()} == {False}
    zone = nb.client.list_instances()[0].zone_id
    assert len(nb.instances(zone_id=zone)) == len(nb.instances(ZoneId=zone)) < len(nb.instances())


# -- one name for "read the guest": guest_check= everywhere (guest= kept one release, deprecated) ---------------


def _guest_rows(plan: Any) -> dict[int, str]:
    plan = getattr(plan, "plan", plan)  # a MovePlan: its one plan
    assert plan.preconditions is not None
    return {row.number: row.status.value for row in plan.preconditions.rows if row.number >= 22}


def test_plan_and_move_plan_read_the_guest_with_guest_check_as_check_and_bulk_plan_do(
    nb: notebook.Workbench,
) -> None:
    checked = nb.check("d-files-01-data", guest_check=True)
    (bulk,) = nb.bulk_plan(["d-files-01-data"], guest_check=True)
    planned = nb.plan("d-files-01-data", guest_check=True)
    moved = nb.move_plan("d-files-01-data", "i-web-02", guest_check=True)
    assert checked.row(23).status.value == "fixable"
    assert _guest_rows(planned) == _guest_rows(bulk) == _guest_rows(moved)
    assert _guest_rows(planned)[23] == "fixable" and not planned.executable  # mounted: refused
    assert not moved.executable and "unmount" in moved.plan.refusal


@pytest.mark.parametrize("helper", ["plan", "move_plan"])
def test_the_old_guest_keyword_still_works_and_warns_with_the_new_name(
    nb: notebook.Workbench, helper: str
) -> None:
    args: tuple[str, ...] = ("d-files-01-data",) if helper == "plan" else ("d-files-01-data", "i-web-02")
    with pytest.warns(DeprecationWarning, match=rf"nb\.{helper}\(guest=\) is deprecated: use guest_check="):
        old = getattr(nb, helper)(*args, guest=True)
    new = getattr(nb, helper)(*args, guest_check=True)
    assert _guest_rows(old) == _guest_rows(new) and _guest_rows(new)[23] == "fixable"
    assert getattr(old, "plan", old).refusal == getattr(new, "plan", new).refusal



def test_ctrl_c_during_the_plans_guest_read_says_in_jupyter_what_is_left_unknown(tmp_path: Path) -> None:
    import copy
    import signal

    from ecs_detach.client import EcsClient
    from ecs_detach.emulator.fleet import load_fleet
    from ecs_detach.guest import GuestReadInterrupted

    fleet = copy.deepcopy(load_fleet("demo"))
    fleet["Emulator"]["Guests"]["i-files-01"]["HangOn"] = "lsblk"
    bench = notebook.connect(clock=ManualClock(), journal_path=tmp_path / "journal.jsonl", fleet=fleet)
    real = EcsClient.invocation_result
    polled: list[str] = []

    def invocation_result(self: EcsClient, invoke_id: str, instance_id: str) -> Any:
        polled.append(invoke_id)
        if len(polled) == 2:
            signal.raise_signal(signal.SIGINT)  # the kernel is interrupted while the probe is polled
        return real(self, invoke_id, instance_id)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(EcsClient, "invocation_result", invocation_result)
            with pytest.raises(KeyboardInterrupt) as caught:  # never let a plain one stop the test run
                bench.plan("d-files-01-data", guest_check=True)
        assert [r["action"] for r in bench.emulator.requests if r["action"] == "DetachDisk"] == []
    finally:
        bench.close()
    assert isinstance(caught.value, GuestReadInterrupted), repr(caught.value)
    shown = caught.value._render_traceback_()
    assert len(shown) == 2 and "the guest was not read" in shown[0] and "i-files-01" in shown[0]
    assert "ls -l /dev/disk/by-id/ | grep files-01-data" in shown[1]
