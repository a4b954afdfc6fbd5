"""Request signatures of the ECS RPC API, as ``httpx.Auth`` flows over pure functions.

Two algorithms (reference: ``ecs-api.md`` §3):

* **V3 ``ACS3-HMAC-SHA256``** (the official SDK's default): a canonical request over the method, ``/``, the
  RFC 3986-encoded sorted query, the signed headers and the SHA-256 of the body; ``Authorization`` header.
* **V1 ``HMAC-SHA1``**: every parameter (common ones included) sorted and encoded, the whole string encoded
  once more, HMAC-SHA1 keyed with ``secret + "&"``; ``Signature`` query parameter.

The pure functions below reproduce every golden vector in ``signature-vectors.json``. The auth classes take an
injectable clock (epoch seconds) and nonce source, so a signed request is reproducible in tests::

    auth = V3Auth(credentials, clock=lambda: 1714564800.0, nonce=lambda: "9f1c2d3e4a5b6c7d8e9f00112233aabb")
    httpx.Client(auth=auth)

The credentials are read through ``credentials.current()`` for every request (refreshing sources rotate keys);
the secret never leaves this module's HMAC calls.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

if TYPE_CHECKING:
    from ecs_detach.credentials import Credentials, CredentialSource

__all__ = [
    "API_VERSION",
    "EMPTY_PAYLOAD_SHA256",
    "V1Auth",
    "V3Auth",
    "canonical_query",
    "format_timestamp",
    "hash_payload",
    "percent_encode",
    "v1_signature",
    "v1_string_to_sign",
    "v3_authorization",
    "v3_canonical_headers",
    "v3_canonical_request",
    "v3_signature",
    "v3_string_to_sign",
]

API_VERSION = "2014-05-26"
V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()

Params = Mapping[str, str] | Iterable[tuple[str, str]]


# --- pure functions -------------------------------------------------------------------------------


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8 text: ``A-Z a-z 0-9 - _ . ~`` kept, everything else ``%XY``.

    >>> percent_encode("a b*c~d/e+f")
    'a%20b%2Ac~d%2Fe%2Bf'
    """
    return quote(value, safe="-_.~")


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(k), str(v)) for k, v in items]


def canonical_query(params: Params) -> str:
    """Sorted ``name=value`` pairs, both RFC 3986-encoded, joined with ``&`` (empty value gives ``name=``)."""
    pairs = sorted(_pairs(params))
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def format_timestamp(epoch_seconds: float) -> str:
    """ISO 8601 UTC to the second, as both signatures want it: ``2024-05-01T12:00:00Z``."""
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def v1_string_to_sign(method: str, params: Params) -> str:
    """``METHOD&%2F&<percent-encoded canonical query>``; ``Signature`` itself is never signed."""
    signed = [(k, v) for k, v in _pairs(params) if k != "Signature"]
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(signed))}"


def v1_signature(access_key_secret: str, string_to_sign: str) -> str:
    """Base64 of HMAC-SHA1 keyed with ``secret + "&"``."""
    key = (access_key_secret + "&").encode()
    digest = hmac.new(key, string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def hash_payload(body: bytes) -> str:
    """Lowercase hex SHA-256 of the request body (``x-acs-content-sha256``)."""
    return hashlib.sha256(body).hexdigest()


def v3_canonical_headers(headers: Mapping[str, str], signed: Iterable[str]) -> tuple[str, str]:
    """The canonical header block and the ``SignedHeaders`` list for the named headers.

    Names are lower-cased and sorted, values trimmed; each line ends with ``\\n``.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    names = sorted({name.lower() for name in signed})
    missing = [name for name in names if name not in lowered]
    if missing:
        raise ValueError(f"cannot sign headers that are not set: {', '.join(missing)}")
    block = "".join(f"{name}:{lowered[name].strip()}\n" for name in names)
    return block, ";".join(names)


def v3_canonical_request(
    method: str,
    path: str,
    query: Params,
    headers: Mapping[str, str],
    signed: Iterable[str],
    payload_hash: str,
) -> tuple[str, str]:
    """The V3 canonical request and its ``SignedHeaders`` list."""
    block, signed_headers = v3_canonical_headers(headers, signed)
    canonical = "\n".join(
        [method.upper(), path or "/", canonical_query(query), block, signed_headers, payload_hash]
    )
    return canonical, signed_headers


def v3_string_to_sign(canonical_request: str, algorithm: str = V3_ALGORITHM) -> str:
    return f"{algorithm}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"


def v3_signature(access_key_secret: str, string_to_sign: str) -> str:
    """Lowercase hex HMAC-SHA256 keyed with the secret (no ``&``)."""
    return hmac.new(access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def v3_authorization(access_key_id: str, signed_headers: str, signature: str) -> str:
    return f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"


# --- httpx.Auth flows -----------------------------------------------------------------------------

Clock = Callable[[], float]
NonceSource = Callable[[], str]


def _new_nonce() -> str:
    return uuid.uuid4().hex


def _query_pairs(request: httpx.Request) -> list[tuple[str, str]]:
    return list(request.url.params.multi_items())


def _with_query(request: httpx.Request, pairs: Iterable[tuple[str, str]]) -> None:
    """Replace the request's query with ``pairs``, RFC 3986-encoded (so ``+`` never stands for a space).

    A query already encoded that way (the client sends it so) is left alone: re-parsing the URL costs more
    than the rest of signing."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs).encode("ascii")
    if request.url.query == query:
        return
    request.url = request.url.copy_with(query=query or None)


async def _current_off_loop(source: CredentialSource) -> Credentials:
    """Static keys at once; a refreshing provider (which may call STS or the metadata service) in a thread."""
    from ecs_detach.credentials import Credentials

    if isinstance(source, Credentials):
        return source
    import anyio.to_thread

    return await anyio.to_thread.run_sync(source.current)


class _SigningAuth(httpx.Auth):
    """The flow both signatures share: sign each attempt afresh (new timestamp and nonce), sync or async."""

    requires_request_body = True

    def __init__(
        self, credentials: CredentialSource, *, clock: Clock | None = None, nonce: NonceSource | None = None
    ) -> None:
        self._credentials = credentials
        self._clock: Clock = clock if clock is not None else time.time
        self._nonce: NonceSource = nonce if nonce is not None else _new_nonce

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._credentials!r})"

    def sign(self, request: httpx.Request, creds: Credentials | None = None) -> None:
        raise NotImplementedError

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        self.sign(request, await _current_off_loop(self._credentials))
        yield request


class V3Auth(_SigningAuth):
    """Sign each request with ``ACS3-HMAC-SHA256`` (``Authorization`` header).

    The action travels in ``x-acs-action`` (set by the client); this flow adds ``x-acs-version`` when missing,
    ``x-acs-date``, a fresh ``x-acs-signature-nonce`` per attempt, ``x-acs-content-sha256`` and, for STS
    credentials, ``x-acs-accesskey-id`` / ``x-acs-security-token``. It signs ``host``, ``content-type``
    (when a body is sent) and every ``x-acs-*`` header: the minimum the API requires.
    """

    def sign(self, request: httpx.Request, creds: Credentials | None = None) -> None:
        creds = creds or self._credentials.current()
        body = request.content
        headers = request.headers
        headers.setdefault("x-acs-version", API_VERSION)
        headers["x-acs-date"] = format_timestamp(self._clock())
        headers["x-acs-signature-nonce"] = self._nonce()
        headers["x-acs-content-sha256"] = hash_payload(body)
        if creds.security_token:
            headers["x-acs-accesskey-id"] = creds.access_key_id
            headers["x-acs-security-token"] = creds.security_token
        pairs = _query_pairs(request)
        _with_query(request, pairs)
        signed = ["host", *(name for name in headers if name.lower().startswith("x-acs-"))]
        if body and "content-type" in headers:
            signed.append("content-type")
        plain = {name: value for name, value in headers.items()}
        canonical, signed_headers = v3_canonical_request(
            request.method, request.url.path or "/", pairs, plain, signed, headers["x-acs-content-sha256"]
        )
        signature = v3_signature(creds.access_key_secret, v3_string_to_sign(canonical))
        headers["Authorization"] = v3_authorization(creds.access_key_id, signed_headers, signature)


class V1Auth(_SigningAuth):
    """Sign each request with V1 ``HMAC-SHA1`` (``Signature`` query parameter).

    ``Action`` comes from the request's ``x-acs-action`` header (or an ``Action`` query parameter); the common
    parameters are added in the order the official SDK sends them, the signature last.
    """

    def sign(self, request: httpx.Request, creds: Credentials | None = None) -> None:
        creds = creds or self._credentials.current()
        own = {"Action", "Format", "Version", "Timestamp", "SignatureNonce", "SecurityToken"}
        own |= {"SignatureMethod", "SignatureVersion", "AccessKeyId", "Signature"}
        given = _query_pairs(request)
        given_map = dict(given)
        action = request.headers.get("x-acs-action") or given_map.get("Action", "")
        version = request.headers.get("x-acs-version") or given_map.get("Version", API_VERSION)
        pairs: list[tuple[str, str]] = [
            ("Action", action),
            ("Format", "json"),
            ("Version", version),
            ("Timestamp", format_timestamp(self._clock())),
            ("SignatureNonce", self._nonce()),
        ]
        pairs += [(k, v) for k, v in given if k not in own]
        if creds.security_token:
            pairs.append(("SecurityToken", creds.security_token))
        pairs += [("SignatureMethod", "HMAC-SHA1"), ("SignatureVersion", "1.0")]
        pairs.append(("AccessKeyId", creds.access_key_id))
        if request.content and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            from urllib.parse import parse_qsl

            body_pairs = parse_qsl(request.content.decode(), keep_blank_values=True)
            to_sign = pairs + body_pairs
        else:
            to_sign = pairs
        signature = v1_signature(creds.access_key_secret, v1_string_to_sign(request.method, to_sign))
        pairs.append(("Signature", signature))
        _with_query(request, pairs)
