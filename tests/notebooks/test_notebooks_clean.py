"""The notebooks are committed without outputs: readable diffs, and no stale (or secret) output in git."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_three_notebooks_are_there() -> None:
    assert [p.name for p in PATHS] == [
        "01-explore-fleet.ipynb",
        "02-guided-detach.ipynb",
        "03-fleet-investigation.ipynb",
    ]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_no_outputs_and_no_execution_counts(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"
    )
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in notebook.metadata


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_a_story_with_one_switch_cell_defaulting_to_the_emulator(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    prose = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    assert len(prose) >= 5, f"{path.name}: a notebook tells a story in prose, not just code"
    switches = [cell for cell in notebook.cells if "SWITCH" in cell.source and cell.cell_type == "code"]
    assert len(switches) == 1 and "USE_EMULATOR = True" in switches[0].source
