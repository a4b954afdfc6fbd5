"""Signed requests for the gateway tests, built from the emulator's own (vector-tested) signing functions.

The official SDKs are driven in tests/sdk_compat; here the point is precise control over every field.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET, verify

READ_ONLY_KEY = ("LTAI5tGatewayReadOnly", "gateway-read-only-secret")


def utc_stamp(offset_seconds: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_seconds))


@dataclass
class Signed:
    method: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def v3(
    action: str,
    params: Mapping[str, str] | None = None,
    *,
    host: str = "127.0.0.1",
    key: tuple[str, str] = (EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET),
    date: str | None = None,
    nonce: str | None = None,
    version: str = "2014-05-26",
    method: str = "POST",
    body: bytes = b"",
    content_type: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Signed:
    query = dict(params or {})
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date or utc_stamp(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "accept": "application/json",
    }
    if content_type:
        headers["content-type"] = content_type
    headers.update(extra_headers or {})
    signed_names = sorted(headers)
    canonical = verify.v3_canonical_request(
        method,
        "/",
        query,
        {k: [v] for k, v in headers.items()},
        signed_names,
        headers["x-acs-content-sha256"],
    )
    signature = verify.v3_signature(key[1], verify.v3_string_to_sign(canonical))
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key[0]},SignedHeaders={';'.join(signed_names)},Signature={signature}"
    )
    return Signed(method, urlencode(query), headers, body)


def v1(
    action: str,
    params: Mapping[str, str] | None = None,
    *,
    key: tuple[str, str] = (EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET),
    timestamp: str | None = None,
    nonce: str | None = None,
    method: str = "GET",
    fmt: str | None = "JSON",
) -> Signed:
    query = {
        "Action": action,
        "Version": "2014-05-26",
        "Timestamp": timestamp or utc_stamp(),
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "AccessKeyId": key[0],
        **dict(params or {}),
    }
    if fmt is not None:
        query["Format"] = fmt
    query["Signature"] = verify.v1_signature(key[1], method, query)
    return Signed(method, urlencode(query), {"host": "127.0.0.1"})


def gateway_fleet() -> dict[str, Any]:
    """The demo fleet plus a read-only key and a tight AttachDisk rate limit the tests control."""
    import copy

    from ecs_detach.emulator.fleet import load_fleet

    fleet = copy.deepcopy(load_fleet("demo"))
    section = fleet.setdefault("Emulator", {})
    section.setdefault("AccessKeys", []).append(
        {"AccessKeyId": READ_ONLY_KEY[0], "AccessKeySecret": READ_ONLY_KEY[1], "ReadOnly": True}
    )
    section.setdefault("RateLimits", {})["DescribeRegions"] = {"Count": 5, "PerSeconds": 10}
    return fleet


def send(http: httpx.Client, signed: Signed) -> httpx.Response:
    headers = dict(signed.headers)
    headers.pop("host", None)  # httpx sets Host itself (with the port): signatures use it verbatim
    return http.request(signed.method, "/?" + signed.query, headers=headers, content=signed.body)
