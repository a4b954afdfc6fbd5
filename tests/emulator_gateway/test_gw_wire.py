"""Parsing requests and serialising replies the way the real API and the official SDKs expect."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ecs_detach.emulator.wire import (
    MAX_BODY_BYTES,
    MAX_QUERY_BYTES,
    GatewayError,
    error_response,
    host_id,
    parse_request,
    success_response,
)

FORM = [("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")]


def _refused(
    query: str = "", body: bytes = b"", headers: list[tuple[str, str]] | None = None
) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        parse_request("POST", "/", query, headers or FORM, body)
    return caught.value


def test_query_uses_form_semantics_plus_is_space() -> None:
    request = parse_request(
        "POST", "/", "DiskName=a+b%2Ac~d%2Fe%2Bf%3Dg%26h%3A%C3%A9%E4%B8%AD&NextToken=", [], b""
    )
    assert request.query == {"DiskName": "a b*c~d/e+f=g&h:é中", "NextToken": ""}


def test_a_form_body_is_merged_with_the_query() -> None:
    request = parse_request("POST", "/", "RegionId=cn-hangzhou", FORM, b"DiskId=d-1&InstanceId=i-1")
    assert request.params == {"RegionId": "cn-hangzhou", "DiskId": "d-1", "InstanceId": "i-1"}
    assert request.form == {"DiskId": "d-1", "InstanceId": "i-1"}


def test_a_body_that_is_not_a_form_is_not_read_as_parameters() -> None:
    request = parse_request("POST", "/", "", [("content-type", "application/json")], b'{"DiskId": "d-1"}')
    assert request.params == {}


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("DiskId=d-1&DiskId=d-2", b""),  # duplicated in the query
        ("DiskId=d-1", b"DiskId=d-2"),  # duplicated across query and body
        ("DiskId=%zz", b""),  # a bad percent escape
        ("DiskId=%FF%FE", b""),  # not UTF-8
        ("=orphan", b""),  # a value without a name
        ("", b"DiskId=\xff"),  # a body that is not UTF-8
    ],
)
def test_malformed_parameters_are_a_clean_400(query: str, body: bytes) -> None:
    error = _refused(query, body)
    assert (error.status, error.code, error.message) == (
        400,
        "InvalidParameter",
        "The specified parameter is not valid.",
    )


def test_huge_inputs_are_refused_before_they_are_decoded() -> None:
    assert _refused("A=" + "x" * MAX_QUERY_BYTES).status == 400
    assert _refused("", b"A=" + b"x" * MAX_BODY_BYTES).status == 400
    assert _refused("&".join(f"P{i}=1" for i in range(2000))).status == 400


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    request = parse_request("get", "/", "", [(b"X-Acs-Date", b"2024"), (b"x-a", b"1"), (b"X-A", b"2")], b"")
    assert request.method == "GET"
    assert request.headers.get("x-acs-date") == "2024"
    assert request.headers.get_all("x-a") == ["1", "2"]


def test_a_json_success_reply_starts_with_the_request_id() -> None:
    reply = success_response("DescribeRegions", {"Regions": {"Region": []}}, "REQ-1")
    assert reply.status == 200
    assert dict(reply.headers)["content-type"] == "application/json;charset=utf-8"
    assert dict(reply.headers)["x-acs-request-id"] == "REQ-1"
    assert list(json.loads(reply.body)) == ["RequestId", "Regions"]


def test_an_xml_reply_repeats_list_elements_like_the_real_api() -> None:
    body = {"Regions": {"Region": [{"RegionId": "cn-hangzhou", "Ok": True}, {"RegionId": "cn-beijing"}]}}
    reply = success_response("DescribeRegions", body, "REQ-2", xml=True)
    root = ET.fromstring(reply.body)
    assert root.tag == "DescribeRegionsResponse"
    assert root.findtext("RequestId") == "REQ-2"
    assert [r.findtext("RegionId") for r in root.iter("Region")] == ["cn-hangzhou", "cn-beijing"]
    assert root.findtext("Regions/Region/Ok") == "true"


def test_an_error_body_has_the_real_shape_and_status() -> None:
    error = GatewayError("InvalidAccessKeyId.NotFound")
    reply = error_response(error, "REQ-3", host="ecs.cn-hangzhou.aliyuncs.com:443")
    assert reply.status == 404
    assert json.loads(reply.body) == {
        "RequestId": "REQ-3",
        "HostId": "ecs.cn-hangzhou.aliyuncs.com",
        "Code": "InvalidAccessKeyId.NotFound",
        "Message": "Specified access key is not found.",
        "Recommend": "https://api.aliyun.com/troubleshoot?q=InvalidAccessKeyId.NotFound&product=Ecs&requestId=REQ-3",
    }


def test_an_xml_error_uses_the_content_type_the_sdk_checks() -> None:
    reply = error_response(GatewayError("Forbidden.RAM"), "REQ-4", xml=True)
    assert dict(reply.headers)["content-type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(reply.body)
    assert (root.tag, root.findtext("Code")) == ("Error", "Forbidden.RAM")


def test_a_retry_hint_travels_in_the_header_the_sdk_reads() -> None:
    reply = error_response(GatewayError("Throttling.User", status=429, retry_after=150), "REQ-5")
    assert reply.status == 429
    assert dict(reply.headers)["x-acs-retry-after"] == "150"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1:8470", "127.0.0.1"),
        ("[::1]:8470", "::1"),
        ("", "ecs.aliyuncs.com"),
        ("ecs.aliyuncs.com", "ecs.aliyuncs.com"),
    ],
)
def test_host_id_drops_the_port(host: str, expected: str) -> None:
    assert host_id(host) == expected
