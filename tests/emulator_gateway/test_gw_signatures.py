"""The emulator's own verifier accepts every golden vector, from its parts and from raw captured requests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ecs_detach.emulator import verify
from ecs_detach.emulator.wire import ApiRequest, GatewayError, decode_form, parse_request

# A copy of ../shared/reference/signature-vectors.json, so the tests run wherever the repository is.
VECTORS_FILE = Path(__file__).parents[1] / "data" / "signature-vectors.json"


def _load() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]
    return vectors


VECTORS = _load()
DETACH_CAPTURES = ["e2e-tea-v3-detachdisk", "e2e-tea-v1-detachdisk", "e2e-sdkcore-v1-detachdisk-get"]
BY_ID = {vector["id"]: vector for vector in VECTORS}


def _raw_to_request(raw: str) -> ApiRequest:
    head, _, body = raw.partition("\r\n\r\n")
    request_line, *header_lines = head.split("\r\n")
    method, target, _version = request_line.split(" ")
    path, _, query = target.partition("?")
    headers = [tuple(line.split(": ", 1)) for line in header_lines]
    return parse_request(method, path, query, headers, body.encode("utf-8"))  # type: ignore[arg-type]


def _wire_request(vector: dict[str, Any]) -> ApiRequest:
    """The request as it travels: the SDK's wire query, the vector's headers, Authorization for V3."""
    headers = list(vector.get("headers", {}).items())
    if vector["version"] == "V3":
        headers.append(("Authorization", vector["authorization"]))
    body = (vector.get("body") or "").encode("utf-8")
    return parse_request(
        vector["method"], vector["path"], vector["wire_query_as_sent_by_tea_sdk"], headers, body
    )


def test_there_are_eighteen_vectors() -> None:
    assert len(VECTORS) == 18


@pytest.mark.parametrize("vector", [v for v in VECTORS if "raw_request" in v], ids=lambda v: v["id"])
def test_every_raw_captured_request_verifies(vector: dict[str, Any]) -> None:
    request = _raw_to_request(vector["raw_request"])
    signed = verify.inspect(request)
    assert signed.scheme == vector["version"]
    assert signed.access_key_id == vector["access_key_id"]
    assert signed.nonce == vector["nonce"]
    assert signed.timestamp == vector["timestamp"]
    verify.check(request, signed, vector["access_key_secret"])


@pytest.mark.parametrize("vector", [v for v in VECTORS if "raw_request" not in v], ids=lambda v: v["id"])
def test_every_composed_vector_verifies_from_its_wire_form(vector: dict[str, Any]) -> None:
    request = _wire_request(vector)
    signed = verify.inspect(request)
    assert signed.access_key_id == vector["access_key_id"]
    verify.check(request, signed, vector["access_key_secret"])


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["version"] == "V1"], ids=lambda v: v["id"])
def test_v1_string_to_sign_and_signature_match_the_vector(vector: dict[str, Any]) -> None:
    params = dict(vector["params"])
    if vector.get("body"):  # form body parameters are signed with the query
        params.update(decode_form(vector["body"]))
    assert (
        verify.canonical_query({k: v for k, v in params.items() if k != "Signature"})
        == vector["canonicalized_query_string"]
    )
    assert verify.v1_string_to_sign(vector["method"], params) == vector["string_to_sign"]
    assert (
        verify.v1_signature(vector["access_key_secret"], vector["method"], params)
        == vector["expected_signature"]
    )


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["version"] == "V3"], ids=lambda v: v["id"])
def test_v3_canonical_request_and_signature_match_the_vector(vector: dict[str, Any]) -> None:
    headers = {name.lower(): [value] for name, value in vector["headers"].items()}
    signed_headers = vector["signed_headers"].split(";")
    body = (vector.get("body") or "").encode("utf-8")
    canonical = verify.v3_canonical_request(
        vector["method"],
        vector["path"],
        vector["query"],
        headers,
        signed_headers,
        hashlib.sha256(body).hexdigest(),
    )
    assert canonical == vector["canonical_request"]
    string_to_sign = verify.v3_string_to_sign(canonical)
    assert string_to_sign == vector["string_to_sign"]
    assert verify.v3_signature(vector["access_key_secret"], string_to_sign) == vector["expected_signature"]


def test_the_published_v1_example_is_reproduced() -> None:
    vector = BY_ID["v1-doc-describeregions"]
    assert verify.v1_signature("testsecret", "GET", vector["params"]) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_percent_encoding_follows_rfc3986() -> None:
    assert verify.percent_encode("a b*c~d/e+f=g&h:é中") == "a%20b%2Ac~d%2Fe%2Bf%3Dg%26h%3A%C3%A9%E4%B8%AD"


def _expect_mismatch(request: ApiRequest, secret: str) -> GatewayError:
    signed = verify.inspect(request)
    with pytest.raises(GatewayError) as caught:
        verify.check(request, signed, secret)
    # ECS words a wrong secret differently in each scheme (see the README's fidelity notes).
    expected = (
        ("IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        if signed.scheme == "V1"
        else ("SignatureDoesNotMatch", "Specified signature does not match our calculation.")
    )
    assert caught.value.code == expected[0]
    assert caught.value.status == 400
    assert caught.value.message.startswith(expected[1])
    return caught.value


@pytest.mark.parametrize(
    "vector_id", ["e2e-tea-v3-detachdisk", "e2e-tea-v1-detachdisk", "e2e-sdkcore-v1-detachdisk-get"]
)
def test_a_wrong_secret_is_refused(vector_id: str) -> None:
    request = _raw_to_request(BY_ID[vector_id]["raw_request"])
    _expect_mismatch(request, "not-the-secret")


@pytest.mark.parametrize(
    "vector_id", ["e2e-tea-v3-detachdisk", "e2e-tea-v1-detachdisk", "e2e-sdkcore-v1-detachdisk-get"]
)
def test_a_tampered_parameter_is_refused(vector_id: str) -> None:
    vector = BY_ID[vector_id]
    raw = vector["raw_request"].replace("d-bp1test0000000000001", "d-bp1test0000000000002", 1)
    _expect_mismatch(_raw_to_request(raw), vector["access_key_secret"])


def test_a_v3_body_that_does_not_match_its_hash_is_refused() -> None:
    vector = BY_ID["v3-detachdisk-form-body"]
    tampered = dict(vector, body=vector["body"].replace("false", "true"))
    error = _expect_mismatch(_wire_request(tampered), vector["access_key_secret"])
    assert "server StringToSign is [ACS3-HMAC-SHA256\n" in error.message


def test_a_v1_form_body_is_signed_too() -> None:
    vector = BY_ID["e2e-sdkcore-v1-describedisks-post-body"]
    raw = vector["raw_request"].replace("DiskName=a+b", "DiskName=a+c")
    error = _expect_mismatch(_raw_to_request(raw), vector["access_key_secret"])
    assert "server string to sign is:POST&%2F&" in error.message


def test_a_v3_form_body_becomes_action_parameters() -> None:
    request = _wire_request(BY_ID["v3-detachdisk-form-body"])
    signed = verify.inspect(request)
    assert signed.action == "DetachDisk"
    assert dict(signed.params) == {
        "RegionId": "cn-hangzhou",
        "DeleteWithInstance": "false",
        "DiskId": "d-bp1test0000000000001",
        "InstanceId": "i-bp1test000000000001",
    }


def test_v1_action_parameters_leave_the_common_ones_out() -> None:
    signed = verify.inspect(_raw_to_request(BY_ID["e2e-sdkcore-v1-describedisks-post-body"]["raw_request"]))
    assert signed.action == "DescribeDisks"
    assert signed.api_version == "2014-05-26"
    assert dict(signed.params) == {"RegionId": "cn-hangzhou", "DiskName": "a b*c~d/e+f=g&h:é中"}


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=ab", "IncompleteSignature"),
        ("ACS3-HMAC-SHA256 garbage", "IncompleteSignature"),
        (
            "ACS3-HMAC-SM3 Credential=AK,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
            "x-acs-signature-nonce;x-acs-version,Signature=ab",
            "InvalidSignatureMethod",
        ),
    ],
)
def test_malformed_v3_authorizations_are_incomplete(authorization: str, code: str) -> None:
    request = parse_request("POST", "/", "", [("Authorization", authorization)], b"")
    with pytest.raises(GatewayError) as caught:
        verify.inspect(request)
    assert caught.value.code == code


def test_an_unsigned_request_is_incomplete() -> None:
    request = parse_request("GET", "/", "Action=DescribeRegions", [], b"")
    with pytest.raises(GatewayError) as caught:
        verify.inspect(request)
    assert (caught.value.status, caught.value.code) == (400, "IncompleteSignature")
    assert caught.value.message == "The request signature does not conform to Aliyun standards."
