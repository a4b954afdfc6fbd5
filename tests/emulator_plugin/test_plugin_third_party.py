"""The pytest plugin as a third party meets it: a project outside this tree whose tests use the fixtures.

The project is written to a temporary directory and run by pytest in a child process, with nothing of
ours on its path but the installed package. The plugin comes in through the ``pytest11`` entry point that
pyproject.toml declares: a small distribution record carrying that same entry point stands in for the
installed metadata (which a merge makes real after `pip install -e .`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

THIRD_PARTY_TEST = """
from alibabacloud_ecs20140526 import models
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.models import Config


def sdk(ecs):
    creds = ecs.credentials
    return Client(Config(access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
                         endpoint=ecs.endpoint, protocol="http", region_id=creds.region_id))


def test_detach_with_the_official_sdk(ecs_emulator):
    client = sdk(ecs_emulator)
    client.detach_disk(models.DetachDiskRequest(disk_id="d-web-01-data", instance_id="i-web-01"))
    ecs_emulator.advance(60)
    wanted = models.DescribeDisksRequest(region_id="cn-hangzhou", disk_ids='["d-web-01-data"]')
    reply = client.describe_disks(wanted)
    assert reply.body.disks.disk[0].status == "Available"
    assert [r["action"] for r in ecs_emulator.requests] == ["DetachDisk", "DescribeDisks"]


def test_the_next_test_starts_clean(ecs_emulator):
    assert ecs_emulator.requests == []
    disk = next(d for d in ecs_emulator.state()["Disks"] if d["DiskId"] == "d-web-01-data")
    assert disk["Status"] == "In_use"


def test_the_server_in_a_child_process(ecs_emulator_server):
    client = sdk(ecs_emulator_server)
    reply = client.describe_instance_status(models.DescribeInstanceStatusRequest(region_id="cn-hangzhou"))
    assert reply.body.total_count == 27
    assert [r["action"] for r in ecs_emulator_server.requests] == ["DescribeInstanceStatus"]
"""


def _entry_point() -> tuple[str, str]:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    ((name, target),) = declared.items()
    return name, target


@pytest.mark.slow
def test_a_project_outside_the_tree_uses_the_fixtures(tmp_path: Path) -> None:
    project = tmp_path / "thirdparty"
    project.mkdir()
    (project / "test_their_script.py").write_text(textwrap.dedent(THIRD_PARTY_TEST))
    name, target = _entry_point()
    assert target == "ecs_detach.emulator.pytest_plugin"
    meta = tmp_path / "site" / "ecs_detach_entry_point_probe-0.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: ecs-detach-entry-point-probe\nVersion: 0\n")
    (meta / "entry_points.txt").write_text(f"[pytest11]\n{name} = {target}\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path / "site")]))
    env.pop("PYTEST_ADDOPTS", None)
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(project),
            str(project),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "3 passed" in ran.stdout
