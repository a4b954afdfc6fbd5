"""The emulator's own signature verification: V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256).

Written from the published algorithm (ecs-api.md §3), independently of the client's signing code: the
tests compare the two, so neither may borrow from the other.

Verification runs in two steps so that the gateway can check the access key in between:
:func:`inspect` reads who signed what (or raises ``IncompleteSignature``), then :func:`check` recomputes the
signature with that key's secret (or raises ``IncompleteSignature`` for V1 and ``SignatureDoesNotMatch`` for
V3, the codes ECS gives a wrong secret in each scheme).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from ecs_detach.emulator.wire import ApiRequest, GatewayError

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_AUTHORIZATION = re.compile(
    r"^(ACS3-[A-Z0-9-]+) Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-fA-F]+)$"
)
# Headers a V3 request must sign: without them a signature proves nothing about the call or its freshness.
V3_REQUIRED_SIGNED = frozenset(
    {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
)
# Common V1 parameters: the rest of the query is the action's own parameters.
V1_COMMON_PARAMS = frozenset(
    {
        "AccessKeyId",
        "Action",
        "Format",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureType",
        "SignatureVersion",
        "SecurityToken",
        "Timestamp",
        "Version",
    }
)


@dataclass(frozen=True)
class SignedRequest:
    """Who signed a request, and the fields the gateway checks after the signature."""

    scheme: Literal["V1", "V3"]
    access_key_id: str
    action: str | None
    api_version: str | None
    timestamp: str | None
    nonce: str | None
    # The action's own parameters: signing and common parameters removed.
    params: Mapping[str, str]
    # V3 only.
    algorithm: str = ""
    signed_headers: tuple[str, ...] = ()
    signature: str = ""


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8: ``A-Z a-z 0-9 - _ . ~`` kept, the rest ``%XY`` (upper-case hex)."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, ``name=value`` percent-encoded, joined with ``&`` (V1 and V3)."""
    return "&".join(f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params))


# ---------------------------------------------------------------- V1


def v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    signed = {name: value for name, value in params.items() if name != "Signature"}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(signed))}"


def v1_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    digest = hmac.new(
        f"{secret}&".encode(), v1_string_to_sign(method, params).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


# ---------------------------------------------------------------- V3


def v3_canonical_headers(headers: Mapping[str, Sequence[str]], signed_headers: Sequence[str]) -> str:
    lines = []
    for name in signed_headers:
        values = sorted(value.strip() for value in headers.get(name, ()))
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def v3_canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, Sequence[str]],
    signed_headers: Sequence[str],
    hashed_payload: str,
) -> str:
    return "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query(query),
            v3_canonical_headers(headers, signed_headers),
            ";".join(signed_headers),
            hashed_payload,
        ]
    )


def v3_string_to_sign(canonical_request: str, algorithm: str = V3_ALGORITHM) -> str:
    return f"{algorithm}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- a request


def inspect(request: ApiRequest) -> SignedRequest:
    """Who signed this request, with which scheme; ``IncompleteSignature`` without a usable signature."""
    authorization = request.headers.get("authorization")
    if authorization is not None and authorization.strip().startswith("ACS3-"):
        return _inspect_v3(request, authorization.strip())
    params = request.params
    if "Signature" in params:
        return _inspect_v1(params)
    raise GatewayError("IncompleteSignature")


def _inspect_v3(request: ApiRequest, authorization: str) -> SignedRequest:
    match = _AUTHORIZATION.match(authorization)
    if match is None:
        raise GatewayError("IncompleteSignature")
    algorithm, credential, signed, signature = match.groups()
    if algorithm != V3_ALGORITHM:
        raise GatewayError("InvalidSignatureMethod")
    signed_headers = tuple(name.strip().lower() for name in signed.split(";"))
    if not set(signed_headers) >= V3_REQUIRED_SIGNED or not credential.strip():
        raise GatewayError("IncompleteSignature")
    params = {name: value for name, value in request.params.items() if name not in V1_COMMON_PARAMS}
    return SignedRequest(
        scheme="V3",
        access_key_id=credential.strip(),
        action=request.headers.get("x-acs-action"),
        api_version=request.headers.get("x-acs-version"),
        timestamp=request.headers.get("x-acs-date"),
        nonce=request.headers.get("x-acs-signature-nonce"),
        params=params,
        algorithm=algorithm,
        signed_headers=signed_headers,
        signature=signature.lower(),
    )


def _inspect_v1(params: Mapping[str, str]) -> SignedRequest:
    for name in ("AccessKeyId", "SignatureMethod", "SignatureVersion"):
        if not params.get(name):
            raise GatewayError.missing(name)
    if params["SignatureMethod"] != "HMAC-SHA1":
        raise GatewayError("InvalidSignatureMethod")
    if params["SignatureVersion"] != "1.0":
        raise GatewayError("IncompleteSignature")
    return SignedRequest(
        scheme="V1",
        access_key_id=params["AccessKeyId"],
        action=params.get("Action"),
        api_version=params.get("Version"),
        timestamp=params.get("Timestamp"),
        nonce=params.get("SignatureNonce"),
        params={name: value for name, value in params.items() if name not in V1_COMMON_PARAMS},
        signature=params["Signature"],
    )


def check(request: ApiRequest, signed: SignedRequest, secret: str) -> None:
    """Recompute the signature with ``secret``; on a mismatch the scheme's code, with the server's string to
    sign."""
    if signed.scheme == "V1":
        string_to_sign = v1_string_to_sign(request.method, request.params)
        expected = base64.b64encode(
            hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
        ).decode("ascii")
        if not hmac.compare_digest(expected.encode(), signed.signature.encode("utf-8", "replace")):
            raise GatewayError("IncompleteSignature", suffix=f" server string to sign is:{string_to_sign}")
        return
    payload_hash = hashlib.sha256(request.body).hexdigest()
    claimed_hash = (request.headers.get("x-acs-content-sha256") or "").strip().lower()
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name, []).append(value)
    canonical = v3_canonical_request(
        request.method, request.path, request.query, headers, signed.signed_headers, claimed_hash
    )
    string_to_sign = v3_string_to_sign(canonical, signed.algorithm)
    expected = v3_signature(secret, string_to_sign)
    if claimed_hash != payload_hash or not hmac.compare_digest(expected, signed.signature):
        raise GatewayError("SignatureDoesNotMatch", suffix=f" server StringToSign is [{string_to_sign}]")
