"""Local stand-ins of the ECS metadata service, STS and a credentials URI, on 127.0.0.1 only.

The official library reaches the metadata service at its fixed address over plain http; it honours
``HTTP_PROXY``, so the tests point that at this server, which answers the metadata paths itself (the fixed
address is never contacted). STS is reached at ``sts_endpoint`` / ``ALIBABA_CLOUD_STS_ENDPOINT``, which the
library accepts as a full ``http://`` URL.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ISSUED_KEY_ID = "STS.NTemporaryKeyFromStandIn01"
ISSUED_SECRET = "TemporarySecretFromStandIn0123"
ISSUED_TOKEN = "CAIS-temporary-token-from-stand-in"
FAR_FUTURE = "2099-01-01T00:00:00Z"
METADATA_HOST = "100.100.100.200"


@dataclass
class Seen:
    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class StandIn:
    """What the server answers (``fail``: an HTTP status for every call, with a body that echoes the
    caller's AccessKeyId, as real error bodies do) and what it saw."""

    url: str = ""
    role_name: str = "EcsDetachRole"
    fail: int = 0
    seen: list[Seen] = field(default_factory=list)

    @property
    def proxy(self) -> str:
        return self.url

    def metadata_calls(self) -> list[Seen]:
        return [call for call in self.seen if call.host == METADATA_HOST]

    def sts_calls(self) -> list[Seen]:
        return [call for call in self.seen if call.query.get("Action", "").startswith("AssumeRole")]


def _temporary(**extra: Any) -> dict[str, Any]:
    return {
        "AccessKeyId": ISSUED_KEY_ID,
        "AccessKeySecret": ISSUED_SECRET,
        "SecurityToken": ISSUED_TOKEN,
        "Expiration": FAR_FUTURE,
        **extra,
    }


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            parts = urlsplit(self.path)  # an absolute URI when we are the proxy
            host = parts.hostname or self.headers.get("Host", "").split(":")[0]
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            state.seen.append(Seen(self.command, host, parts.path, query, dict(self.headers.items())))
            if state.fail:
                key = query.get("AccessKeyId", "")
                self._answer(state.fail, {"Code": "NoPermission", "Message": f"AccessKeyId {key} is denied"})
                return
            if host == METADATA_HOST:
                self._metadata(parts.path)
            elif query.get("Action") in ("AssumeRole", "AssumeRoleWithOIDC"):
                self._answer(200, {"RequestId": "STAND-IN", "Credentials": _temporary()})
            elif parts.path == "/credentials":
                self._answer(200, _temporary(Code="Success"))
            else:
                self._answer(404, {"Code": "NotFound"})

        def _metadata(self, path: str) -> None:
            base = "/latest/meta-data/ram/security-credentials/"
            if path == "/latest/api/token":
                self._answer(200, "metadata-token-from-stand-in")
            elif path == base:
                self._answer(200, state.role_name)
            elif path == base + state.role_name:
                self._answer(200, _temporary(Code="Success", LastUpdated="2024-01-01T00:00:00Z"))
            else:
                self._answer(404, "not found")

        def do_GET(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

    return Handler


class StandInServer:
    """``with StandInServer() as stand_in:``: the server runs in a thread on 127.0.0.1, a free port."""

    def __init__(self) -> None:
        self.state = StandIn()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.state.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
