"""Malformed input never breaks the emulator: a clean 4xx with the API's error body, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from gw_signing import send, v1, v3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_detach.emulator import Emulator

ACTIONS = [
    "DescribeRegions",
    "DescribeInstances",
    "DescribeDisks",
    "DescribeInstanceAttribute",
    "DetachDisk",
    "AttachDisk",
    "StopInstance",
    "StartInstance",
]
NAMES = [
    "DiskId",
    "InstanceId",
    "RegionId",
    "DiskIds",
    "InstanceIds",
    "PageSize",
    "PageNumber",
    "MaxResults",
    "NextToken",
    "DeleteWithInstance",
    "Bootable",
    "ForceStop",
    "StoppedMode",
    "Status",
    "DiskType",
    "Tag.1.Key",
    "Tag.1.Value",
    "AcceptLanguage",
    "ResourceType",
    "InstanceName",
    "Password",
    "KeyPairName",
    "DryRun",
]
VALUES = st.one_of(
    st.just(""),
    st.sampled_from(
        ["i-web-01", "d-web-01-data", "cn-hangzhou", "true", "False", "100", "-1", "0", "[]", "null"]
    ),
    st.sampled_from(['["d-web-01-data"]', '{"a": 1}', "[1, 2]", '["' + "d" * 300 + '"]', "9" * 40, "1e309"]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=5000),
)
PARAMS = st.dictionaries(st.sampled_from(NAMES) | st.text(min_size=1, max_size=20), VALUES, max_size=8)


@pytest.fixture(scope="module")
def fuzz_http(http_emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=http_emulator.base_url, timeout=10) as client:  # type: ignore[attr-defined]
        client.delete("/_emulator/faults")
        yield client
        client.post("/_emulator/reset")


def _assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
        assert body["Code"] and body["Message"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(ACTIONS), params=PARAMS, use_v1=st.booleans())
def test_signed_calls_with_arbitrary_parameters_never_fail_with_500(
    fuzz_http: httpx.Client, action: str, params: dict[str, str], use_v1: bool
) -> None:
    if use_v1:
        params = {k: v for k, v in params.items() if k not in ("Action", "Version", "Signature", "Format")}
        signed = v1(action, params)
    else:
        signed = v3(action, params, host=fuzz_http.base_url.netloc.decode())
    _assert_clean(send(fuzz_http, signed))


@settings(max_examples=80, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    query=st.binary(max_size=300),
    body=st.binary(max_size=300),
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                ["authorization", "x-acs-date", "content-type", "x-acs-action", "host", "x-acs-version"]
            ),
            st.binary(max_size=80),
        ),
        max_size=6,
    ),
)
def test_raw_garbage_gets_a_clean_4xx(
    method: str, query: bytes, body: bytes, headers: list[tuple[str, bytes]]
) -> None:
    emulator = _shared_emulator()
    reply = emulator.gateway.dispatch(method, "/", query, [(n.encode(), v) for n, v in headers], body)
    assert 400 <= reply.status < 500
    assert json.loads(reply.body)["Code"]


@settings(max_examples=30, deadline=None)
@given(
    duplicate=st.sampled_from(["DiskId", "Action", "Signature", "AccessKeyId"]),
    first=st.text(max_size=10),
    second=st.text(max_size=10),
)
def test_duplicated_parameters_are_refused(duplicate: str, first: str, second: str) -> None:
    signed = v1("DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"})
    query = signed.query + "&" + httpx.QueryParams({duplicate: first}).__str__()
    query += "&" + httpx.QueryParams({duplicate: second}).__str__()
    reply = _shared_emulator().gateway.dispatch("GET", "/", query, [], b"")
    assert (reply.status, json.loads(reply.body)["Code"]) == (400, "InvalidParameter")


def test_huge_requests_over_http_get_a_clean_4xx(fuzz_http: httpx.Client) -> None:
    response = fuzz_http.post(
        "/", content=b"A=" + b"x" * (2 * 1024 * 1024), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidParameter"
    many_params = "/?" + "&".join(f"P{i}=y" for i in range(1500))
    assert fuzz_http.get(many_params).json()["Code"] == "InvalidParameter"


_EMULATOR: list[Emulator] = []


def _shared_emulator() -> Emulator:
    if not _EMULATOR:
        _EMULATOR.append(Emulator(fleet="demo"))
    return _EMULATOR[0]
