"""The rest of the official chain (ECS instance RAM role, OIDC/RRSA, credentials URI, RAM role profiles),
through the official providers, against local stand-ins of the metadata service and STS; and what an
operator sees when those calls fail: one line, the key id masked, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from credential_standins import ISSUED_KEY_ID, ISSUED_SECRET, ISSUED_TOKEN, StandIn, StandInServer

from ecs_detach.credentials import ProviderCredentials, resolve
from ecs_detach.errors import CredentialsError

pytest.importorskip("alibabacloud_credentials")

PROFILE_KEY_ID = "LTAI5tRoleSourceKey0001"
PROFILE_SECRET = "RoleSourceSecret0123456789"
ROLE_ARN = "acs:ram::1234567890:role/ecs-detach"


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """The stand-in server; the metadata service is reached through it (HTTP_PROXY), never for real."""
    with StandInServer() as state:
        monkeypatch.setenv("HTTP_PROXY", state.proxy)
        monkeypatch.delenv("http_proxy", raising=False)
        yield state


def write_cli_config(home: Path, *profiles: dict[str, object]) -> None:
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = str(profiles[0]["name"])
    path.write_text(json.dumps({"current": current, "profiles": list(profiles)}), encoding="utf-8")


def role_profile(stand_in: StandIn, **extra: object) -> dict[str, object]:
    return {
        "name": "role",
        "mode": "RamRoleArn",
        "access_key_id": PROFILE_KEY_ID,
        "access_key_secret": PROFILE_SECRET,
        "ram_role_arn": ROLE_ARN,
        "ram_session_name": "ops",
        "region_id": "cn-shanghai",
        "sts_endpoint": stand_in.url,
        **extra,
    }


def test_ecs_instance_ram_role_from_the_metadata_service(stand_in: StandIn, tmp_path: Path) -> None:
    config = resolve(env={"ALIBABA_CLOUD_ECS_METADATA": stand_in.role_name}, home=tmp_path)
    assert isinstance(config.credentials, ProviderCredentials)
    assert config.source == f"ECS instance RAM role {stand_in.role_name}"
    creds = config.credentials.current()
    assert (creds.access_key_id, creds.access_key_secret, creds.security_token) == (
        ISSUED_KEY_ID,
        ISSUED_SECRET,
        ISSUED_TOKEN,
    )
    calls = stand_in.metadata_calls()
    assert [(call.method, call.path) for call in calls] == [
        ("PUT", "/latest/api/token"),
        ("GET", f"/latest/meta-data/ram/security-credentials/{stand_in.role_name}"),
    ]
    assert calls[1].headers.get("X-aliyun-ecs-metadata-token") == "metadata-token-from-stand-in"


def test_ecs_ram_role_profile_goes_to_the_metadata_service(stand_in: StandIn, tmp_path: Path) -> None:
    write_cli_config(tmp_path, {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": stand_in.role_name})
    config = resolve(env={}, home=tmp_path)
    assert config.credentials.current().access_key_id == ISSUED_KEY_ID
    assert config.profile_name == "ecs" and len(stand_in.metadata_calls()) == 2


def test_metadata_is_not_probed_unasked_or_when_disabled(stand_in: StandIn, tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_ECS_METADATA not set"):
        resolve(env={}, home=tmp_path)
    env = {"ALIBABA_CLOUD_ECS_METADATA": "r", "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
    with pytest.raises(CredentialsError, match="no credentials found"):
        resolve(env=env, home=tmp_path)
    assert stand_in.seen == []


def test_ram_role_arn_profile_assumes_the_role_at_its_sts_endpoint(stand_in: StandIn, tmp_path: Path) -> None:
    write_cli_config(tmp_path, role_profile(stand_in))
    config = resolve(env={}, home=tmp_path)
    assert config.region_id == "cn-shanghai" and config.credentials.provider == "cli_profile/RamRoleArn"
    assert config.credentials.current().security_token == ISSUED_TOKEN
    (call,) = stand_in.sts_calls()
    assert call.query["Action"] == "AssumeRole" and call.query["RoleArn"] == ROLE_ARN
    assert call.query["AccessKeyId"] == PROFILE_KEY_ID and call.query["RoleSessionName"] == "ops"
    assert "Signature" in call.query and PROFILE_SECRET not in json.dumps(call.query)


def test_ini_ram_role_arn_section_with_the_sts_endpoint_from_the_environment(
    stand_in: StandIn, tmp_path: Path
) -> None:
    ini = tmp_path / ".alibabacloud" / "credentials.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(
        f"[default]\ntype = ram_role_arn\naccess_key_id = {PROFILE_KEY_ID}\n"
        f"access_key_secret = {PROFILE_SECRET}\nrole_arn = {ROLE_ARN}\nrole_session_name = ini\n",
        encoding="utf-8",
    )
    config = resolve(env={"ALIBABA_CLOUD_STS_ENDPOINT": stand_in.url}, home=tmp_path)
    assert config.credentials.current().access_key_id == ISSUED_KEY_ID
    assert stand_in.sts_calls()[0].query["RoleSessionName"] == "ini"


def test_oidc_rrsa_from_the_environment(stand_in: StandIn, tmp_path: Path) -> None:
    token = tmp_path / "oidc-token"
    token.write_text("eyJ.oidc.token", encoding="utf-8")
    env = {
        "ALIBABA_CLOUD_ROLE_ARN": ROLE_ARN,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1234567890:oidc-provider/ack",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token),
        "ALIBABA_CLOUD_STS_ENDPOINT": stand_in.url,
    }
    write_cli_config(tmp_path, role_profile(stand_in))  # OIDC comes before the profiles, as in the chain
    config = resolve(env=env, home=tmp_path)
    assert config.source == "OIDC (RRSA) environment variables"
    assert config.credentials.current().access_key_id == ISSUED_KEY_ID
    (call,) = stand_in.sts_calls()
    assert call.query["Action"] == "AssumeRoleWithOIDC" and call.query["RoleArn"] == ROLE_ARN


def test_credentials_uri_comes_last(stand_in: StandIn, tmp_path: Path) -> None:
    env = {"ALIBABA_CLOUD_CREDENTIALS_URI": f"{stand_in.url}/credentials"}
    config = resolve(env=env, home=tmp_path)
    assert config.source == "ALIBABA_CLOUD_CREDENTIALS_URI"
    assert config.credentials.current().access_key_id == ISSUED_KEY_ID
    with pytest.raises(CredentialsError, match="not an http"):
        resolve(env={"ALIBABA_CLOUD_CREDENTIALS_URI": "file:///etc/passwd"}, home=tmp_path)


def test_environment_keys_still_come_first(stand_in: StandIn, tmp_path: Path) -> None:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tEnvironmentKey01",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s",
        "ALIBABA_CLOUD_ECS_METADATA": "r",
        "ALIBABA_CLOUD_CREDENTIALS_URI": f"{stand_in.url}/credentials",
    }
    assert resolve(env=env, home=tmp_path).credentials.current().access_key_id == "LTAI5tEnvironmentKey01"
    assert stand_in.seen == []


def test_a_failing_sts_call_is_one_masked_line_and_nothing_on_stderr(
    stand_in: StandIn, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    stand_in.fail = 403
    write_cli_config(tmp_path, role_profile(stand_in))
    config = resolve(env={}, home=tmp_path)
    for _ in range(3):  # every request asks again; none may print
        with pytest.raises(CredentialsError) as caught:
            config.credentials.current()
        text = str(caught.value)
        assert "could not obtain credentials (cli_profile/RamRoleArn)" in text and "403" in text
        assert PROFILE_KEY_ID not in text and "LTAI****001" in text and "\n" not in text
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def ecs_detach(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "ECS_DETACH_"))}
    clean.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"), **env)
    clean.pop("XDG_CONFIG_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "ecs_detach.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=clean,
        timeout=60,
    )


@pytest.mark.parametrize("mode", ["RamRoleArn", "EcsRamRole"])
def test_the_cli_says_one_line_with_the_key_masked_and_exits_2(
    stand_in: StandIn, tmp_path: Path, mode: str
) -> None:
    stand_in.fail = 500
    if mode == "RamRoleArn":
        write_cli_config(tmp_path, role_profile(stand_in))
    else:
        write_cli_config(tmp_path, {"name": "role", "mode": "EcsRamRole", "ram_role_name": "EcsDetachRole"})
    ran = ecs_detach(tmp_path, "instances", "--profile", "role", HTTP_PROXY=stand_in.proxy)
    assert ran.returncode == 2, ran.stderr
    assert "Traceback" not in ran.stderr and PROFILE_KEY_ID not in ran.stderr + ran.stdout
    errors = [line for line in ran.stderr.splitlines() if line.strip()]
    assert errors[0].startswith(
        f"ecs-detach instances: credentials: could not obtain credentials (cli_profile/{mode})"
    )
    assert len(errors) <= 2 and errors[-1].lstrip().startswith("what to do:")
    assert ran.stdout == ""


def test_opening_a_session_asks_the_provider_once_so_the_tui_gets_one_error(
    stand_in: StandIn, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The TUI opens its session with ``open_client``: a failing role is one CredentialsError there (the
    set-up screen shows it), before any client, worker or screen exists."""
    from ecs_detach.session import open_client

    stand_in.fail = 403
    write_cli_config(tmp_path, role_profile(stand_in))
    with pytest.raises(CredentialsError, match=r"could not obtain credentials \(cli_profile/RamRoleArn\)"):
        open_client(profile="role", env={}, home=tmp_path)
    assert len(stand_in.sts_calls()) == 1 and capfd.readouterr().err == ""
    stand_in.fail = 0
    session = open_client(profile="role", env={}, home=tmp_path)
    assert (
        session.masked_key_id == "STS.****n01" and session.endpoint == "https://ecs.cn-shanghai.aliyuncs.com"
    )
