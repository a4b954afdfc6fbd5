"""Requests per second that ``ecs-detach emulator`` serves for DescribeDisks pages of 100, against a minimal
ASGI app under the same uvicorn (h11) returning a body of the same size.

    python benchmarks/emulator_rps.py [--requests 2000] [--clients 1,4] [--rounds 3] [--latency-ms 0]

Starts the real command (``python -m ecs_detach.cli emulator --port 0``) on a generated fleet (by default
2 000 instances, 4 000 disks, 2 regions), and, as its own process too, a minimal ASGI app under uvicorn that
answers every request with a stored DescribeDisks page (same bytes, same content type). A light load
generator in this process (raw sockets, one keep-alive connection per client thread, requests V3-signed
beforehand with their own nonces, pages walked with NextToken and MaxResults=100) sends the same number
of requests to each, the two servers alternated round after round. Prints medians of requests per second,
the server's CPU per request, and emulator / minimal (goal: at least 0.5x). Both servers share the
machine's two cores with the load generator, so both figures are floors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from _common import ROOT, Served, footer, header, median, served_emulator, table, verdict

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET, verify
from ecs_detach.emulator.generate import generate_fleet


def signed_headers(host: str, query: dict[str, str]) -> dict[str, str]:
    headers = {
        "host": host,
        "x-acs-action": "DescribeDisks",
        "x-acs-version": "2014-05-26",
        "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    names = sorted(headers)
    canonical = verify.v3_canonical_request(
        "POST", "/", query, {k: [v] for k, v in headers.items()}, names, headers["x-acs-content-sha256"]
    )
    signature = verify.v3_signature(EMULATOR_ACCESS_KEY_SECRET, verify.v3_string_to_sign(canonical))
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={EMULATOR_ACCESS_KEY_ID},SignedHeaders={';'.join(names)},"
        f"Signature={signature}"
    )
    return headers


def raw_request(host: str, query: dict[str, str]) -> bytes:
    lines = [f"POST /?{urlencode(query)} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in signed_headers(host, query).items()]
    lines += ["content-length: 0", "", ""]
    return "\r\n".join(lines).encode("ascii")


class Connection:
    """One keep-alive HTTP/1.1 connection that sends prepared bytes and reads a Content-Length reply."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return status, rest[:length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


def page_tokens(url: str, region: str) -> tuple[list[str], bytes]:
    """The NextTokens of every page of the region (walked once), and the first page's body."""
    host = urlsplit(url).netloc
    connection = Connection(url)
    tokens, first = [""], b""
    try:
        while True:
            query = {"RegionId": region, "MaxResults": "100"} | (
                {"NextToken": tokens[-1]} if tokens[-1] else {}
            )
            status, body = connection.exchange(raw_request(host, query))
            if status != 200:
                raise SystemExit(f"the emulator answered {status}: {body[:200]!r}")
            first = first or body
            token = json.loads(body).get("NextToken") or ""
            if not token:
                return tokens, first
            tokens.append(token)
    finally:
        connection.close()


def prepared_requests(url: str, region: str, tokens: list[str], count: int) -> list[bytes]:
    host = urlsplit(url).netloc
    out = []
    for n in range(count):
        token = tokens[n % len(tokens)]
        query = {"RegionId": region, "MaxResults": "100"} | ({"NextToken": token} if token else {})
        out.append(raw_request(host, query))
    return out


def load(url: str, requests: list[bytes], clients: int) -> float:
    """Send every request (split over ``clients`` connections); requests per second."""
    errors: list[str] = []
    connections = [Connection(url) for _ in range(clients)]

    def worker(connection: Connection, mine: list[bytes]) -> None:
        for request in mine:
            status, body = connection.exchange(request)
            if status != 200:
                errors.append(f"HTTP {status}: {body[:200]!r}")
                return

    threads = [
        threading.Thread(target=worker, args=(connections[n], requests[n::clients])) for n in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    if errors:
        raise SystemExit(f"errors: {errors[:3]}")
    return len(requests) / elapsed


# --- the minimal app ------------------------------------------------------------------------------------


def serve_minimal(body_path: str) -> int:
    """A minimal ASGI app under uvicorn (h11, like the emulator) answering every request with one body."""
    import uvicorn

    body = Path(body_path).read_bytes()
    headers = [
        (b"content-type", b"application/json;charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # as server.py binds
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"minimal app listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, http="h11", lifespan="off", access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


@contextmanager
def minimal_app(body: bytes) -> Iterator[Served]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "body.json"
        path.write_bytes(body)
        command = [sys.executable, str(ROOT / "benchmarks" / "emulator_rps.py"), "--serve-minimal", str(path)]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            first = server.stdout.readline().strip()
            if not first.startswith("minimal app listening on "):
                raise SystemExit(f"the minimal app did not start: {first!r}")
            yield Served(first.removeprefix("minimal app listening on "), server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--clients", default="1,4", help="connections (comma list)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (each measures both servers)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the emulator's latency knob")
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--disks", type=int, default=4000)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--serve-minimal", metavar="BODY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_minimal:
        return serve_minimal(args.serve_minimal)

    header(
        "emulator: DescribeDisks pages of 100 per second under uvicorn, vs a minimal ASGI app",
        f"python benchmarks/emulator_rps.py --requests {args.requests} --clients {args.clients} "
        f"--rounds {args.rounds}",
    )
    fleet = generate_fleet(instances=args.instances, disks=args.disks, regions=args.regions, seed=1)
    region = fleet["Regions"][0]["RegionId"]
    counts = [int(n) for n in args.clients.split(",")]
    rps: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    with served_emulator(fleet) as emulator:
        if args.latency_ms:
            emulator.control("POST", "faults", {"latency_ms": args.latency_ms})
        tokens, body = page_tokens(emulator.url, region)
        print(
            f"fleet {args.instances} instances, {args.disks} disks, {args.regions} regions; "
            f"{len(tokens)} pages in {region}; a page is {len(body)} bytes; "
            f"added latency {args.latency_ms:g} ms"
        )
        with minimal_app(body) as minimal:
            servers = {"emulator": emulator, "minimal app": minimal}
            for round_number in range(args.rounds):
                names = list(servers) if round_number % 2 == 0 else list(reversed(servers))
                for name in names:
                    for clients in counts:
                        requests = prepared_requests(servers[name].url, region, tokens, args.requests)
                        before = servers[name].cpu()
                        rps.setdefault((name, clients), []).append(load(servers[name].url, requests, clients))
                        spent = servers[name].cpu() - before
                        cpu.setdefault((name, clients), []).append(spent / args.requests * 1000)
    rows = []
    for clients in counts:
        ours, minimal_rps = median(rps["emulator", clients]), median(rps["minimal app", clients])
        rows.append(
            [
                clients,
                f"{ours:.0f}",
                f"{minimal_rps:.0f}",
                f"{median(cpu['emulator', clients]):.2f}",
                f"{median(cpu['minimal app', clients]):.2f}",
                f"{ours / minimal_rps:.2f}x ({verdict(ours / minimal_rps >= 0.5)})",
            ]
        )
    headers = [
        "clients",
        "emulator req/s",
        "minimal app req/s",
        "emulator CPU ms/req",
        "minimal CPU ms/req",
        "emulator / minimal (goal >= 0.5x)",
    ]
    print(table(rows, headers))
    print(f"{args.rounds} rounds of {args.requests} requests per server and client count; medians")
    footer()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
