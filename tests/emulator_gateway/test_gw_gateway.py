"""The gateway in-process: authentication order, codes and messages, RAM, throttling, the request log."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

import httpx
import pytest
from gw_signing import READ_ONLY_KEY, Signed, gateway_fleet, utc_stamp, v1, v3

from ecs_detach.emulator import (
    DEFAULT_REGION,
    EMULATOR_ACCESS_KEY_ID,
    EMULATOR_ACCESS_KEY_SECRET,
    Emulator,
    ManualClock,
)
from ecs_detach.emulator.gateway import NonceCache, mask_access_key, region_hint

HOST = "127.0.0.1"


def send(client: httpx.Client, signed: Signed) -> httpx.Response:
    headers = {k: v for k, v in signed.headers.items() if k != "host"}
    return client.request(signed.method, "/?" + signed.query, headers=headers, content=signed.body)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["Code"], body["Message"]


def test_constants_match_the_pinned_design(emulator: Emulator) -> None:
    assert (EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET) == (
        "LTAI5tEmulatorDemoKey",
        "emulator-demo-secret",
    )
    assert DEFAULT_REGION == "cn-hangzhou"
    assert emulator.settings.access_keys[EMULATOR_ACCESS_KEY_ID].secret == EMULATOR_ACCESS_KEY_SECRET


def test_a_v3_call_succeeds_with_a_request_id(client: httpx.Client) -> None:
    response = send(client, v3("DescribeRegions"))
    assert response.status_code == 200
    body = response.json()
    assert body["RequestId"] == response.headers["x-acs-request-id"]
    assert {r["RegionId"] for r in body["Regions"]["Region"]} >= {"cn-hangzhou"}


def test_a_manual_clock_on_a_fixed_date_still_accepts_real_time_requests() -> None:
    emulator = Emulator(fleet="demo", clock=ManualClock(start=0.0))  # 1970, far from the wall clock
    with httpx.Client(transport=emulator.transport(), base_url="http://127.0.0.1") as client:
        assert send(client, v3("DescribeRegions")).status_code == 200


def test_v1_get_and_post_are_accepted(client: httpx.Client) -> None:
    assert send(client, v1("DescribeRegions")).status_code == 200
    assert send(client, v1("DescribeRegions", method="POST")).status_code == 200


def test_v1_without_format_answers_xml(client: httpx.Client) -> None:
    response = send(client, v1("DescribeRegions", fmt=None))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "DescribeRegionsResponse"
    assert root.findtext("RequestId") == response.headers["x-acs-request-id"]


def test_v1_format_xml_errors_are_xml(client: httpx.Client) -> None:
    response = send(client, v1("DetachDisk", {"InstanceId": "i-web-01"}, fmt="XML"))
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert (root.tag, root.findtext("Code")) == ("Error", "InvalidParameter")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: Signed("POST", "", {"x-acs-action": "DescribeRegions"}),
            (
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards.",
            ),
        ),
        (
            lambda: v3("DescribeRegions", key=("LTAI5tNoSuchKey0000", "whatever")),
            (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."),
        ),
        (
            lambda: v3("DescribeRegions", date=utc_stamp(-16 * 60)),
            (400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."),
        ),
        (
            lambda: v3("DescribeRegions", date=utc_stamp(+16 * 60)),
            (400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."),
        ),
        (
            lambda: v3("DescribeRegions", date="2024-05-01 12:00:00"),
            (400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."),
        ),
        (
            lambda: v1("DescribeRegions", timestamp="yesterday"),
            (400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."),
        ),
        (
            lambda: v3("DescribeRegions", version="2016-01-01"),
            (404, "InvalidApi.NotFound", "Specified api is not found, please check your url and method."),
        ),
        (
            lambda: v3("NoSuchAction"),
            (404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."),
        ),
    ],
    ids=[
        "unsigned",
        "unknown-key",
        "expired",
        "future",
        "bad-date",
        "bad-v1-timestamp",
        "bad-version",
        "bad-action",
    ],
)
def test_gateway_refusals_have_the_reference_status_code_and_message(
    client: httpx.Client, make: Callable[[], Signed], expected: tuple[int, str, str]
) -> None:
    # Requests are signed when the test runs: a stamp made at collection ages while the suite runs.
    assert error_of(send(client, make())) == expected


def test_a_wrong_secret_is_refused_with_the_server_string_to_sign(client: httpx.Client) -> None:
    """V3: SignatureDoesNotMatch; V1: IncompleteSignature, the code ECS gives a V1 wrong secret."""
    signed = v3("DescribeRegions", key=(EMULATOR_ACCESS_KEY_ID, "wrong-secret"))
    status, code, message = error_of(send(client, signed))
    assert (status, code) == (400, "SignatureDoesNotMatch")
    assert message.startswith(
        "Specified signature does not match our calculation. server StringToSign is [ACS3-HMAC-SHA256\n"
    )
    signed = v1("DescribeRegions", key=(EMULATOR_ACCESS_KEY_ID, "wrong-secret"))
    status, code, message = error_of(send(client, signed))
    assert (status, code) == (400, "IncompleteSignature")
    prefix = "The request signature does not conform to Aliyun standards. server string to sign is:"
    assert message.startswith(prefix + "GET&%2F&AccessKeyId%3D")
    assert "wrong-secret" not in message


def test_missing_gateway_parameters_are_named_as_the_gateway_does(client: httpx.Client) -> None:
    status, code, message = error_of(send(client, v3("")))
    assert (status, code, message) == (400, "MissingAction", "Action is mandatory for this action.")
    assert error_of(send(client, v1("DescribeRegions", key=("", "x")))) == (
        400,
        "MissingAccessKeyId",
        "AccessKeyId is mandatory for this action.",
    )


def test_a_signature_over_another_host_is_refused(client: httpx.Client) -> None:
    assert error_of(send(client, v3("DescribeRegions", host="ecs.cn-hangzhou.aliyuncs.com")))[1] == (
        "SignatureDoesNotMatch"
    )


def test_a_replayed_nonce_is_refused(client: httpx.Client) -> None:
    signed = v3("DescribeRegions", nonce="0123456789abcdef0123456789abcdef")
    assert send(client, signed).status_code == 200
    assert error_of(send(client, signed)) == (
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    )
    v1_signed = v1("DescribeRegions", nonce="fedcba9876543210")
    assert send(client, v1_signed).status_code == 200
    assert error_of(send(client, v1_signed))[1] == "SignatureNonceUsed"


def test_a_refused_signature_does_not_burn_the_nonce(client: httpx.Client) -> None:
    bad = v3("DescribeRegions", key=(EMULATOR_ACCESS_KEY_ID, "wrong"), nonce="n-1111")
    assert error_of(send(client, bad))[1] == "SignatureDoesNotMatch"
    assert send(client, v3("DescribeRegions", nonce="n-1111")).status_code == 200


def test_the_nonce_memory_is_bounded() -> None:
    cache = NonceCache(capacity=100)
    for index in range(1000):
        assert cache.add(("AK", f"n{index}"), forget_after=2000.0, now=1000.0)
    assert len(cache) <= 100
    # an expired nonce is forgotten: its timestamp could not pass the freshness check any more
    cache = NonceCache(capacity=100)
    cache.add(("AK", "old"), forget_after=1500.0, now=1000.0)
    assert cache.add(("AK", "new"), forget_after=2600.0, now=1600.0)
    assert cache.add(("AK", "old"), forget_after=2600.0, now=1600.0)


def test_a_read_only_key_reads_but_may_not_mutate(client: httpx.Client) -> None:
    assert send(client, v3("DescribeRegions", key=READ_ONLY_KEY)).status_code == 200
    response = send(
        client, v3("DetachDisk", {"DiskId": "d-web-01-data", "InstanceId": "i-web-01"}, key=READ_ONLY_KEY)
    )
    assert error_of(response) == (
        403,
        "Forbidden.RAM",
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    )
    assert response.json()["AccessDeniedDetail"] == {
        "AuthAction": "ecs:DetachDisk",
        "NoPermissionType": "ImplicitDeny",
    }


def test_rate_limits_slide_with_the_emulator_clock(emulator: Emulator, client: httpx.Client) -> None:
    # gateway_fleet() allows DescribeRegions 5 times per 10 s
    for _ in range(5):
        assert send(client, v3("DescribeRegions")).status_code == 200
    assert error_of(send(client, v3("DescribeRegions"))) == (
        400,
        "Throttling",
        "Request was denied due to request throttling.",
    )
    # per key: another key has its own window
    assert send(client, v3("DescribeRegions", key=READ_ONLY_KEY)).status_code == 200
    emulator.advance(10)
    assert send(client, v3("DescribeRegions")).status_code == 200


def test_detach_disk_defaults_to_500_per_60_seconds() -> None:
    assert Emulator(fleet="demo", clock=ManualClock()).settings.rate_limits["DetachDisk"] == (500, 60.0)


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("ecs.cn-beijing.aliyuncs.com", "cn-beijing"),
        ("ecs-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
        ("ecs-vpc.ap-southeast-1.aliyuncs.com", "ap-southeast-1"),
        ("ECS.CN-SHANGHAI.ALIYUNCS.COM:443", "cn-shanghai"),
        ("ecs.aliyuncs.com", None),
        ("127.0.0.1:8470", None),
        ("localhost", None),
        ("[::1]:8470", None),
    ],
)
def test_the_region_comes_from_the_host(host: str, region: str | None) -> None:
    assert region_hint(host) == region


def test_a_regional_host_scopes_region_less_actions(emulator: Emulator) -> None:
    with httpx.Client(
        transport=emulator.transport(), base_url="http://ecs.cn-shanghai.aliyuncs.com"
    ) as client:
        signed = v3(
            "DescribeInstanceAttribute", {"InstanceId": "i-web-01"}, host="ecs.cn-shanghai.aliyuncs.com"
        )
        assert error_of(send(client, signed))[1] == "InvalidInstanceId.NotFound"
        signed = v3(
            "DescribeInstanceAttribute", {"InstanceId": "i-sh-web-01"}, host="ecs.cn-shanghai.aliyuncs.com"
        )
        assert send(client, signed).status_code == 200


def test_the_request_log_keeps_no_secrets(emulator: Emulator, client: httpx.Client) -> None:
    send(client, v1("AttachDisk", {"DiskId": "d-spare-01", "InstanceId": "i-web-01", "Password": "S3cret!"}))
    send(client, v3("DescribeRegions", extra_headers={"x-acs-security-token": "tok"}))
    entries = emulator.requests
    assert [e["action"] for e in entries] == ["AttachDisk", "DescribeRegions"]
    first = entries[0]
    assert first["status"] == 200 and first["code"] == ""
    assert first["params"]["DiskId"] == "d-spare-01"
    assert "Password" not in first["params"] and "Signature" not in first["params"]
    assert first["params"]["AccessKeyId"] == mask_access_key(EMULATOR_ACCESS_KEY_ID) == "LTAI****Key"
    assert EMULATOR_ACCESS_KEY_SECRET not in json.dumps(entries) and "S3cret!" not in json.dumps(entries)
    assert entries[1]["signature"] == "V3"


def test_errors_are_logged_with_their_code(emulator: Emulator, client: httpx.Client) -> None:
    send(client, v3("DetachDisk", {"DiskId": "d-nope", "InstanceId": "i-web-01"}))
    assert [(e["action"], e["status"], e["code"]) for e in emulator.requests] == [
        ("DetachDisk", 404, "InvalidDiskId.NotFound")
    ]


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [("PUT", "/", "UnsupportedHTTPMethod"), ("POST", "/api/v1", "InvalidApi.NotFound")],
)
def test_wrong_methods_and_paths_are_refused(client: httpx.Client, method: str, path: str, code: str) -> None:
    assert client.request(method, path).json()["Code"] == code


def test_reset_starts_a_fresh_log_and_fresh_limits(emulator: Emulator, client: httpx.Client) -> None:
    for _ in range(6):
        send(client, v3("DescribeRegions"))
    emulator.reset()
    assert emulator.requests == []
    assert send(client, v3("DescribeRegions")).status_code == 200


def test_reset_accepts_demo_and_fleet_objects(emulator: Emulator) -> None:
    emulator.reset("demo")
    assert READ_ONLY_KEY[0] not in emulator.settings.access_keys
    emulator.reset(gateway_fleet())
    assert READ_ONLY_KEY[0] in emulator.settings.access_keys


def test_a_form_body_carries_parameters(client: httpx.Client) -> None:
    body = b"InstanceId=i-web-01"
    signed = v3("DescribeInstanceAttribute", body=body, content_type="application/x-www-form-urlencoded")
    response = send(client, signed)
    assert response.status_code == 200
    assert response.json()["InstanceId"] == "i-web-01"


@pytest.mark.anyio
async def test_the_transport_is_async_too(emulator: Emulator) -> None:
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://127.0.0.1") as client:
        signed = v3("DescribeRegions")
        response = await client.post(
            "/?" + signed.query, headers={k: v for k, v in signed.headers.items() if k != "host"}
        )
    assert response.status_code == 200
