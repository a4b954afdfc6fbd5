"""The emulator as an ASGI app: the API at ``/``, the control API at ``/_emulator/`` (loopback only).

Control API (plain JSON, not signed), as pinned in the design:

``GET /_emulator/health``       ``{"status": "ok", "emulator_time": ..., "now": ...}``
``GET /_emulator/state``        the fleet file of the current state
``POST /_emulator/reset``       a fleet file, or ``{"fleet": "demo"}`` (never a path); empty: the first fleet
``POST /_emulator/clock``       ``{"advance_seconds": N}``: due transitions fire
``POST /_emulator/faults``      ``{"rate": 0.2, "kinds": [...], "actions": [...], "seed": 7}``
                                (also ``latency_ms``, ``retry_after_ms``); ``GET`` shows the plan
``DELETE /_emulator/faults``    no more faults (a reset clears them too, unless ``"keep_faults": true``)
``GET /_emulator/requests``     ``{"requests": [...]}``: the API calls received (action, parameters
                                without secrets, status, code); ``DELETE`` empties the list
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ecs_detach.emulator.faults import FaultPlan, FaultPlanError
from ecs_detach.emulator.wire import MAX_BODY_BYTES, WireResponse, plain_json_response

if TYPE_CHECKING:
    from ecs_detach.emulator import Emulator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator"
ABORT_MESSAGE = "emulator.abort"  # understood by server.py's protocol: drop the connection, send nothing
MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 3600


class ConnectionDropped(Exception):
    """Raised inside the app to make a server that does not know ``emulator.abort`` drop the connection."""


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback(host: str | None) -> bool:
    if host is None:  # no peer address: a unix socket or an in-process call
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


class ControlApi:
    """The ``/_emulator/`` routes over an :class:`~ecs_detach.emulator.Emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle(self, method: str, path: str, body: bytes) -> WireResponse:
        try:
            document = self._route(method.upper(), path.rstrip("/"), body)
        except ControlError as error:
            return plain_json_response(error.status, {"error": error.message})
        return plain_json_response(200, document)

    def _route(self, method: str, path: str, body: bytes) -> Any:
        emulator = self.emulator
        routes: dict[str, dict[str, Callable[[], Any]]] = {
            f"{CONTROL_PREFIX}/health": {"GET": self._health},
            f"{CONTROL_PREFIX}/state": {"GET": emulator.state},
            f"{CONTROL_PREFIX}/reset": {"POST": lambda: self._reset(body)},
            f"{CONTROL_PREFIX}/clock": {"POST": lambda: self._clock(body)},
            f"{CONTROL_PREFIX}/faults": {
                "GET": lambda: {"faults": emulator.faults.to_json()},
                "POST": lambda: self._faults(body),
                "DELETE": self._clear_faults,
            },
            f"{CONTROL_PREFIX}/requests": {
                "GET": lambda: {"requests": emulator.requests},
                "DELETE": self._clear_requests,
            },
        }
        methods = routes.get(path)
        if methods is None:
            known = ", ".join(sorted(routes))
            raise ControlError(404, f"no control route {path!r}; routes: {known}")
        handler = methods.get(method)
        if handler is None:
            raise ControlError(405, f"{path} accepts {', '.join(sorted(methods))}, not {method}")
        return handler()

    def _health(self) -> dict[str, Any]:
        return {"status": "ok", "now": self.emulator.now(), "emulator_time": self.emulator.now_iso()}

    def _reset(self, body: bytes) -> dict[str, Any]:
        from ecs_detach.emulator.fleet import FleetError

        document = _json_body(body, allow_empty=True)
        keep_faults = False
        if document is None:
            fleet: Any = None
        elif isinstance(document, dict) and document and set(document) <= {"fleet", "keep_faults"}:
            fleet = document.get("fleet")
            if fleet is not None and fleet != "demo" and not isinstance(fleet, dict):
                # The control API reads no files: a path would let any local client probe the disk.
                raise ControlError(
                    400,
                    'cannot load that fleet: "fleet" must be "demo" or a fleet object (the control API reads '
                    "no files: POST the file's JSON itself)",
                )
            keep_faults = document.get("keep_faults", False)
            if not isinstance(keep_faults, bool):
                raise ControlError(400, '"keep_faults" must be true or false')
        elif isinstance(document, dict):
            fleet = document
        else:
            raise ControlError(
                400, 'the body must be a fleet file (a JSON object) or {"fleet": "demo", "keep_faults": true}'
            )
        try:
            self.emulator.reset(fleet, keep_faults=keep_faults)
        except (FleetError, OSError) as error:
            raise ControlError(400, f"cannot load that fleet: {error}") from None
        except RecursionError:
            raise ControlError(400, "cannot load that fleet: it is nested too deeply") from None
        return {"status": "reset", **self._counts()}

    def _counts(self) -> dict[str, int]:
        state = self.emulator.state()
        return {name.lower(): len(state.get(name) or []) for name in ("Regions", "Instances", "Disks")}

    def _clock(self, body: bytes) -> dict[str, Any]:
        document = _json_body(body)
        if not isinstance(document, dict) or set(document) != {"advance_seconds"}:
            raise ControlError(400, 'the body must be {"advance_seconds": N}')
        seconds = document["advance_seconds"]
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or not 0 <= seconds <= MAX_ADVANCE_SECONDS
        ):
            raise ControlError(400, "advance_seconds must be a number of seconds from 0 to ten years")
        self.emulator.advance(float(seconds))
        return self._health()

    def _faults(self, body: bytes) -> dict[str, Any]:
        try:
            plan = FaultPlan.from_json(_json_body(body))
        except FaultPlanError as error:
            raise ControlError(400, str(error)) from None
        self.emulator.gateway.faults.set_plan(plan)
        return {"faults": plan.to_json()}

    def _clear_faults(self) -> dict[str, Any]:
        self.emulator.clear_faults()
        return {"faults": self.emulator.faults.to_json()}

    def _clear_requests(self) -> dict[str, Any]:
        self.emulator.gateway.clear_log()
        return {"requests": []}


def _json_body(body: bytes, *, allow_empty: bool = False) -> Any:
    if not body.strip():
        if allow_empty:
            return None
        raise ControlError(400, "this route needs a JSON body")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ControlError(400, f"the body is not valid JSON: {error}") from None
    except RecursionError:
        document = None
    if (document is None and body.strip() != b"null") or _deeper_than(document, MAX_CONTROL_DEPTH):
        raise ControlError(
            400, f"the body nests JSON more than {MAX_CONTROL_DEPTH} levels deep; no control request needs it"
        )
    return document


MAX_CONTROL_DEPTH = 32


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether ``document`` nests lists and objects more than ``limit`` levels deep (without recursing)."""
    level: list[tuple[Any, int]] = [(document, 1)]
    while level:
        node, depth = level.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            level.extend((child, depth + 1) for child in children)
    return False


class EmulatorApp:
    """ASGI 3 app: the API and the control routes."""

    def __init__(self, emulator: Emulator, *, allow_remote_control: bool = False) -> None:
        self.emulator = emulator
        self.control = ControlApi(emulator)
        self.allow_remote_control = allow_remote_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        client = scope.get("client")
        client_host = client[0] if client else None
        body, too_large = await _read_body(receive)
        path: str = scope.get("path") or "/"
        query: bytes = scope.get("query_string") or b""
        headers = list(scope.get("headers") or [])
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            if not (self.allow_remote_control or is_loopback(client_host)):
                reply = plain_json_response(403, {"error": "the control API answers loopback clients only"})
            elif too_large:
                reply = plain_json_response(413, {"error": "the body is too large"})
            else:
                reply = self._guarded(lambda: self.control.handle(scope["method"], path, body), control=True)
        else:
            reply = self._guarded(
                lambda: self.emulator.gateway.dispatch(
                    scope["method"], path, query, headers, body, client_host=client_host, oversized=too_large
                ),
                control=False,
            )
        await reply.wait_out()
        if reply.drop_connection:
            await _drop(send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [
                    (name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": reply.body, "more_body": False})

    @staticmethod
    def _guarded(answer: Callable[[], WireResponse], *, control: bool) -> WireResponse:
        """A bug in the emulator becomes a 500 with a one-line log, never a traceback on the console."""
        try:
            return answer()
        except Exception as error:
            logger.error("emulator failed on a request: %r", error)
            if control:
                return plain_json_response(500, {"error": f"the emulator failed: {error!r}"})
            from ecs_detach.emulator.gateway import new_request_id
            from ecs_detach.emulator.wire import GatewayError, error_response

            return error_response(GatewayError("InternalError"), new_request_id())


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            too_large = True
            chunks.clear()
        elif not too_large:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), too_large


async def _drop(send: Send) -> None:
    """Drop the connection without a reply (server.py's protocol); elsewhere, break the reply midway."""
    try:
        await send({"type": ABORT_MESSAGE})
        return
    except Exception:
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise ConnectionDropped("connection dropped by an injected fault")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
