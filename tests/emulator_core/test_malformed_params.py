"""Whatever the parameters, the backend answers with a body or a 4xx EmulatorError: never anything else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_detach.emulator.backend import ACTIONS, Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.errors import EmulatorError

PARAM_NAMES = [
    "RegionId",
    "DiskId",
    "InstanceId",
    "DiskIds",
    "InstanceIds",
    "DeleteWithInstance",
    "Bootable",
    "Password",
    "KeyPairName",
    "Device",
    "ForceStop",
    "StoppedMode",
    "DryRun",
    "PageNumber",
    "PageSize",
    "NextToken",
    "MaxResults",
    "DiskType",
    "Category",
    "Status",
    "Portable",
    "MultiAttach",
    "ZoneId",
    "DiskName",
    "InstanceName",
    "LockReason",
    "Tag.1.Key",
    "Tag.1.Value",
    "AcceptLanguage",
    "ResourceType",
    "PrivateIpAddresses",
]
REAL_IDS = ["d-web-01-data", "d-cluster-shared", "i-web-01", "i-db-replica", "d-rescue-01-sys", "i-rescue-01"]

values = st.one_of(
    st.sampled_from(
        ["", "true", "False", "TRUE", "yes", "0", "-1", "100", "101", "1e3", "[]", '["d-web-01-data"]']
    ),
    st.sampled_from([*REAL_IDS, "cn-hangzhou", "cn-shanghai", "All", "system", "*", "**", "web-*"]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x80), max_size=20),  # unicode only
    st.builds(
        lambda c, n: c * n, st.sampled_from(["[", "a", "*", "9", "é", "\x00"]), st.integers(1000, 30_000)
    ),
    st.builds(json.dumps, st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=5)),
    st.integers(-(10**20), 10**20),  # not even a string
    st.none(),
)
params = st.dictionaries(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=15)), values, max_size=8)
actions = st.one_of(st.sampled_from(sorted(ACTIONS)), st.text(max_size=20))
hints = st.one_of(
    st.none(), st.sampled_from(["cn-hangzhou", "ap-southeast-1", "", "xx-nowhere-9"]), st.text(max_size=10)
)


def _check(backend: Backend, action: str, raw: dict[str, Any], hint: str | None) -> None:
    try:
        body = backend.handle(action, raw, region_hint=hint)
    except EmulatorError as error:
        assert 400 <= error.status < 500, error
        assert error.code and error.message
        json.dumps(error.to_body())
    else:
        assert isinstance(body, dict)
        json.dumps(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action=actions, raw=params, hint=hints)
def test_any_parameters_give_a_body_or_a_4xx(action: str, raw: dict[str, Any], hint: str | None) -> None:
    _check(Backend("demo", ManualClock()), action, raw, hint)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    calls=st.lists(st.tuples(st.sampled_from(sorted(ACTIONS)), params, hints), min_size=1, max_size=12),
    steps=st.lists(st.integers(0, 90), min_size=1, max_size=12),
)
def test_sequences_of_calls_keep_the_state_loadable(
    calls: list[tuple[str, dict[str, Any], str | None]], steps: list[int]
) -> None:
    backend = Backend("demo", ManualClock())
    for (action, raw, hint), step in zip(calls, steps * 12, strict=False):
        _check(backend, action, raw, hint)
        backend.advance(step)
    snapshot = backend.snapshot()
    assert Backend(snapshot, ManualClock(start=backend.now())).snapshot() == snapshot


@settings(max_examples=60, deadline=None)
@given(
    disk_id=st.sampled_from([*REAL_IDS, "d-nope"]),
    instance_id=st.sampled_from([*REAL_IDS, "i-nope"]),
    flag=st.sampled_from(["true", "False", "maybe", "", None]),
)
def test_detach_with_odd_delete_with_instance(disk_id: str, instance_id: str, flag: str | None) -> None:
    raw: dict[str, Any] = {"DiskId": disk_id, "InstanceId": instance_id, "DeleteWithInstance": flag}
    _check(Backend("demo", ManualClock()), "DetachDisk", raw, None)
