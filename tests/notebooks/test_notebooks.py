"""Every notebook runs headless from a fresh kernel on the emulator, and shows what a reader must see.

The three notebooks run once each (module-scoped), in a temporary working directory with a temporary
TMPDIR and XDG_STATE_HOME, so nothing lands in the checkout or the user's journal.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ("01-explore-fleet.ipynb", "02-guided-detach.ipynb", "03-fleet-investigation.ipynb")
SECRETS = ("emulator-demo-secret", "LTAI5tEmulatorDemoKey")


def _same_python(argv0: str) -> bool:
    found = shutil.which(argv0)
    return found is not None and os.path.realpath(found) == os.path.realpath(sys.executable)


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A `python3` kernelspec running this interpreter (installed into a temp dir if missing), and a
    scratch environment for the kernels."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    scratch = tmp_path_factory.mktemp("notebooks")
    with pytest.MonkeyPatch.context() as patch:
        try:
            spec = KernelSpecManager().get_kernel_spec("python3")
            usable = _same_python(spec.argv[0])
        except NoSuchKernel:
            usable = False
        if not usable:
            from ipykernel.kernelspec import install

            prefix = scratch / "kernelspec"
            install(prefix=str(prefix), kernel_name="python3")
            jupyter_path = str(prefix / "share" / "jupyter")
            patch.setenv(
                "JUPYTER_PATH", os.pathsep.join(filter(None, [jupyter_path, os.environ.get("JUPYTER_PATH")]))
            )
        for name in [key for key in os.environ if key.startswith("ALIBABA_CLOUD_")]:
            patch.delenv(name)
        (scratch / "tmp").mkdir()
        patch.setenv("TMPDIR", str(scratch / "tmp"))
        patch.setenv("XDG_STATE_HOME", str(scratch / "state"))
        yield scratch


@pytest.fixture(scope="module")
def executed(kernel_env: Path) -> dict[str, tuple[Any, BaseException | None]]:
    """Each notebook executed from a fresh kernel: (the notebook with outputs, the error that stopped it)."""
    runs: dict[str, tuple[Any, BaseException | None]] = {}
    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            kernel_name="python3",
            timeout=60,
            resources={"metadata": {"path": str(kernel_env)}},
        )
        error: BaseException | None = None
        try:
            client.execute()
        except Exception as exc:  # CellExecutionError, a timeout, a dead kernel: reported by the tests
            error = exc
        runs[name] = (notebook, error)
    return runs


def _ran(executed: dict[str, tuple[Any, BaseException | None]], name: str) -> Any:
    notebook, error = executed[name]
    if error is not None:
        pytest.fail(f"{name} stopped with an error:\n{error}")
    return notebook


def _text(output: Any) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    data = output.get("data", {})
    return "\n".join(str(data.get(kind, "")) for kind in ("text/plain", "text/html"))


def _shown(notebook: Any, source_start: str) -> str:
    """Everything the code cell whose source starts with `source_start` shows."""
    cells = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    assert cells, f"no code cell starts with {source_start!r}"
    return "\n".join(_text(output) for cell in cells for output in cell.outputs)


# --- every notebook -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_runs_without_errors_or_warnings(
    executed: dict[str, tuple[Any, BaseException | None]], name: str
) -> None:
    notebook = _ran(executed, name)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{name}: error cell:\n{cell.source}"
            if output["output_type"] == "stream":
                assert output["name"] == "stdout", f"{name}: stderr in cell:\n{cell.source}\n{output['text']}"


@pytest.mark.parametrize("name", NAMES)
def test_secrets_never_appear_and_the_banner_says_demo(
    executed: dict[str, tuple[Any, BaseException | None]], name: str
) -> None:
    notebook = _ran(executed, name)
    everything = json.dumps([cell.get("outputs", []) for cell in notebook.cells], ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in everything
    [connect] = [c for c in notebook.cells if "notebook.connect(" in c.source]
    banner = "\n".join(_text(output) for output in connect.outputs)
    assert "DEMO (emulator)" in banner and "key LTAI****Key" in banner


# --- 01: explore the fleet ----------------------------------------------------------------------------------


def test_explore_shows_instances_disks_and_why_disks_are_blocked(
    executed: dict[str, tuple[Any, BaseException | None]],
) -> None:
    notebook = _ran(executed, "01-explore-fleet.ipynb")
    assert "cn-shanghai" in _shown(notebook, "nb.regions()")
    instances = _shown(notebook, "nb.instances()")
    assert "i-jump-01" in instances and "security" in instances and "● Running" in instances
    assert "d-web-01-data" in _shown(notebook, "INSTANCE_ID =")
    async_cell = _shown(notebook, "async with nb.async_client()")
    assert "AsyncEcsClient" in async_cell and "41 instances and 102 disks in 3 regions" in async_cell
    summary = _shown(notebook, "checks = nb.check_fleet(inventory)")
    assert "✓ ready" in summary and "✗ blocked" in summary and "InstanceLockedForSecurity" in summary
    blocked = _shown(notebook, "checks.blocked.table(")
    assert "d-jump-01-data" in blocked and "instance:security" in blocked and "d-web-01-data" not in blocked
    report = _shown(notebook, "report = nb.check(")
    assert "✗ blocked" in report and "<table>" in report


# --- 02: guided detach --------------------------------------------------------------------------------------


def test_guided_detach_refuses_without_confirmation_then_ends_available(
    executed: dict[str, tuple[Any, BaseException | None]],
) -> None:
    notebook = _ran(executed, "02-guided-detach.ipynb")
    assert "aliyun ecs DetachDisk --RegionId cn-hangzhou --InstanceId i-web-01 --DiskId d-web-01-data" in (
        _shown(notebook, "plan = nb.plan(DISK_ID)")
    )
    refusals = _shown(notebook, "try:\n    nb.detach(plan)")
    assert "Nothing was sent" in refusals and "confirm='d-web-01-data'" in refusals
    assert "confirm_stop='i-web-01'" in refusals
    run = _shown(notebook, "result = nb.detach(plan, confirm=DISK_ID)")
    assert "[detach d-web-01-data] ✓ done" in run and "disk now Available" in run
    [cell] = [c for c in notebook.cells if c.source.startswith("result = nb.detach(plan, confirm=DISK_ID)")]
    progress = [o for o in cell.outputs if "[detach d-web-01-data]" in _text(o)]
    assert len(progress) == 1, "the progress line is one display, updated in place"
    assert "d-web-01-data Available (attached nowhere)" in _shown(
        notebook, "disk = nb.client.get_disk(DISK_ID)"
    )


def test_guided_detach_journals_every_call_and_undoes_it(
    executed: dict[str, tuple[Any, BaseException | None]],
) -> None:
    notebook = _ran(executed, "02-guided-detach.ipynb")
    first = _shown(notebook, "nb.journal_table()")
    assert "DetachDisk" in first and "d-web-01-data" in first and "PENDING" not in first
    assert "disk now In_use" in _shown(notebook, "nb.undo(undo, confirm=DISK_ID)")
    stopped = _shown(notebook, "again = nb.plan(DISK_ID)")
    assert "timed-out · Detaching" in stopped  # the wait stopped; the detach went on
    assert "disk now Available" in _shown(notebook, "nb.follow(DISK_ID")
    history = _shown(notebook, "nb.undo(nb.undo_plan(DISK_ID)")
    rows = [line for line in history.splitlines() if "d-web-01-data" in line and " ok " in line]
    assert [("DetachDisk" in r, "AttachDisk" in r) for r in rows[:4]] == [(True, False), (False, True)] * 2


def test_guided_detach_snapshots_first_and_moves_the_disk_and_back(
    executed: dict[str, tuple[Any, BaseException | None]],
) -> None:
    notebook = _ran(executed, "02-guided-detach.ipynb")
    planned = _shown(notebook, "if USE_EMULATOR:\n    print(nb.plan(DISK_ID, snapshot=True))")
    assert "aliyun ecs CreateSnapshot --RegionId cn-hangzhou --DiskId d-web-01-data" in planned
    assert "billed" in planned and "ResourcesNotInSameZone" in planned
    described = _shown(notebook, "if USE_EMULATOR:\n    move = nb.move_plan(")
    assert "Plan: move disk d-web-01-data / instance i-web-01" in described
    assert "[pass] the disk and the target are in the same zone" in described
    moved = _shown(notebook, "if USE_EMULATOR:\n    moved = nb.move(move")
    assert "[move d-web-01-data to i-web-02] ✓ done" in moved
    assert "done · s-" in moved and "In_use on i-web-02" in moved
    back = _shown(notebook, "if USE_EMULATOR:\n    back = nb.move(")
    assert "moved from i-web-02 to i-web-01" in back


def test_guided_detach_checks_the_guest_and_unmounts_before_detaching(
    executed: dict[str, tuple[Any, BaseException | None]],
) -> None:
    notebook = _ran(executed, "02-guided-detach.ipynb")
    rows = _shown(notebook, "GUEST_DISK = ")
    assert "23.        fixable  Mounted in the guest at /data (ext4)" in rows
    assert "24.        fixable  /etc/fstab names the disk" in rows
    planned = _shown(notebook, "print(nb.plan(GUEST_DISK, guest_check=True).refusal)")
    assert "(--unmount)" in planned and "umount /data" in planned and "# ecs-detach: &" in planned
    released = _shown(notebook, "if USE_EMULATOR:\n    released = nb.detach(guest_plan")
    assert "done · Disk d-files-01-data is detached" in released
    assert "mounted now: ['/var/lib/app']" in released and "hazards: none" in released


# --- 03: fleet investigation --------------------------------------------------------------------------------


def test_investigation_finds_data_disks_on_stopped_instances_and_runs_the_bulk_plan(
    executed: dict[str, tuple[Any, BaseException | None]], kernel_env: Path
) -> None:
    notebook = _ran(executed, "03-fleet-investigation.ipynb")
    candidates = _shown(notebook, "candidates = [")
    assert "d-sh-cache-01-data" in candidates and "d-sg-cache-01-data" in candidates
    assert "d-db-replica-sys" not in candidates
    assert "name every disk" in _shown(notebook, "CONFIRM = [")
    assert "6 of 6 disk(s) done" in _shown(notebook, "report = nb.detach_all(")
    journal = _shown(notebook, "nb.journal_table()")
    assert journal.count("DetachDisk") >= 6 and "demo · ap-southeast-1" in journal

    out = kernel_env / "tmp" / "ecs-detach-investigation"
    lines = (out / "stopped-data-disks.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("disk_id,") and len(lines) == 7
    assert any(line.startswith("d-old-crm-01-data,") and "instance:refunded" in line for line in lines)
    results = (out / "bulk-results.csv").read_text(encoding="utf-8")
    assert results.count(",done,") == 6
