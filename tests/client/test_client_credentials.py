"""Credentials: the official chain's order, profiles, protection, masking, and clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ecs_detach.credentials import (
    Credentials,
    LegacyProtectionWarning,
    ProviderCredentials,
    mask_key_id,
    resolve,
)
from ecs_detach.errors import CredentialsError

KEY_ID = "LTAI5tProfileKeyId0001"
SECRET = "ProfileSecretValue0123456789"
ENV_AK = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tEnvironmentKey01",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "EnvSecret99",
}


def write_cli_config(home: Path, profiles: list[dict[str, object]], current: str = "default") -> Path:
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"current": current, "profiles": profiles}), encoding="utf-8")
    return path


def write_ini(home: Path, text: str) -> Path:
    path = home / ".alibabacloud" / "credentials.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def ak_profile(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "mode": "AK", "access_key_id": KEY_ID, "access_key_secret": SECRET, **extra}


def test_environment_variables_come_first(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [ak_profile("default")])
    config = resolve(env={**ENV_AK, "ALIBABA_CLOUD_REGION_ID": "cn-beijing"}, home=tmp_path)
    creds = config.credentials.current()
    assert creds.access_key_id == "LTAI5tEnvironmentKey01"
    assert config.source == "environment variables" and config.profile_name is None
    assert (config.region_id, config.region_source) == ("cn-beijing", "env")


def test_environment_sts_token(tmp_path: Path) -> None:
    env = {**ENV_AK, "ALIBABA_CLOUD_SECURITY_TOKEN": "CAIS/token=="}
    creds = resolve(env=env, home=tmp_path).credentials.current()
    assert creds.security_token == "CAIS/token==" and creds.provider == "env/static_sts"


def test_half_set_environment_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_ACCESS_KEY_ID is set but"):
        resolve(env={"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tX"}, home=tmp_path)


def test_cli_config_current_profile_with_its_region(tmp_path: Path) -> None:
    write_cli_config(
        tmp_path, [ak_profile("dev"), ak_profile("prod", region_id="cn-shanghai")], current="prod"
    )
    config = resolve(env={}, home=tmp_path)
    assert config.profile_name == "prod"
    assert config.source == "~/.aliyun/config.json"
    assert (config.region_id, config.region_source) == ("cn-shanghai", "profile")
    assert config.credentials.current().access_key_secret == SECRET


def test_profile_from_environment_then_flag_beats_it(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [ak_profile("a"), ak_profile("b"), ak_profile("c")], current="a")
    assert resolve(env={"ALIBABA_CLOUD_PROFILE": "b"}, home=tmp_path).profile_name == "b"
    assert resolve("c", env={"ALIBABA_CLOUD_PROFILE": "b"}, home=tmp_path).profile_name == "c"


def test_explicit_profile_beats_environment_keys(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [ak_profile("prod")])
    config = resolve("prod", env=ENV_AK, home=tmp_path)
    assert config.credentials.current().access_key_id == KEY_ID


def test_region_flag_wins(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [ak_profile("default", region_id="cn-shanghai")])
    config = resolve(region="ap-southeast-1", env={"ALIBABA_CLOUD_REGION_ID": "cn-beijing"}, home=tmp_path)
    assert (config.region_id, config.region_source) == ("ap-southeast-1", "flag")


def test_default_region_when_nothing_says(tmp_path: Path) -> None:
    assert resolve(env=ENV_AK, home=tmp_path).region_id == "cn-hangzhou"


def test_sts_profile(tmp_path: Path) -> None:
    profile = {**ak_profile("sts"), "mode": "StsToken", "sts_token": "CAIS-token"}
    write_cli_config(tmp_path, [profile], current="sts")
    creds = resolve(env={}, home=tmp_path).credentials.current()
    assert creds.security_token == "CAIS-token" and creds.provider == "cli_profile/static_sts"


def test_ini_default_section_and_named_section(tmp_path: Path) -> None:
    write_ini(
        tmp_path,
        f"[default]\ntype = access_key  # inline comment\naccess_key_id = {KEY_ID}\n"
        f"access_key_secret = {SECRET}\n"
        f"[other]\naccess_key_id = LTAI5tOtherKeyId99\naccess_key_secret = x\nregion_id = eu-central-1\n",
    )
    config = resolve(env={}, home=tmp_path)
    assert config.profile_name == "default" and config.source == "~/.alibabacloud/credentials.ini"
    other = resolve(env={"ALIBABA_CLOUD_PROFILE": "other"}, home=tmp_path)
    assert other.credentials.current().access_key_id == "LTAI5tOtherKeyId99"
    assert other.region_id == "eu-central-1"


def test_credentials_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.ini"
    path.write_text(f"[default]\naccess_key_id = {KEY_ID}\naccess_key_secret = {SECRET}\n", encoding="utf-8")
    config = resolve(env={"ALIBABA_CLOUD_CREDENTIALS_FILE": str(path)}, home=tmp_path)
    assert config.credentials.current().access_key_id == KEY_ID
    with pytest.raises(CredentialsError, match="does not exist"):
        resolve(env={"ALIBABA_CLOUD_CREDENTIALS_FILE": str(tmp_path / "nope.ini")}, home=tmp_path)


def test_cli_profile_disabled_falls_through_to_ini(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [ak_profile("default")])
    write_ini(tmp_path, "[default]\naccess_key_id = LTAI5tFromIniFile00\naccess_key_secret = s\n")
    config = resolve(env={"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"}, home=tmp_path)
    assert config.credentials.current().access_key_id == "LTAI5tFromIniFile00"


def test_nothing_configured_says_what_was_checked_and_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve(env={}, home=tmp_path)
    error = caught.value
    text = str(error)
    assert text.startswith("no credentials found; checked environment variables")
    assert "config.json: not found" in text and "credentials.ini: not found" in text
    assert "To configure credentials, set ALIBABA_CLOUD_ACCESS_KEY_ID" in text and "ecs-detach --demo" in text
    assert "--demo" in error.remedy and "\n" not in text
    assert error.problem.startswith("no credentials found") and "--demo" not in error.problem


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [ak_profile("dev"), ak_profile("prod")])
    with pytest.raises(CredentialsError, match=r"unknown profile 'staging' given by --profile.*dev, prod"):
        resolve("staging", env={}, home=tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"current": "default", "profiles": [', "not valid JSON"),
        ('["just", "a", "list"]', "malformed"),
    ],
)
def test_malformed_cli_config(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CredentialsError, match=expected):
        resolve(env={}, home=tmp_path)


def test_malformed_ini(tmp_path: Path) -> None:
    write_ini(tmp_path, "access_key_id = no section header\n")
    with pytest.raises(CredentialsError, match="not a valid INI file"):
        resolve(env={}, home=tmp_path)


def test_missing_fields_are_named(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [{"name": "default", "mode": "AK", "access_key_id": KEY_ID}])
    with pytest.raises(CredentialsError, match=r"profile 'default' .* has no access_key_secret"):
        resolve(env={}, home=tmp_path)
    write_cli_config(tmp_path, [{**ak_profile("default"), "mode": "StsToken"}])
    with pytest.raises(CredentialsError, match="has no sts_token"):
        resolve(env={}, home=tmp_path)


def test_unsupported_mode(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [{"name": "default", "mode": "BearerToken", "bearer_token": "x"}])
    with pytest.raises(CredentialsError, match="mode 'BearerToken', which ecs-detach does not support"):
        resolve(env={}, home=tmp_path)


def test_other_modes_go_through_the_official_library(tmp_path: Path) -> None:
    write_cli_config(tmp_path, [{"name": "default", "mode": "EcsRamRole", "ram_role_name": "MyRole"}])
    config = resolve(env={}, home=tmp_path)
    assert isinstance(config.credentials, ProviderCredentials)
    assert config.credentials.provider == "cli_profile/EcsRamRole"
    assert config.masked_key_id == "(cli_profile/EcsRamRole)"


def test_other_modes_without_the_library_say_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "alibabacloud_credentials", None)
    monkeypatch.setitem(sys.modules, "alibabacloud_credentials.provider", None)
    write_cli_config(
        tmp_path, [{"name": "default", "mode": "RamRoleArn", "ram_role_arn": "acs:ram::1:role/x"}]
    )
    with pytest.raises(CredentialsError, match=r"pip install 'ecs-detach\[credentials\]'"):
        resolve(env={}, home=tmp_path)
    write_ini(tmp_path, "[default]\ntype = ecs_ram_role\nrole_name = r\n")
    with pytest.raises(CredentialsError, match="alibabacloud-credentials library"):
        resolve(env={"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"}, home=tmp_path)


def test_provider_failures_become_credentials_errors() -> None:
    class Broken:
        def get_credentials(self) -> object:
            raise RuntimeError("metadata service unreachable\nTraceback ...")

    with pytest.raises(CredentialsError, match="metadata service unreachable") as caught:
        ProviderCredentials(Broken(), label="cli_profile/EcsRamRole").current()
    assert "Traceback" not in str(caught.value)


def test_protected_by_profile_key_env_list_or_region(tmp_path: Path) -> None:
    write_cli_config(
        tmp_path, [ak_profile("prod", ecs_detach_protected=True), ak_profile("dev")], current="dev"
    )
    with pytest.warns(LegacyProtectionWarning, match=r"\[profiles.prod\] protected = true"):
        assert resolve("prod", env={}, home=tmp_path).protected
    assert not resolve("dev", env={}, home=tmp_path).protected
    assert resolve("dev", env={"ECS_DETACH_PROTECTED_PROFILES": "qa, dev"}, home=tmp_path).protected
    assert resolve(env={**ENV_AK, "ECS_DETACH_PROTECTED_PROFILES": "env"}, home=tmp_path).protected
    regions = {"ECS_DETACH_PROTECTED_REGIONS": "cn-shanghai"}
    assert resolve("dev", region="cn-shanghai", env=regions, home=tmp_path).protected
    assert not resolve("dev", region="cn-beijing", env=regions, home=tmp_path).protected
    write_ini(
        tmp_path,
        "[default]\naccess_key_id = LTAI5tIniKey0001\naccess_key_secret = s\necs_detach_protected = true\n",
    )
    with pytest.warns(LegacyProtectionWarning, match="deprecated ecs_detach_protected key"):
        assert resolve(env={"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"}, home=tmp_path).protected


def test_secrets_are_masked_everywhere(tmp_path: Path) -> None:
    creds = Credentials("LTAI5tEmulatorDemoKey", "super-secret-value", "sts-token-value")
    for text in (repr(creds), str(creds), repr([creds]), f"{creds}"):
        assert "super-secret-value" not in text and "sts-token-value" not in text
        assert "LTAI5tEmulatorDemoKey" not in text and "LTAI****Key" in text
    write_cli_config(tmp_path, [ak_profile("default")])
    config = resolve(env={}, home=tmp_path)
    assert SECRET not in repr(config) and KEY_ID not in repr(config)
    assert mask_key_id("short") == "****"
