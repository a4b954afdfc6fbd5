"""The fault matrix's CLI runner, for any module that defines a ``served`` fixture (`matrix.serve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .fault_proxy import Rule
from .matrix import Run, Served


@pytest.fixture
def cli(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``cli(argv, *rules, reset=True) -> Run``: ``ecs-detach ARGV`` through the proxy, a journal per test."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def run(argv: list[str], *rules: Rule, reset: bool = True) -> Run:
        return served.run(argv, *rules, journal=tmp_path / "journal.jsonl", capsys=capsys, reset=reset)

    return run
