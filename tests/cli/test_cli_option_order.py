"""Shared options written before a subcommand (``ecs-detach --demo check d-1``) work as after it."""

from __future__ import annotations

import subprocess
import sys

from ecs_detach.cli import subcommand_first


def test_shared_options_before_a_subcommand_move_after_it() -> None:
    assert subcommand_first(["--demo", "check", "d-1"]) == ["check", "--demo", "d-1"]
    assert subcommand_first(["--region", "cn-shanghai", "--demo", "disks", "--json"]) == [
        "disks",
        "--region",
        "cn-shanghai",
        "--demo",
        "--json",
    ]
    assert subcommand_first(["--profile=prod", "journal"]) == ["journal", "--profile=prod"]


def test_the_tui_face_and_unknown_words_are_left_alone() -> None:
    assert subcommand_first(["--demo"]) == ["--demo"]
    assert subcommand_first(["--demo", "--read-only"]) == ["--demo", "--read-only"]
    assert subcommand_first(["--demo", "nonsense"]) == ["--demo", "nonsense"]
    assert subcommand_first(["--region", "check"]) == ["--region", "check"]  # a value, not a subcommand


def test_demo_before_check_runs_the_check() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ecs_detach.cli", "--demo", "check", "d-web-01-data", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"disk_id": "d-web-01-data"' in done.stdout or "d-web-01-data" in done.stdout
    assert "unrecognized arguments" not in done.stderr
