"""open_client: the session the CLI, the TUI and the notebooks share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_detach.emulator import ManualClock
from ecs_detach.errors import CredentialsError, ReadOnlyError
from ecs_detach.session import open_client


def test_demo_session_runs_on_the_in_process_emulator() -> None:
    with open_client(demo=True, clock=ManualClock()) as session:
        assert session.demo and session.emulator is not None
        assert session.profile_name == "demo" and session.region_id == "cn-hangzhou"
        assert session.masked_key_id == "LTAI****Key" and not session.read_only
        assert "DEMO" in session.describe() and "emulator-demo-secret" not in repr(session)
        assert session.client.detach_disk("d-web-01-data", "i-web-01")
        session.emulator.advance(61)
        assert session.client.get_disk("d-web-01-data").status == "Available"


@pytest.mark.anyio
async def test_demo_session_async_client_shares_the_emulator() -> None:
    session = open_client(demo=True, region="cn-shanghai", clock=ManualClock())
    async with session.async_client() as aclient:
        instances = await aclient.list_instances()
    assert instances and {i.region_id for i in instances} == {"cn-shanghai"}
    session.close()


def test_demo_read_only() -> None:
    session = open_client(demo=True, read_only=True, clock=ManualClock())
    with pytest.raises(ReadOnlyError):
        session.client.stop_instance("i-web-01")
    session.close()


def write_profiles(home: Path) -> None:
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True)
    profiles = [
        {
            "name": "prod",
            "mode": "AK",
            "access_key_id": "LTAI5tProductionKey01",
            "access_key_secret": "prod-secret",
            "region_id": "cn-shanghai",
            "ecs_detach_protected": True,
        },
        {
            "name": "dev",
            "mode": "AK",
            "access_key_id": "LTAI5tDevelopmentKey1",
            "access_key_secret": "dev-secret",
        },
    ]
    path.write_text(json.dumps({"current": "dev", "profiles": profiles}), encoding="utf-8")


def test_real_session_from_a_profile(tmp_path: Path) -> None:
    write_profiles(tmp_path)
    session = open_client(env={}, home=tmp_path)
    assert (session.profile_name, session.region_id) == ("dev", "cn-hangzhou")
    assert session.endpoint == "https://ecs-cn-hangzhou.aliyuncs.com" and session.emulator is None
    assert session.masked_key_id == "LTAI****ey1" and not session.protected and not session.read_only
    session.close()


def test_protected_profile_starts_read_only_and_arms_with_its_name(tmp_path: Path) -> None:
    write_profiles(tmp_path)
    session = open_client(profile="prod", endpoint="http://127.0.0.1:8470", env={}, home=tmp_path)
    assert session.protected and session.read_only and session.client.read_only
    assert session.region_id == "cn-shanghai" and session.endpoint == "http://127.0.0.1:8470"
    with pytest.raises(ReadOnlyError):
        session.client.detach_disk("d-1", "i-1")
    with pytest.raises(ReadOnlyError, match="type 'prod'"):
        session.arm_writes("yes")
    assert session.read_only
    session.arm_writes("prod")
    assert not session.read_only and not session.client.read_only
    assert not session.async_client().read_only
    session.close()


def test_missing_credentials_raise_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError) as caught:
        open_client(env={}, home=tmp_path)
    assert "--demo" in caught.value.remedy
