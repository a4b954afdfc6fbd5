"""Fitting the tools operators already use (issue 19), end to end against ``ecs-detach emulator``: the
version, ``python -m ecs_detach``, completion and the man page, ``detach --dry-run``, aliyun commands that
paste as is, ``ALIBABA_CLOUD_ENDPOINT``, and config.toml's protected profiles."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from cli_helpers import DEMO_SECRET, Served

from ecs_detach.cli_reference import TUI_OPTIONS, command_specs

CLI = [sys.executable, "-m", "ecs_detach.cli"]
MUTATING = {"DetachDisk", "AttachDisk", "StopInstance", "StartInstance"}


def run(
    served: Served, tmp_path: Path, *args: str, module: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", module] if module else CLI
    environment = served.env(tmp_path, **env)
    environment.pop("XDG_CONFIG_HOME", None)  # config.toml under the test's home
    result = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        timeout=60,
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert DEMO_SECRET not in result.stdout + result.stderr
    return result


@pytest.fixture
def emu(served: Served) -> Served:
    served.reset()
    return served


def write_profile(home: Path, name: str) -> None:
    """An aliyun CLI profile holding the emulator's key."""
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "name": name,
        "mode": "AK",
        "access_key_id": "LTAI5tEmulatorDemoKey",
        "access_key_secret": DEMO_SECRET,
        "region_id": "cn-hangzhou",
    }
    path.write_text(json.dumps({"current": name, "profiles": [profile]}), encoding="utf-8")


def write_toml(home: Path, text: str) -> Path:
    path = home / ".config" / "ecs-detach" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_version_prints_the_installed_version(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "--version")
    assert result.returncode == 0 and result.stdout == f"ecs-detach {version('ecs-detach')}\n"


def test_python_dash_m_ecs_detach_help_works(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "--help", module="ecs_detach")
    assert result.returncode == 0 and "usage: ecs-detach" in result.stdout
    listed = run(emu, tmp_path, "instances", "--endpoint", emu.url, "--json", module="ecs_detach")
    assert listed.returncode == 0 and json.loads(listed.stdout)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_with_every_command_and_option(
    emu: Served, tmp_path: Path, shell: str
) -> None:
    result = run(emu, tmp_path, "completion", shell)
    assert result.returncode == 0, result.stderr
    script = result.stdout
    for spec in command_specs()[1:]:
        assert spec.name in script
    assert "dry-run" in script and "stop-instance" in script and "StopCharging" in script
    checker = {"bash": "bash", "zsh": "zsh", "fish": "fish"}[shell]
    if shutil.which(checker):
        checked = subprocess.run([checker, "-n"], input=script, capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr


def test_completion_without_a_shell_is_bad_usage(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "completion", "tcsh")
    assert result.returncode == 2 and "name one shell: bash, zsh, fish" in result.stderr


def test_the_man_page_is_generated_from_the_parsers(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "man")
    assert result.returncode == 0 and result.stdout.startswith(".TH ECS\\-DETACH 1")
    page = result.stdout
    for spec in command_specs():
        for option in spec.options:
            assert option.flags[0].replace("-", "\\-") in page
    assert "ALIBABA_CLOUD_ENDPOINT" in page and "config.toml" in page and ".SH EXIT STATUS" in page
    if shutil.which("groff"):
        rendered = subprocess.run(
            ["groff", "-man", "-Tutf8", "-ww"], input=page, capture_output=True, text=True, timeout=30
        )
        assert rendered.returncode == 0 and "warning" not in rendered.stderr


def test_the_tui_options_the_reference_repeats_are_the_tuis() -> None:
    from tui.app import parse_args

    parsed = vars(parse_args([]))
    assert {option.flags[0].lstrip("-").replace("-", "_") for option in TUI_OPTIONS} == set(parsed)


def test_dry_run_json_prints_the_plan_and_sends_nothing(emu: Served, tmp_path: Path) -> None:
    write_profile(tmp_path, "ops")
    args = ("detach", "d-web-01-data", "--profile", "ops", "--endpoint", emu.url, "--dry-run")
    result = run(emu, tmp_path, *args, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["result"] is None and data["exit_code"] == 0
    plan = data["plan"]
    assert plan["executable"] and [step["action"] for step in plan["steps"]] == ["DetachDisk", None]
    assert plan["eta_seconds"] > 0 and data["preconditions"]["verdict"] == "ready"
    host = emu.url.removeprefix("http://")
    for step in plan["steps"]:
        assert " --RegionId cn-hangzhou " in step["aliyun"]
        assert step["aliyun"].endswith(f" --profile ops --endpoint {host} --insecure")
    text = run(emu, tmp_path, *args)
    assert text.returncode == 0, text.stderr
    assert (
        "$ aliyun ecs DetachDisk --RegionId cn-hangzhou --InstanceId i-web-01 --DiskId d-web-01-data "
        f"--profile ops --endpoint {host} --insecure\n" in text.stdout
    )
    assert "Dry run: nothing was sent" in text.stdout
    sent = {request["action"] for request in emu.requests()}
    assert sent and not sent & MUTATING  # it read the disk and the instance, and changed nothing


def test_dry_run_of_a_blocked_detach_exits_3_and_sends_nothing(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "detach", "d-jump-01-data", "--endpoint", emu.url, "--dry-run", "--json")
    assert result.returncode == 3, result.stderr
    assert json.loads(result.stdout)["plan"]["executable"] is False
    assert not {request["action"] for request in emu.requests()} & MUTATING


def test_a_dry_run_on_a_protected_profile_needs_no_arming(emu: Served, tmp_path: Path) -> None:
    write_profile(tmp_path, "prod")
    write_toml(tmp_path, "[profiles.prod]\nprotected = true\n")
    result = run(
        emu, tmp_path, "detach", "d-web-01-data", "--profile", "prod", "--endpoint", emu.url, "--dry-run"
    )
    assert result.returncode == 0, result.stderr


def test_alibaba_cloud_endpoint_is_where_the_commands_read(emu: Served, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "instances", "--json", ALIBABA_CLOUD_ENDPOINT=emu.url)
    assert result.returncode == 0, result.stderr
    assert {row["instance_id"] for row in json.loads(result.stdout)["instances"]} >= {"i-web-01"}
    assert [request["action"] for request in emu.requests()][-1] == "DescribeInstances"


def test_a_profile_protected_in_config_toml_refuses_detach_yes_and_sends_nothing(
    emu: Served, tmp_path: Path
) -> None:
    write_profile(tmp_path, "prod")
    write_toml(tmp_path, "[profiles.prod]\nprotected = true\n")
    result = run(
        emu, tmp_path, "detach", "d-web-01-data", "--yes", "--profile", "prod", "--endpoint", emu.url
    )
    assert result.returncode == 2
    assert (
        "profile 'prod' is protected (profile 'prod' is protected in ~/.config/ecs-detach/config.toml)"
        in (result.stderr)
    )
    assert "nothing was sent" in result.stderr
    assert emu.requests() == []


def test_a_config_toml_that_is_not_toml_is_exit_2_naming_the_file_and_line(
    emu: Served, tmp_path: Path
) -> None:
    write_profile(tmp_path, "prod")
    write_toml(tmp_path, "[profiles.prod]\nprotected = true\nprotected = false\n")
    result = run(emu, tmp_path, "instances", "--profile", "prod", "--endpoint", emu.url)
    assert result.returncode == 2
    assert "~/.config/ecs-detach/config.toml is not valid TOML" in result.stderr and "line 3" in result.stderr
    assert emu.requests() == []
