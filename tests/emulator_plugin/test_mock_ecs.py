"""``mock_ecs()``: an emulator served for a block, the standard variables pointing at it meanwhile."""

from __future__ import annotations

import os

import httpx
import pytest

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, mock_ecs
from ecs_detach.emulator.testing import ENV_VARS, Credentials


def test_the_environment_points_at_the_emulator_and_is_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-mine")
    monkeypatch.delenv("ALIBABA_CLOUD_ENDPOINT", raising=False)
    with mock_ecs() as ecs:
        assert os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"] == EMULATOR_ACCESS_KEY_ID
        assert os.environ["ALIBABA_CLOUD_ENDPOINT"] == ecs.url == f"http://{ecs.endpoint}"
        health = httpx.get(ecs.url + "/_emulator/health", timeout=10)
        assert health.status_code == 200
        url = ecs.url
    assert os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "LTAI-mine"
    assert "ALIBABA_CLOUD_ENDPOINT" not in os.environ
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/_emulator/health", timeout=2)  # stopped with the block


def test_it_decorates_a_function_and_time_moves_only_when_told() -> None:
    seen: list[str] = []

    @mock_ecs(env=False)
    def script() -> None:
        seen.append(os.environ.get("ALIBABA_CLOUD_ENDPOINT", "unset"))

    before = {name: os.environ.get(name) for name in ENV_VARS}
    script()
    assert seen == [before["ALIBABA_CLOUD_ENDPOINT"] or "unset"]
    with mock_ecs(env=False) as ecs:
        start = ecs.emulator.now()
        assert ecs.advance(30) == start + 30
        ecs.set_faults(rate=1, kinds=["internal_error"])
        ecs.reset("demo")  # a clean start: no faults
        assert ecs.emulator.faults.rate == 0


def test_the_secret_stays_out_of_the_repr() -> None:
    assert "secret" not in repr(Credentials()).lower()
