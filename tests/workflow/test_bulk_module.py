"""The bulk machinery lives in ``ecs_detach.bulk``; ``ecs_detach.workflow`` still offers its public names, and
either module may be imported first (bulk builds on `ecs_detach.detach`, not on workflow: no import cycle)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ecs_detach import bulk, workflow

_NAMES = ("BulkItem", "BulkReport", "prepare_bulk", "run_bulk")


def test_workflow_still_offers_the_bulk_api() -> None:
    for name in _NAMES:
        assert getattr(workflow, name) is getattr(bulk, name)
        assert name in workflow.__all__


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = workflow.no_such_thing  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "statement",
    [
        "import ecs_detach.bulk; from ecs_detach.workflow import run_bulk",
        "from ecs_detach.workflow import BulkItem, BulkReport, prepare_bulk, run_bulk",
        "from ecs_detach.workflow import *; run_bulk, BulkItem",
        "from ecs_detach.bulk import run_bulk as r; import ecs_detach.workflow as w; assert w.run_bulk is r",
    ],
)
def test_either_module_may_be_imported_first(statement: str) -> None:
    done = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
