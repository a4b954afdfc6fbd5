"""An httpx transport that answers from the emulator in-process: sync and async in one class.

Any Host works (``ecs.cn-beijing.aliyuncs.com`` still names the region). Injected connection faults raise
the httpx errors a real network would: the caller cannot tell a reset before the action from a reply lost
after it.
"""

from __future__ import annotations

import time

import httpx

from ecs_detach.emulator.asgi import ControlApi
from ecs_detach.emulator.gateway import Gateway
from ecs_detach.emulator.wire import WireResponse

CONNECTION_RESET = "[Errno 104] Connection reset by peer"


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """``httpx.Client(transport=t)`` and ``httpx.AsyncClient(transport=t)`` both talk to the emulator."""

    def __init__(self, gateway: Gateway, *, control: ControlApi | None = None) -> None:
        self.gateway = gateway
        self.control = control  # the /_emulator/ routes work in-process too
        self.closed = False

    def _answer(self, request: httpx.Request, body: bytes) -> WireResponse:
        path = request.url.path
        if path.startswith("/_emulator/") and self.control is not None:
            return self.control.handle(request.method, path, body)
        return self.gateway.dispatch(
            request.method,
            path,
            request.url.query,
            request.headers.raw,
            body,
            client_host="127.0.0.1",
        )

    @staticmethod
    def _to_httpx(request: httpx.Request, reply: WireResponse) -> httpx.Response:
        if reply.drop_connection:
            raise httpx.ReadError(CONNECTION_RESET, request=request)
        return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = self._answer(request, request.read())
        if reply.delay > 0:
            time.sleep(reply.delay)
        return self._to_httpx(request, reply)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        reply = self._answer(request, await request.aread())
        await reply.wait_out()
        return self._to_httpx(request, reply)

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True
