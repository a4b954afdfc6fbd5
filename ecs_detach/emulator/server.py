"""``ecs-detach emulator``: the emulator over HTTP, under uvicorn.

    ecs-detach emulator [--host 127.0.0.1] [--port 8470] [--fleet demo|PATH] [--time-scale X] [--allow-remote]

The first line printed is ``emulator listening on http://HOST:PORT`` (with the real port when
``--port 0`` asks for a free one), then the credentials it accepts. Bad flags or a bad fleet: a clear
message and exit 2. Ctrl-C stops it cleanly (exit 0).
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import logging
import socket
import sys
import threading
import time
from typing import Any

from ecs_detach.emulator import (
    DEFAULT_REGION,
    EMULATOR_ACCESS_KEY_ID,
    EMULATOR_ACCESS_KEY_SECRET,
    Emulator,
    ImmediateClock,
    ScaledClock,
)
from ecs_detach.emulator.asgi import ABORT_MESSAGE, ConnectionDropped

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # no usage dump and no SystemExit: main() prints one clear line
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ecs-detach emulator",
        description="Serve the ECS API emulator over HTTP (plus a JSON control API under /_emulator/).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port (default 8470; 0 picks a free one)"
    )
    parser.add_argument("--fleet", default="demo", help="'demo' (default) or the path of a fleet file (JSON)")
    parser.add_argument(
        "--time-scale",
        type=_scale,
        default=1.0,
        metavar="X",
        help="virtual time runs X times real time (default 1; 0 finishes every transition at once)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the API is then reachable from the network)",
    )
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text} is out of range (0 to 1000000)")
    return value


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP;
    # without it every reply waits ~40 ms for the client's delayed ACK between headers and body.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _QuietDrops(logging.Filter):
    """Injected connection drops are the point, not an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def _protocol_class() -> type:
    """uvicorn's h11 protocol, taught one extra ASGI message: ``emulator.abort`` drops the connection."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class AbortingH11Protocol(H11Protocol):
        def handle_events(self) -> None:
            super().handle_events()
            cycle = getattr(self, "cycle", None)
            if cycle is not None and not getattr(cycle, "_emulator_wrapped", False):
                original = cycle.send
                protocol = self

                async def send(message: Any) -> None:
                    if message.get("type") == ABORT_MESSAGE:
                        protocol.transport.abort()
                        cycle.disconnected = True
                        cycle.response_started = True
                        cycle.response_complete = True
                        return
                    await original(message)

                cycle.send = send
                cycle._emulator_wrapped = True

    return AbortingH11Protocol


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except _UsageError as error:
        print(f"ecs-detach emulator: {error}", file=sys.stderr)
        print(
            "usage: ecs-detach emulator [--host H] [--port N] [--fleet demo|PATH] [--time-scale X]",
            file=sys.stderr,
        )
        return 2
    if not _is_loopback_host(args.host) and not args.allow_remote:
        print(
            f"ecs-detach emulator: refusing to listen on {args.host}, which is not a loopback address; "
            "the emulator accepts a published demo key. Add --allow-remote if you really mean it.",
            file=sys.stderr,
        )
        return 2

    from ecs_detach.emulator.fleet import FleetError

    clock = ImmediateClock() if args.time_scale == 0 else ScaledClock(args.time_scale)
    try:
        emulator = Emulator(fleet=args.fleet, clock=clock, on_state_loaded=_freeze_heap)
    except (FleetError, OSError) as error:
        print(f"ecs-detach emulator: cannot load the fleet {args.fleet!r}: {error}", file=sys.stderr)
        return 2
    try:
        sock = _bind(args.host, args.port)
    except OSError as error:
        print(
            f"ecs-detach emulator: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 2
    port = sock.getsockname()[1]

    print(f"emulator listening on {_url(args.host, port)}", flush=True)
    print(f"  AccessKeyId:     {EMULATOR_ACCESS_KEY_ID}")
    print(f"  AccessKeySecret: {EMULATOR_ACCESS_KEY_SECRET}")
    extra = sorted(key for key in emulator.settings.access_keys if key != EMULATOR_ACCESS_KEY_ID)
    for key_id in extra:
        key = emulator.settings.access_keys[key_id]
        mode = " (read-only)" if key.read_only else ""
        print(f"  also accepts:    {key_id} / {key.secret}{mode}")
    print(f"  region:          {DEFAULT_REGION} (endpoint {_url(args.host, port)[7:]})")
    print(f"  control API:     {_url(args.host, port)}/_emulator/health  (Ctrl-C stops)", flush=True)

    return _serve(emulator, sock)


def _freeze_heap() -> None:
    """Keep the cyclic collector off the fleet's state in a process that only serves the emulator.

    The state is tens of thousands of long-lived dicts for a large fleet, and each full collection walked them
    all again: about a third of the server's CPU serving pages (``benchmarks/inventory.py``). Called after
    each load, so a replaced state is collected before the new one is frozen.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _uvicorn_server(emulator: Emulator) -> Any:
    import uvicorn

    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    config = uvicorn.Config(
        emulator.asgi_app(),
        http=_protocol_class(),
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


class ServerThread:
    """The emulator over HTTP in a background thread, for tests (``Emulator.serve_in_thread``)."""

    def __init__(self, emulator: Emulator, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.emulator = emulator
        self._sock = _bind(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._server = _uvicorn_server(emulator)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="ecs-emulator-http", daemon=True
        )

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    @property
    def endpoint(self) -> str:
        """``host:port``, as the official SDK's ``Config.endpoint`` wants it."""
        return self.url.removeprefix("http://")

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator could not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve(emulator: Emulator, sock: socket.socket) -> int:
    server = _uvicorn_server(emulator)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":  # ``python -m ecs_detach.emulator.server`` (what ``ecs_emulator_server`` runs)
    sys.exit(main(sys.argv[1:]))
