"""A fault-injecting HTTP proxy on 127.0.0.1, between the client and ``ecs-detach emulator`` (served).

It forwards each request to the emulator unchanged and answers with the emulator's reply, unless a rule of
its script names the request ("the 1st StopInstance", "the 2nd DetachDisk"), in which case it applies the
rule's fault instead:

``reset_before``   the connection is reset before anything is forwarded (not applied)
``reset_after``    forwarded, then the connection is reset (applied, no answer)
``cut``            forwarded; the answer stops half-way through its body (applied, a broken answer)
``trickle``        forwarded; the answer comes a few bytes at a time (applied, a slow but whole answer)
``html_before``    a gateway's HTML 503 page, nothing forwarded (not applied)
``html_after``     forwarded, then a gateway's HTML 503 page instead of the answer (applied)
``replay``         forwarded twice; the second answer is returned (applied once, refused as a replay)
``crawl``          forwarded; the answer comes a byte every 0.1 s for up to 10 s, then the rest (not in the
                   matrix: for a client's total deadline)
``crawl_head``     forwarded; the status line, then a header that never ends, a byte every 0.05 s, until
                   the connection is reset after 20 s (not in the matrix: each read is quick, so only a
                   total deadline ends the call before that reset)

Each client connection carries one request (the proxy answers ``Connection: close``), so a fault never
leaks into the next call. ``log`` lists what it did: (action, n-th of that action, fault or "").
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

FAULT_KINDS = ("reset_before", "reset_after", "cut", "trickle", "html_before", "html_after", "replay")
APPLIED_BY = {  # whether the emulator applies the call under each fault
    "reset_before": False,
    "reset_after": True,
    "cut": True,
    "trickle": True,
    "html_before": False,
    "html_after": True,
    "replay": True,
    "crawl": True,
    "crawl_head": True,
}
GATEWAY_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
    "<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>"
)
TRICKLE_BYTES, TRICKLE_PAUSE = 16, 0.002
CRAWL_BYTES, CRAWL_PAUSE = 100, 0.1
HEAD_PAUSE, HEAD_SECONDS = 0.05, 20.0


@dataclass(frozen=True)
class Rule:
    action: str
    nth: int  # 1-based, counted per action over the proxy's life (or since ``script``)
    fault: str


@dataclass(frozen=True)
class Forwarded:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class FaultProxy:
    """``with FaultProxy("http://127.0.0.1:PORT") as proxy: proxy.script(Rule(...)); ... proxy.url``."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._rules: dict[tuple[str, int], str] = {}
        self._seen: Counter[str] = Counter()
        self._faulted = threading.Condition(self._lock)
        self.log: list[tuple[str, int, str]] = []
        self.endings: list[str] = []  # how each crawl_head ended
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *rules: Rule) -> None:
        """Replace the script; counting starts again from zero."""
        unknown = [r.fault for r in rules if r.fault not in APPLIED_BY]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {sorted(APPLIED_BY)}")
        with self._lock:
            self._rules = {(r.action, r.nth): r.fault for r in rules}
            self._seen.clear()
            self.log.clear()

    def faults_applied(self) -> list[tuple[str, int, str]]:
        return [entry for entry in self.log if entry[2]]

    def wait_for_fault(self, timeout: float = 30.0) -> bool:
        """Block until a rule of the script has fired (its request arrived); False after `timeout`."""
        return self.wait_until(lambda: any(entry[2] for entry in self.log), timeout)

    def wait_until(self, condition: Callable[[], object], timeout: float = 30.0) -> bool:
        """Block until `condition()` holds, checked as the proxy logs requests and endings."""
        with self._faulted:
            return bool(self._faulted.wait_for(condition, timeout))

    # -- one connection, one request ---------------------------------------------------------------------

    def _handle(self, conn: socket.socket) -> None:
        request = _read_request(conn)
        if request is None:
            return
        method, target, headers, body = request
        action = headers.get("x-acs-action") or dict(parse_qsl(urlsplit(target).query)).get("Action", "")
        with self._lock:
            self._seen[action] += 1
            nth = self._seen[action]
            fault = self._rules.get((action, nth), "")
            self.log.append((action, nth, fault))
            self._faulted.notify_all()
        if fault == "reset_before":
            _reset(conn)
            return
        if fault == "html_before":
            _send(conn, _gateway(503, "Service Temporarily Unavailable"))
            return
        answer = self._forward(method, target, headers, body)
        if fault == "replay":
            answer = self._forward(method, target, headers, body)
        if fault == "reset_after":
            _reset(conn)
        elif fault == "html_after":
            _send(conn, _gateway(503, "Service Temporarily Unavailable"))
        elif fault == "cut":
            _send(conn, answer, cut=True)
        elif fault == "crawl":
            _send(conn, answer, crawl=True)
        elif fault == "crawl_head":
            ending = _crawl_head(conn, answer)
            with self._faulted:
                self.endings.append(ending)
                self._faulted.notify_all()
        else:
            _send(conn, answer, trickle=fault == "trickle")

    def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Forwarded:
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            upstream.request(method, target, body=body, headers=headers)
            reply = upstream.getresponse()
            content = reply.read()
            kept = [
                (k, v)
                for k, v in reply.getheaders()
                if k.lower() not in ("content-length", "connection", "transfer-encoding")
            ]
            return Forwarded(reply.status, reply.reason, kept, content)
        finally:
            upstream.close()


def _read_request(conn: socket.socket) -> tuple[str, str, dict[str, str], bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    headers.pop("connection", None)
    headers.pop("keep-alive", None)
    return method, target, headers, rest[:length]


def _gateway(status: int, reason: str) -> Forwarded:
    page = GATEWAY_PAGE.format(status=status, reason=reason).encode()
    return Forwarded(status, reason, [("content-type", "text/html")], page)


def _send(
    conn: socket.socket,
    answer: Forwarded,
    *,
    cut: bool = False,
    trickle: bool = False,
    crawl: bool = False,
) -> None:
    head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
    head += [f"{k}: {v}" for k, v in answer.headers]
    head += [f"Content-Length: {len(answer.body)}", "Connection: close", "", ""]
    try:
        conn.sendall("\r\n".join(head).encode("latin-1"))
        body = answer.body[: len(answer.body) // 2] if cut else answer.body
        if crawl:
            for start in range(min(len(body), CRAWL_BYTES)):
                conn.sendall(body[start : start + 1])
                time.sleep(CRAWL_PAUSE)
            conn.sendall(body[CRAWL_BYTES:])
        elif trickle:
            for start in range(0, len(body), TRICKLE_BYTES):
                conn.sendall(body[start : start + TRICKLE_BYTES])
                time.sleep(TRICKLE_PAUSE)
        else:
            conn.sendall(body)
    except OSError:
        return
    if cut:
        conn.shutdown(socket.SHUT_RDWR)


def _crawl_head(conn: socket.socket, answer: Forwarded) -> str:
    """A status line, then a header that never ends; how it ended: the client hung up, or the proxy did."""
    end = time.monotonic() + HEAD_SECONDS
    try:
        conn.sendall(f"HTTP/1.1 {answer.status} {answer.reason}\r\nX-Crawl: ".encode("latin-1"))
        while time.monotonic() < end:
            conn.sendall(b"a")
            time.sleep(HEAD_PAUSE)
    except OSError:
        return "client hung up"
    _reset(conn)
    return "reset by the proxy"


def _reset(conn: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not an orderly end."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
