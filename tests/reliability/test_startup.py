"""Start-up: a Ctrl-C before the command has taken over, and an output that cannot encode UTF-8."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A Ctrl-C that lands while the subcommand's modules are still being imported (the first tens of ms),
# made deterministic: the import of ecs_detach.commands raises KeyboardInterrupt as SIGINT would there.
INTERRUPTED_IMPORT = """
import builtins, sys
real_import = builtins.__import__
def interrupted(name, *args, **kw):
    if name in ("ecs_detach.commands", "ecs_detach.emulator.server"):
        raise KeyboardInterrupt
    return real_import(name, *args, **kw)
builtins.__import__ = interrupted
from ecs_detach.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD")}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"), **extra)
    return env


@pytest.mark.parametrize("argv", [["disks", "--demo"], ["emulator", "--port", "0"]])
def test_ctrl_c_during_start_up_is_one_line_and_exit_1(tmp_path: Path, argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_IMPORT, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "ecs-detach: interrupted (Ctrl-C) before anything was changed"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_an_output_that_is_not_utf8_gets_replacement_characters(tmp_path: Path, encoding: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecs_detach.cli", "detach", "d-web-02-data", "--demo", "--yes", "--no-wait"],
        capture_output=True,
        timeout=60,
        env=_env(tmp_path, PYTHONIOENCODING=encoding, LANG="C", LC_ALL="C"),
    )
    out, err = result.stdout.decode(encoding), result.stderr.decode(encoding)
    assert result.returncode == 0, err
    assert "unexpected error" not in err and "Traceback" not in err
    assert "Disk d-web-02-data" in out and "?" in out  # the ✓ and the arrows, replaced
