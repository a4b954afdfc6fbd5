"""Notebook helpers on the emulator's manual clock: confirmation, progress, interrupts, rendering, bulk."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from journal_helpers import KILLED
from ecs_detach import notebook
from ecs_detach.emulator import ManualClock
from ecs_detach.journal import Journal, Result
from ecs_detach.workflow import CancelToken, Outcome, ProgressEvent


class Recorder(notebook.ProgressLine):
    """A progress line that keeps what it shows (no IPython, no printing)."""

    def show(self, text: str) -> None:
        line = self._compose(text)
        if line != self.last:
            self.last = line
            self.lines.append(line)


@pytest.fixture
def nb(tmp_path: Path) -> Iterator[notebook.Workbench]:
    bench = notebook.connect(clock=ManualClock(), journal_path=tmp_path / "journal.jsonl")
    bench.progress_factory = Recorder
    yield bench
    bench.close()


def _sent(bench: notebook.Workbench, action: str) -> list[dict[str, object]]:
    return [r for r in bench.emulator.requests if r["action"] == action]


def _disk_status(bench: notebook.Workbench, disk_id: str) -> str:
    return bench.client.get_disk(disk_id).status


# --- confirmation -------------------------------------------------------------------------------------------


def test_detach_refuses_without_naming_the_disk(nb: notebook.Workbench) -> None:
    plan = nb.plan("d-web-01-data")
    with pytest.raises(notebook.ConfirmationRequired, match=r"confirm='d-web-01-data'"):
        nb.detach(plan)
    with pytest.raises(notebook.ConfirmationRequired, match="this plan is for disk d-web-01-data"):
        nb.detach(plan, confirm="d-web-01-logs")
    assert _sent(nb, "DetachDisk") == []
    assert nb.journal.records() == []
    assert _disk_status(nb, "d-web-01-data") == "In_use"


def test_a_plan_that_stops_the_instance_needs_the_instance_named_too(nb: notebook.Workbench) -> None:
    plan = nb.plan("d-web-01-sys", allow_stop=True, delete_with_instance=False)
    assert plan.executable and "StopInstance" in plan.calls
    with pytest.raises(notebook.ConfirmationRequired, match=r"confirm_stop='i-web-01'"):
        nb.detach(plan, confirm="d-web-01-sys")
    assert _sent(nb, "StopInstance") == [] and _sent(nb, "DetachDisk") == []


def test_refusals_show_as_a_message_without_traceback() -> None:
    error = notebook.ConfirmationRequired("Nothing was sent.")
    assert error._render_traceback_() == ["ConfirmationRequired: Nothing was sent."]


# --- running, progress, journal, undo -----------------------------------------------------------------------


def test_confirmed_detach_ends_available_with_progress_and_a_journal_entry(nb: notebook.Workbench) -> None:
    plan = nb.plan("d-web-01-data")
    result = nb.detach(plan, confirm="d-web-01-data")
    assert result.outcome is Outcome.DONE
    assert _disk_status(nb, "d-web-01-data") == "Available"
    [(intent, outcome)] = nb.journal.operations()
    assert intent.action == "DetachDisk" and outcome is not None and outcome.result == Result.OK
    records = nb.journal_table().to_records()
    assert records[0]["action"] == "DetachDisk" and records[0]["disk_id"] == "d-web-01-data"


def test_progress_is_one_line_per_change_ending_with_the_outcome(nb: notebook.Workbench) -> None:
    shown: list[Recorder] = []

    def factory(title: str) -> Recorder:
        shown.append(Recorder(title))
        return shown[-1]

    nb.progress_factory = factory
    nb.detach(nb.plan("d-web-01-logs"), confirm="d-web-01-logs")
    lines = shown[0].lines
    assert any("Waiting for disk d-web-01-logs" in line and "ETA" in line for line in lines)
    assert lines[-1].startswith("[detach d-web-01-logs] ✓ done") and "disk now Available · took" in lines[-1]


def test_undo_reattaches_from_the_journal(nb: notebook.Workbench) -> None:
    nb.detach(nb.plan("d-web-01-data"), confirm="d-web-01-data")
    undo = nb.undo_plan("d-web-01-data")
    with pytest.raises(notebook.ConfirmationRequired):
        nb.undo(undo)
    result = nb.undo(undo, confirm="d-web-01-data")
    assert result.outcome is Outcome.DONE
    assert nb.client.get_disk("d-web-01-data").attached_instance_ids == ("i-web-01",)
    actions = [row["action"] for row in nb.journal_table().to_records()]
    assert actions == ["DetachDisk", "AttachDisk"]


def test_undo_without_a_journaled_detach_says_so(nb: notebook.Workbench) -> None:
    with pytest.raises(notebook.NotebookError, match="nothing to undo"):
        nb.undo_plan("d-web-02-data")


class Interrupting(Recorder):
    """Ctrl-C (a kernel interrupt) arrives while the progress line shows the wait."""

    def update(self, event: ProgressEvent) -> None:
        super().update(event)
        if event.phase == "wait-disk-detached":
            raise KeyboardInterrupt


class Patient(notebook.Workbench):
    """Waits until cancelled, so the interrupt surely lands during the wait; a wait no interrupt ended
    fails the run (the manual clock never moves, so waiting on would never end)."""

    def _sleep(self, token: CancelToken) -> Callable[[float], object]:
        def wait(seconds: float) -> None:
            if not token.wait(30):
                raise AssertionError("the interrupt never cancelled the wait")

        return wait


def test_an_interrupt_stops_the_wait_but_not_the_detach_and_the_journal_stays_consistent(
    nb: notebook.Workbench,
) -> None:
    bench = Patient(nb.session, nb.journal, Interrupting)
    result = bench.detach(bench.plan("d-web-01-data"), confirm="d-web-01-data")
    assert result.outcome is Outcome.CANCELLED
    assert "goes on in the cloud" in result.message
    assert nb.journal.pending() == []  # intent and outcome both written
    [(_, outcome)] = nb.journal.operations()
    assert outcome is not None and outcome.result == Result.OK
    assert _disk_status(nb, "d-web-01-data") == "Detaching"  # the operation goes on server-side
    nb.advance(60)
    followed = nb.follow("d-web-01-data", "i-web-01")
    assert followed.outcome is Outcome.DONE and followed.disk is not None
    assert followed.disk.status == "Available"


def test_reconcile_settles_an_intent_left_without_outcome(nb: notebook.Workbench) -> None:
    killed = Journal(nb.journal.path, owner=KILLED)
    intent = killed.intent("DetachDisk", disk_id="d-web-01-data", instance_id="i-web-01")
    nb.client.detach_disk("d-web-01-data", "i-web-01")  # sent, but the process "died" before the outcome
    [row] = nb.reconcile().to_records()
    assert row["result"] in (Result.IN_PROGRESS, Result.WENT_THROUGH)
    assert nb.journal.pending() == [] and intent.operation_id


def _killed_run(bench: notebook.Workbench, disk_id: str, instance_id: str) -> None:
    """What an earlier, killed run left: its StopInstance done and journaled, its DetachDisk sent but
    only its intent journaled. The disk is Detaching, the instance Stopped."""
    client, journal = bench.client, Journal(bench.journal.path, owner=KILLED)
    stop = journal.intent(
        "StopInstance",
        instance_id=instance_id,
        params={"InstanceId": instance_id},
        region="cn-hangzhou",
        context={"reason": f"detach {disk_id}"},
    )
    journal.outcome(stop, Result.OK, request_id=client.stop_instance(instance_id))
    bench.advance(10)
    journal.intent(
        "DetachDisk",
        disk_id=disk_id,
        instance_id=instance_id,
        params={"DiskId": disk_id, "InstanceId": instance_id},
        region="cn-hangzhou",
        context={"disk_type": "data"},
    )
    client.detach_disk(disk_id, instance_id)


def test_plan_resumes_a_killed_run_from_the_journal_and_starts_the_instance_it_stopped(
    nb: notebook.Workbench,
) -> None:
    _killed_run(nb, "d-metal-01-data", "i-metal-01")  # ecs.ebmg7.32xlarge: no hot detach, so it stopped
    start = "aliyun ecs StartInstance --RegionId cn-hangzhou --InstanceId i-metal-01 --profile demo"

    plan = nb.plan("d-metal-01-data")  # no restart asked: it follows the detach and says what is left
    assert plan.executable and plan.calls == ()
    assert [s.kind.value for s in plan.steps] == ["wait-disk-detached"]
    assert "Instance i-metal-01 was stopped by an earlier ecs-detach run" in str(plan)
    assert "Instance i-metal-01 is left Stopped" in str(plan) and start in str(plan)
    assert "left Stopped" in plan._repr_html_()  # type: ignore[attr-defined]

    plan = nb.plan("d-metal-01-data", restart=True)
    assert plan.calls == ("StartInstance",)
    assert start in plan.aliyun_commands
    assert "Start instance i-metal-01 again (stopped by an earlier run)" in str(plan)
    result = nb.detach(plan, confirm="d-metal-01-data")
    assert result.outcome is Outcome.DONE, result.message
    assert _disk_status(nb, "d-metal-01-data") == "Available"
    assert nb.client.get_instance("i-metal-01").status == "Running"
    assert [r["action"] for r in nb.emulator.requests if r["action"].endswith(("Instance", "Disk"))] == [
        "StopInstance",
        "DetachDisk",
        "StartInstance",
    ]  # no second DetachDisk
    assert nb.journal.stopped_by_us("i-metal-01") is None


# --- rendering ----------------------------------------------------------------------------------------------


def test_reports_plans_and_results_render_as_text_and_html(nb: notebook.Workbench) -> None:
    report = nb.check("d-jump-01-data")
    text = str(report)
    assert "✗ blocked" in text and "InstanceLockedForSecurity" in text and "security" in text
    page = report._repr_html_()  # type: ignore[attr-defined]
    assert "<table>" in page and "InstanceLockedForSecurity" in page

    plan = nb.plan("d-web-01-data")
    assert "aliyun ecs DetachDisk" in str(plan)
    plan_page = plan._repr_html_()  # type: ignore[attr-defined]
    assert "aliyun ecs DetachDisk --RegionId cn-hangzhou" in plan_page and "✓ can run" in plan_page

    refused = nb.plan("d-web-01-sys")
    assert "✗ cannot run" in refused._repr_html_()  # type: ignore[attr-defined]

    result = nb.detach(plan, confirm="d-web-01-data")
    assert "✓ done" in str(result) and "Available" in result._repr_html_()  # type: ignore[attr-defined]


def test_fleet_checks_show_verdicts_locks_and_reasons(nb: notebook.Workbench) -> None:
    checks = nb.check_fleet()
    by_disk = {(r["disk_id"], r["instance_id"]): r for r in checks.to_records()}
    jump = by_disk[("d-jump-01-data", "i-jump-01")]
    assert jump["verdict"] == "blocked" and jump["predicted_code"] == "InstanceLockedForSecurity"
    assert jump["locks"] == ("instance:security",)
    assert by_disk[("d-web-01-data", "i-web-01")]["verdict"] == "ready"
    assert by_disk[("d-web-01-sys", "i-web-01")]["verdict"] == "fixable"
    assert by_disk[("d-spare-01", "-")]["predicted_code"] == "-"
    # a multi-attach disk: one report per attachment
    assert {("d-cluster-shared", "i-cluster-node-1"), ("d-cluster-shared", "i-cluster-node-2")} <= set(
        by_disk
    )
    summary = str(checks.summary())
    assert "✗ blocked" in summary and "DiskNotPortable" in summary
    assert all(r["verdict"] == "blocked" for r in checks.blocked.to_records())
    page = checks._repr_html_()
    assert "d-vault-01-data" in page and "UserNotInTheWhiteList" in page


def test_to_pandas_is_optional(nb: notebook.Workbench) -> None:
    checks = nb.check_fleet(nb.inventory(["cn-hangzhou"]))
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            checks.to_pandas()
    else:
        assert len(checks.to_pandas()) == len(checks)


def test_write_csv_keeps_raw_values(nb: notebook.Workbench, tmp_path: Path) -> None:
    path = notebook.write_csv(nb.check_fleet(), tmp_path / "out" / "fleet.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    jump = next(r for r in rows if r["disk_id"] == "d-jump-01-data")
    assert jump["verdict"] == "blocked" and jump["locks"] == "instance:security"


def test_progress_prints_plain_lines_outside_jupyter(capsys: pytest.CaptureFixture[str]) -> None:
    line = notebook.ProgressLine("[detach d-1]")
    line.update(ProgressEvent("wait-disk-detached", "Waiting", "d-1", "i-1", "Detaching", 30.0, 30.0, 300.0))
    line.update(ProgressEvent("wait-disk-detached", "Waiting", "d-1", "i-1", "Detaching", 30.0, 30.0, 300.0))
    out = capsys.readouterr().out.splitlines()
    assert out == ["[detach d-1] ◐ [##########----------] Waiting · timeout 300 s"]


# --- bulk ---------------------------------------------------------------------------------------------------


def test_bulk_plan_resumes_a_killed_run_from_the_journal_and_starts_the_instance_it_stopped(
    nb: notebook.Workbench,
) -> None:
    _killed_run(nb, "d-metal-01-data", "i-metal-01")  # stopped i-metal-01, DetachDisk sent, then killed
    (plan,) = nb.bulk_plan(["d-metal-01-data"], restart=True)
    assert plan.executable and plan.calls == ("StartInstance",)  # follows the detach, then starts it
    assert "Start instance i-metal-01 again (stopped by an earlier run)" in str(plan)
    assert "stopped by an earlier ecs-detach run" in str(nb.bulk_table([plan]))

    report = nb.detach_all([plan], confirm=["d-metal-01-data"])
    assert report.ok, report.summary()
    assert "Instance i-metal-01 was started again." in report.results[0].message
    assert _disk_status(nb, "d-metal-01-data") == "Available"
    assert nb.client.get_instance("i-metal-01").status == "Running"
    assert [r["action"] for r in nb.emulator.requests if r["action"].endswith(("Instance", "Disk"))] == [
        "StopInstance",
        "DetachDisk",
        "StartInstance",
    ]  # one DetachDisk: the killed run's, followed
    assert nb.journal.stopped_by_us("i-metal-01") is None


def test_bulk_over_regions_needs_every_disk_named(nb: notebook.Workbench) -> None:
    inventory = nb.inventory()
    stopped = {i.instance_id for i in inventory.instances if i.status == "Stopped"}
    disks = [
        d for d in inventory.disks if d.type == "data" and any(i in stopped for i in d.attached_instance_ids)
    ]
    plans = nb.bulk_plan(disks)
    assert {p.region_id for p in plans} == {"cn-hangzhou", "cn-shanghai", "ap-southeast-1"}
    runnable = sorted(p.disk_id for p in plans if p.executable and not p.nothing_to_do)
    assert runnable
    with pytest.raises(notebook.ConfirmationRequired, match="name every disk"):
        nb.detach_all(plans)
    with pytest.raises(notebook.ConfirmationRequired, match="not named"):
        nb.detach_all(plans, confirm=runnable[1:])
    assert _sent(nb, "DetachDisk") == []
    report = nb.detach_all(plans, confirm=runnable)
    assert report.ok and [r.disk_id for r in report.results] == [p.disk_id for p in plans]
    assert "disk(s) done" in str(report)
    assert {r["disk_id"] for r in nb.journal_table().to_records()} == set(runnable)


# --- connecting ---------------------------------------------------------------------------------------------


def test_real_account_from_the_standard_chain_shows_only_a_masked_key(tmp_path: Path) -> None:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tNotebookTestKey",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "notebook-test-secret",
    }
    bench = notebook.connect(
        use_emulator=False, env=env, home=tmp_path, read_only=True, journal_path=tmp_path / "j.jsonl"
    )
    try:
        assert not bench.demo and bench.session.read_only
        shown = str(bench) + bench._repr_html_()
        assert "REAL ACCOUNT" in shown and "notebook-test-secret" not in shown
        assert "LTAI5tNotebookTestKey" not in shown
    finally:
        bench.close()


def test_missing_credentials_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(notebook.NotebookError, match="USE_EMULATOR = True"):
        notebook.connect(use_emulator=False, env={}, home=tmp_path)


def test_importing_the_module_pulls_in_neither_ipython_nor_textual_nor_httpx() -> None:
    code = (
        "import sys, ecs_detach.notebook; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('IPython', 'textual', 'httpx', 'tui')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_ipython_text_view_shows_tables_and_reports_not_reprs(nb: notebook.Workbench) -> None:
    pretty = pytest.importorskip("IPython.lib.pretty").pretty
    assert pretty(nb.regions()).startswith("Regions\nRegion")
    assert pretty(nb.check("d-web-01-data")).startswith("Verdict: ✓ ready")
    assert pretty(nb.plan("d-web-01-data")).startswith("Plan: detach disk d-web-01-data")
    assert pretty(nb.check_fleet()).startswith("Summary:")
    assert "key LTAI****Key" in pretty(nb)


class InterruptedByTheKernel(Recorder):
    """The kernel's interrupt (SIGINT → KeyboardInterrupt in the main thread) lands during the wait."""

    def update(self, event: ProgressEvent) -> None:
        super().update(event)
        if event.phase == "wait-disk-detached" and not getattr(self, "sent", False):
            self.sent = True
            import _thread

            _thread.interrupt_main()


def test_a_real_interrupt_signal_cancels_only_the_wait(nb: notebook.Workbench) -> None:
    bench = Patient(nb.session, nb.journal, InterruptedByTheKernel)
    result = bench.detach(bench.plan("d-web-01-logs"), confirm="d-web-01-logs")
    assert result.outcome is Outcome.CANCELLED
    assert nb.journal.pending() == []
    assert _disk_status(nb, "d-web-01-logs") == "Detaching"


def test_a_real_account_path_reads_waits_and_journals_through_the_standard_chain(tmp_path: Path) -> None:
    """USE_EMULATOR = False: credentials from the environment, an endpoint (here an emulator served over
    HTTP, answering at once), real-time waits, facts the API does not publish left unknown."""
    from ecs_detach.emulator import (
        EMULATOR_ACCESS_KEY_ID,
        EMULATOR_ACCESS_KEY_SECRET,
        Emulator,
        ImmediateClock,
    )

    emulator = Emulator(fleet="demo", clock=ImmediateClock())
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": EMULATOR_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": EMULATOR_ACCESS_KEY_SECRET,
    }
    server = emulator.serve_in_thread()
    try:
        bench = notebook.connect(
            use_emulator=False, endpoint=server.url, env=env, home=tmp_path, journal_path=tmp_path / "j.jsonl"
        )
        bench.progress_factory = Recorder
        try:
            assert not bench.demo and bench.emulator is None and bench.facts() is None
            checks = bench.check_fleet(bench.inventory(["cn-hangzhou"]))
            jump = next(r for r in checks.reports if r.disk_id == "d-jump-01-data")
            assert jump.verdict.value == "blocked"  # the lock is in the API's answer
            web = next(r for r in checks.reports if r.disk_id == "d-web-01-data")
            assert web.unknown_rows  # whitelist, hot-detach types, limits: the API decides
            with pytest.raises(notebook.NotebookError, match="real account"):
                bench.advance(60)
            result = bench.detach(bench.plan("d-web-01-data"), confirm="d-web-01-data")
            assert result.outcome is Outcome.DONE and bench.journal.pending() == []
            assert bench.client.get_disk("d-web-01-data").status == "Available"
        finally:
            bench.close()
    finally:
        server.stop()


def test_a_read_only_session_refuses_before_anything_is_journaled(tmp_path: Path) -> None:
    bench = notebook.connect(clock=ManualClock(), read_only=True, journal_path=tmp_path / "j.jsonl")
    try:
        plan = bench.plan("d-web-01-data")
        with pytest.raises(notebook.NotebookError, match="read-only; connect with read_only=False"):
            bench.detach(plan, confirm="d-web-01-data")
        with pytest.raises(notebook.NotebookError, match="read-only"):
            bench.detach_all([plan], confirm=["d-web-01-data"])
        assert bench.journal.records() == [] and _sent(bench, "DetachDisk") == []
    finally:
        bench.close()


@pytest.mark.anyio
async def test_detach_async_needs_the_same_confirmation_and_reports_progress(nb: notebook.Workbench) -> None:
    shown: list[Recorder] = []

    def factory(title: str) -> Recorder:
        shown.append(Recorder(title))
        return shown[-1]

    nb.progress_factory = factory
    plan = nb.plan("d-web-02-data")
    with pytest.raises(notebook.ConfirmationRequired):
        await nb.detach_async(plan)
    result = await nb.detach_async(plan, confirm="d-web-02-data")
    assert result.outcome is Outcome.DONE and _disk_status(nb, "d-web-02-data") == "Available"
    assert "disk now Available · took" in shown[-1].lines[-1]
    assert any("Waiting for disk d-web-02-data" in line for line in shown[-1].lines)


@pytest.mark.parametrize("remount", [True, False])
def test_undo_after_an_unmount_mounts_it_back_unless_told_not_to(
    nb: notebook.Workbench, remount: bool
) -> None:
    nb.detach(nb.plan("d-files-01-data", guest_check=True, unmount=True), confirm="d-files-01-data")
    undo = nb.undo_plan("d-files-01-data", remount=remount)
    assert undo.calls == (("AttachDisk", "RunCommand") if remount else ("AttachDisk",))
    assert nb.undo(undo, confirm="d-files-01-data").outcome is Outcome.DONE
    guest = nb.emulator.state()["Emulator"]["Guests"]["i-files-01"]
    assert [m["Mounted"] for m in guest["Mounts"] if m["DiskId"] == "d-files-01-data"] == [remount]


def test_a_detach_shows_its_operation_id_and_says_how_to_undo_it_in_the_notebook(
    nb: notebook.Workbench,
) -> None:
    shown: list[Recorder] = []

    def factory(title: str) -> Recorder:
        shown.append(Recorder(title))
        return shown[-1]

    nb.progress_factory = factory
    result = nb.detach(nb.plan("d-web-01-data"), confirm="d-web-01-data")
    [(intent, _)] = nb.journal.operations()
    assert intent.operation_id in str(result) and intent.operation_id in result._repr_html_()
    hint = "undo: nb.undo(nb.undo_plan('d-web-01-data'), confirm='d-web-01-data')"
    assert shown[-1].lines[-1].endswith(hint) and "ecs-detach" not in shown[-1].lines[-1]
    undone = nb.undo(nb.undo_plan("d-web-01-data"), confirm="d-web-01-data")  # the hint, as written
    assert undone.outcome is Outcome.DONE and "undo:" not in shown[-1].lines[-1]
    assert nb.client.get_disk("d-web-01-data").attached_instance_ids == ("i-web-01",)


def test_a_detach_that_did_not_go_through_names_no_undo_in_the_notebook(nb: notebook.Workbench) -> None:
    shown: list[Recorder] = []

    def factory(title: str) -> Recorder:
        shown.append(Recorder(title))
        return shown[-1]

    nb.progress_factory = factory
    nb.emulator.set_faults(rate=1.0, kinds=["internal_error"], actions=["DetachDisk"])
    result = nb.detach(nb.plan("d-web-01-data"), confirm="d-web-01-data")
    assert result.outcome is Outcome.FAILED
    assert "undo" not in shown[-1].lines[-1]
