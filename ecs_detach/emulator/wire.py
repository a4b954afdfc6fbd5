"""The emulator's wire format: parse an HTTP request, serialise JSON or XML replies and error bodies.

Pure functions on bytes and strings; no HTTP library. The hosting layers (in-process transport, ASGI
app) turn their own request objects into :func:`parse_request` arguments and send the :class:`WireResponse`
back as they receive it.

Query strings and form bodies are decoded with form semantics (``+`` is a space, ``%XX`` is UTF-8), as the
official SDKs encode them. Anything a real gateway would refuse before looking at the action — a duplicated
parameter, a bad percent escape, bytes that are not UTF-8, an oversized request — becomes a
:class:`GatewayError` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import orjson

# Limits on what the emulator reads: generous for any SDK call, small enough that a hostile input stays cheap.
MAX_QUERY_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
MAX_PARAMS = 1000
MAX_HEADERS = 200
MAX_HEADER_BYTES = 16 * 1024

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
XML_CONTENT_TYPE = (
    "text/xml;charset=utf-8"  # the exact value the official SDK checks to parse an XML error body
)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# Gateway and common errors: HTTP status and message, word for word from the API reference (ecs-api.md §4).
GATEWAY_ERRORS: dict[str, tuple[int, str]] = {
    # ECS answers a V1 request signed with the wrong secret IncompleteSignature, in these words (live
    # replies quoted in aliyun/aliyun-openapi-python-sdk#390 and fog/fog-aliyun#32); a V3 one
    # SignatureDoesNotMatch (aliyun/alibabacloud-csharp-sdk#40). Both then give the server's string to sign.
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (400, "Specified signature does not match our calculation."),
    "InvalidSignatureMethod": (400, "Specified signature method is not valid."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "Forbidden.RAM": (
        403,
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    ),
    "Throttling": (400, "Request was denied due to request throttling."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "InternalError": (
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InvalidApi.NotFound": (404, "Specified api is not found, please check your url and method."),
    "UnsupportedHTTPMethod": (400, "This HTTP method is not supported."),
    "MissingParameter": (
        400,
        'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
    ),
    "InvalidParameter": (400, "The specified parameter is not valid."),
}

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class ErrorLike(Protocol):
    """What an error reply is made of (``GatewayError`` here, ``EmulatorError`` from the core)."""

    @property
    def status(self) -> int: ...

    @property
    def code(self) -> str: ...

    @property
    def message(self) -> str: ...


class GatewayError(Exception):
    """A refusal decided before the action runs; status and message come from :data:`GATEWAY_ERRORS`."""

    def __init__(
        self,
        code: str,
        *,
        name: str = "",
        suffix: str = "",
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        default_status, template = GATEWAY_ERRORS[code]
        self.code = code
        self.status = default_status if status is None else status
        self.message = template.format(name=name) + suffix
        self.recommend = ""
        self.retry_after = retry_after
        super().__init__(f"{self.code}: {self.message}")

    @classmethod
    def missing(cls, name: str) -> GatewayError:
        """A required parameter absent, as the API gateway words it: 400 ``MissingAction``,
        "Action is mandatory for this action." (the form live replies show; see the README's fidelity
        notes)."""
        error = cls("MissingParameter", name=name)
        error.code = f"Missing{name}"
        error.message = f"{name} is mandatory for this action."
        return error


class Headers:
    """Request headers: an ordered multi-map with case-insensitive names (stored lower-cased)."""

    __slots__ = ("_first", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: tuple[tuple[str, str], ...] = tuple((name.lower(), value) for name, value in items)
        self._first: dict[str, str] = {}  # each name's first value: a request asks for ~8 names
        for key, value in self._items:
            self._first.setdefault(key, value)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._items if key == wanted]

    def items(self) -> tuple[tuple[str, str], ...]:
        return self._items

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class ApiRequest:
    """A decoded API request: query and form parameters kept apart (only the query is signed in V3)."""

    method: str
    path: str
    query: Mapping[str, str]
    form: Mapping[str, str]
    headers: Headers
    body: bytes
    client_host: str | None = None

    @property
    def params(self) -> dict[str, str]:
        """Query and form parameters together (parsing refuses a name that appears in both)."""
        merged = dict(self.query)
        merged.update(self.form)
        return merged

    @property
    def host(self) -> str:
        return self.headers.get("host") or ""


@dataclass(frozen=True)
class WireResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    # Seconds the hosting layer waits before sending (the latency fault).
    delay: float = 0.0
    # The hosting layer drops the connection instead of replying (reset and lost-response faults).
    drop_connection: bool = False

    async def wait_out(self) -> None:
        """Wait the reply's ``delay`` in an async host. Under asyncio (uvicorn) with asyncio's own sleep:
        anyio's first sleep imports its backend, which made the first delayed reply some 80 ms later than
        the latency knob says."""
        if self.delay <= 0:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # another event loop (trio): anyio sleeps on each
            import anyio

            await anyio.sleep(self.delay)
            return
        await asyncio.sleep(self.delay)


def decode_form(raw: bytes | str) -> dict[str, str]:
    """Decode ``a=1&b=x+y`` with form semantics; refuse duplicates, bad escapes, non-UTF-8 and excess."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise GatewayError("InvalidParameter") from None
    else:
        text = raw
    if not text:
        return {}
    if _BAD_PERCENT.search(text):
        raise GatewayError("InvalidParameter")
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_PARAMS
        )
    except (ValueError, UnicodeDecodeError):
        raise GatewayError("InvalidParameter") from None
    result: dict[str, str] = {}
    for name, value in pairs:
        if not name or name in result:
            raise GatewayError("InvalidParameter")
        result[name] = value
    return result


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_request(
    method: str,
    path: str,
    query: bytes | str,
    headers: Sequence[tuple[str, str]] | Sequence[tuple[bytes, bytes]],
    body: bytes,
    *,
    client_host: str | None = None,
) -> ApiRequest:
    """Build an :class:`ApiRequest`; :class:`GatewayError` (4xx) for input no gateway would accept."""
    if len(query) > MAX_QUERY_BYTES or len(body) > MAX_BODY_BYTES or len(headers) > MAX_HEADERS:
        raise GatewayError("InvalidParameter")
    decoded_headers: list[tuple[str, str]] = []
    for name, value in headers:
        name_text = name.decode("latin-1") if isinstance(name, bytes) else name
        value_text = _header_text(value) if isinstance(value, bytes) else value
        if len(name_text) + len(value_text) > MAX_HEADER_BYTES:
            raise GatewayError("InvalidParameter")
        decoded_headers.append((name_text, value_text))
    header_map = Headers(decoded_headers)
    query_params = decode_form(query)
    form_params: dict[str, str] = {}
    if body and _media_type(header_map.get("content-type")) == FORM_CONTENT_TYPE:
        form_params = decode_form(body)
        if len(query_params) + len(form_params) > MAX_PARAMS or query_params.keys() & form_params.keys():
            raise GatewayError("InvalidParameter")
    return ApiRequest(
        method=method.upper(),
        path=path or "/",
        query=query_params,
        form=form_params,
        headers=header_map,
        body=body,
        client_host=client_host,
    )


def safe_headers(headers: Iterable[tuple[Any, Any]]) -> Headers:
    """Headers for an error reply to a request that could not be parsed (never raises)."""
    items: list[tuple[str, str]] = []
    for name, value in list(headers)[:MAX_HEADERS]:
        items.append((_text(name), _text(value)[:MAX_HEADER_BYTES]))
    return Headers(items)


def _text(raw: str | bytes) -> str:
    return raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)


def _header_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def host_id(host: str) -> str:
    """The ``HostId`` of an error body: the endpoint host without its port."""
    name = host.strip()
    if name.startswith("["):  # [::1]:8470
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    return name or "ecs.aliyuncs.com"


TROUBLESHOOT_URL = "https://api.aliyun.com/troubleshoot?"


def recommend_url(code: str, request_id: str) -> str:
    return f"{TROUBLESHOOT_URL}q={code}&product=Ecs&requestId={request_id}"


def _response_headers(content_type: str, request_id: str, body: bytes) -> list[tuple[str, str]]:
    return [
        ("content-type", content_type),
        ("content-length", str(len(body))),
        ("x-acs-request-id", request_id),
    ]


def success_response(
    action: str, body: Mapping[str, Any], request_id: str, *, xml: bool = False
) -> WireResponse:
    """The reply to a call that succeeded: ``RequestId`` first, then the action's fields."""
    document: dict[str, Any] = {"RequestId": request_id}
    document.update((key, value) for key, value in body.items() if key != "RequestId")
    if xml:
        payload = to_xml(f"{action or 'Api'}Response", document)
        content_type = XML_CONTENT_TYPE
    else:
        payload = to_json(document)
        content_type = JSON_CONTENT_TYPE
    return WireResponse(200, tuple(_response_headers(content_type, request_id, payload)), payload)


def encode_body(body: Mapping[str, Any]) -> bytes:
    """A successful JSON reply's fields without ``RequestId``, encoded once (the gateway caches reads)."""
    return to_json({key: value for key, value in body.items() if key != "RequestId"})


def success_response_encoded(encoded: bytes, request_id: str) -> WireResponse:
    """What ``success_response`` gives (JSON), from a body ``encode_body`` encoded: ``RequestId`` first."""
    head = to_json({"RequestId": request_id})
    # one copy of a large body, not three
    payload = head if encoded == b"{}" else b"".join((head[:-1], b",", memoryview(encoded)[1:]))
    return WireResponse(200, tuple(_response_headers(JSON_CONTENT_TYPE, request_id, payload)), payload)


def error_response(
    error: ErrorLike,
    request_id: str,
    *,
    host: str = "",
    xml: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> WireResponse:
    """The error body real ECS sends: ``RequestId, HostId, Code, Message, Recommend`` (+ ``extra`` fields)."""
    recommend = getattr(error, "recommend", "") or recommend_url(error.code, request_id)
    if recommend.startswith(TROUBLESHOOT_URL) and "requestId=" not in recommend:
        recommend += f"&requestId={request_id}"  # as real replies link the request to the troubleshooter
    document: dict[str, Any] = {
        "RequestId": request_id,
        "HostId": host_id(host),
        "Code": error.code,
        "Message": error.message,
        "Recommend": recommend,
    }
    if extra:
        document.update(extra)
    if xml:
        payload = to_xml("Error", document)
        content_type = XML_CONTENT_TYPE
    else:
        payload = to_json(document)
        content_type = JSON_CONTENT_TYPE
    headers = _response_headers(content_type, request_id, payload)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None and retry_after > 0:
        headers.append(("x-acs-retry-after", str(int(retry_after))))
    return WireResponse(error.status, tuple(headers), payload)


def plain_json_response(status: int, document: Any) -> WireResponse:
    """A control-API reply: plain JSON, no ``RequestId``."""
    payload = to_json(document)
    headers = (("content-type", JSON_CONTENT_TYPE), ("content-length", str(len(payload))))
    return WireResponse(status, headers, payload)


# One reusable encoder; replies are trees built fresh for each call, so no cycle check is needed.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def to_json(document: Any) -> bytes:
    """Compact UTF-8 JSON. orjson encodes a page of 100 disks in ~0.1 ms (the json module: ~0.8 ms); what it
    refuses (an integer past 64 bits from a fleet file) goes through the json module."""
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        return _ENCODER.encode(document).encode("utf-8")


def to_xml(root: str, document: Mapping[str, Any]) -> bytes:
    """Serialise like the real RPC XML replies: a list under ``Key`` becomes repeated ``<Key>`` elements."""
    parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml_element(parts, root, document)
    return "".join(parts).encode("utf-8")


def _xml_name(name: str) -> str:
    if _XML_NAME.match(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"


def _xml_element(parts: list[str], name: str, value: Any) -> None:
    tag = _xml_name(name)
    if isinstance(value, list | tuple):
        for item in value:
            _xml_element(parts, name, item)
        return
    parts.append(f"<{tag}>")
    if isinstance(value, Mapping):
        for key, child in value.items():
            _xml_element(parts, str(key), child)
    elif isinstance(value, bool):
        parts.append("true" if value else "false")
    elif value is not None:
        parts.append(escape(str(value)))
    parts.append(f"</{tag}>")
