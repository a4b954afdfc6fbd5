"""ecs-detach's own config.toml (protection, journal, theme), and the aliyun CLI's ALIBABA_CLOUD_ENDPOINT and
ALIBABA_CLOUD_IGNORE_PROFILE, as ``resolve`` and ``open_client`` see them."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from ecs_detach.config import ConfigError, load_config
from ecs_detach.credentials import resolve
from ecs_detach.errors import CredentialsError
from ecs_detach.session import open_client

KEY_ID = "LTAI5tProfileKeyId0001"


def write_cli_config(home: Path, *names: str, **extra: object) -> None:
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    profiles = [
        {"name": name, "mode": "AK", "access_key_id": KEY_ID, "access_key_secret": "s3cret", **extra}
        for name in names
    ]
    path.write_text(json.dumps({"current": names[0], "profiles": profiles}), encoding="utf-8")


def write_toml(home: Path, text: str) -> Path:
    path = home / ".config" / "ecs-detach" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_profile_protected_in_config_toml_starts_read_only_without_a_warning(tmp_path: Path) -> None:
    write_cli_config(tmp_path, "prod", "dev")
    write_toml(tmp_path, "[profiles.prod]\nprotected = true\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prod = resolve("prod", env={}, home=tmp_path)
    assert (
        prod.protected
        and prod.protected_by == "profile 'prod' is protected in ~/.config/ecs-detach/config.toml"
    )
    assert not resolve("dev", env={}, home=tmp_path).protected
    session = open_client(profile="prod", env={}, home=tmp_path)
    assert session.read_only and session.client.read_only and "config.toml" in session.protected_by


def test_protected_regions_globally_and_per_profile(tmp_path: Path) -> None:
    write_cli_config(tmp_path, "dev", "staging")
    write_toml(
        tmp_path,
        'protected_regions = ["cn-shanghai"]\n[profiles.staging]\nprotected_regions = ["cn-beijing"]\n',
    )
    assert resolve("dev", region="cn-shanghai", env={}, home=tmp_path).protected
    assert not resolve("dev", region="cn-beijing", env={}, home=tmp_path).protected
    assert resolve("staging", region="cn-beijing", env={}, home=tmp_path).protected
    env_keys = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tEnvKey0000001", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "x"}
    write_toml(tmp_path, "[profiles.env]\nprotected = true\n")
    assert resolve(env=env_keys, home=tmp_path).protected


def test_xdg_config_home_journal_and_theme(tmp_path: Path) -> None:
    config_home = tmp_path / "xdg"
    path = config_home / "ecs-detach" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('journal = "~/ops/journal.jsonl"\ntheme = "textual-light"\n', encoding="utf-8")
    config = load_config(env={"XDG_CONFIG_HOME": str(config_home)}, home=tmp_path)
    assert config.path == path and config.theme == "textual-light"
    assert config.journal == Path("~/ops/journal.jsonl").expanduser()
    assert load_config(env={}, home=tmp_path).path is None  # no file: nothing is set


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[profiles.prod\nprotected = true\n", r"config.toml is not valid TOML: .*\(at line 1, column 15\)"),
        ("[profiles.prod]\nprotected = yes\n", r"not valid TOML: .*line 2"),
        ('[profiles.prod]\nprotected = "true"\n', r"\[profiles.prod\]: protected must be true or false"),
        (
            "[profiles.prod]\nprotect = true\n",
            r"unknown key 'protect' \(known keys: protected, protected_regions\)",
        ),
        ('protected_regions = "cn-shanghai"\n', r"protected_regions must be a list of region ids"),
        ("jounral = 'x'\n", r"unknown key 'jounral'"),
    ],
)
def test_a_bad_config_toml_names_the_file_and_what_is_wrong(tmp_path: Path, text: str, expected: str) -> None:
    write_cli_config(tmp_path, "prod")
    write_toml(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as caught:
        resolve("prod", env={}, home=tmp_path)
    assert "\n" not in str(caught.value) and caught.value.remedy


def test_the_old_key_still_protects_with_a_warning_that_says_where_to_move_it(tmp_path: Path) -> None:
    write_cli_config(tmp_path, "prod", ecs_detach_protected=True)
    with pytest.warns(UserWarning, match=r"config.toml instead: \[profiles.prod\] protected = true"):
        config = resolve("prod", env={}, home=tmp_path)
    assert config.protected and "ecs_detach_protected" in config.protected_by


def test_alibaba_cloud_endpoint_is_the_endpoint_unless_the_profile_or_the_flag_says(tmp_path: Path) -> None:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tEnvKey0000001",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "x",
        "ALIBABA_CLOUD_ENDPOINT": "http://127.0.0.1:8472",
    }
    assert open_client(env=env, home=tmp_path).endpoint == "http://127.0.0.1:8472"
    assert open_client(env=env, home=tmp_path, endpoint="http://127.0.0.1:9").endpoint == "http://127.0.0.1:9"
    write_cli_config(tmp_path, "prod", endpoint="ecs-vpc.cn-hangzhou.aliyuncs.com")
    profile_env = {"ALIBABA_CLOUD_ENDPOINT": "http://127.0.0.1:8472"}
    session = open_client(profile="prod", env=profile_env, home=tmp_path)
    assert session.endpoint == "https://ecs-vpc.cn-hangzhou.aliyuncs.com"
    with pytest.raises(ValueError, match=r"only http:// and https:// .*set by ALIBABA_CLOUD_ENDPOINT"):
        open_client(env={**env, "ALIBABA_CLOUD_ENDPOINT": "ftp://x"}, home=tmp_path)


def test_alibaba_cloud_ignore_profile_skips_both_files(tmp_path: Path) -> None:
    write_cli_config(tmp_path, "prod")
    with pytest.raises(CredentialsError, match=r"ignored \(ALIBABA_CLOUD_IGNORE_PROFILE=TRUE\)"):
        resolve(env={"ALIBABA_CLOUD_IGNORE_PROFILE": "TRUE"}, home=tmp_path)
    env = {
        "ALIBABA_CLOUD_IGNORE_PROFILE": "TRUE",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tEnvKey0000001",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "x",
    }
    config = resolve(env=env, home=tmp_path)
    assert config.source == "environment variables" and config.region_id == "cn-hangzhou"
    assert resolve(env={"ALIBABA_CLOUD_IGNORE_PROFILE": "false"}, home=tmp_path).profile_name == "prod"
