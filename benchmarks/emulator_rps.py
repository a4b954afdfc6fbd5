"""Requests per second that `ecs-detach emulator` serves for DescribeDisks pages of 100.

    python benchmarks/emulator_rps.py [--seconds 5] [--clients 1,4] [--latency-ms 0]

Starts the real command (`python -m ecs_detach.cli emulator --port 0`) on a generated fleet (by default
2 000 instances, 4 000 disks, 2 regions), then keeps N client threads busy, each on its own keep-alive
connection, paging through DescribeDisks with MaxResults=100 (V3-signed, as the official SDK signs).
Prints one line per client count. The client runs in this process and shares the machine's cores with
the server: the figure is a floor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx

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
    del headers["host"]
    return headers


def worker(url: str, region: str, stop: float, counts: list[int], errors: list[str]) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        host = client.base_url.netloc.decode()
        token = ""
        done = 0
        while time.perf_counter() < stop:
            query = {"RegionId": region, "MaxResults": "100"}
            if token:
                query["NextToken"] = token
            response = client.post("/?" + urlencode(query), headers=signed_headers(host, query))
            if response.status_code != 200:
                errors.append(response.text[:200])
                break
            body = response.json()
            if len(body["Disks"]["Disk"]) != 100 and body.get("NextToken"):
                errors.append("a page that is not the last had fewer than 100 disks")
            token = body.get("NextToken") or ""
            done += 1
        counts.append(done)


def run_round(url: str, region: str, clients: int, seconds: float) -> bool:
    counts: list[int] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=worker, args=(url, region, stop, counts, errors)) for _ in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        print(f"errors: {errors[:3]}", file=sys.stderr)
        return False
    total = sum(counts)
    print(f"{clients} client(s): {total} pages in {elapsed:.1f} s = {total / elapsed:.0f} requests/s")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--disks", type=int, default=4000)
    parser.add_argument("--regions", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        fleet_path = Path(tmp) / "fleet.json"
        fleet = generate_fleet(instances=args.instances, disks=args.disks, regions=args.regions, seed=1)
        fleet_path.write_text(json.dumps(fleet), encoding="utf-8")
        region = fleet["Regions"][0]["RegionId"]
        server = subprocess.Popen(
            [sys.executable, "-m", "ecs_detach.cli", "emulator", "--port", "0", "--fleet", str(fleet_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            first = server.stdout.readline().strip()
            if not first.startswith("emulator listening on "):
                print(f"the emulator did not start: {first!r}", file=sys.stderr)
                return 1
            url = first.removeprefix("emulator listening on ")
            if args.latency_ms:
                httpx.post(f"{url}/_emulator/faults", json={"latency_ms": args.latency_ms})
            print(
                f"emulator at {url}; fleet {args.instances} instances, {args.disks} disks, "
                f"{args.regions} regions; DescribeDisks MaxResults=100 in {region}; "
                f"added latency {args.latency_ms} ms"
            )
            for clients in (int(n) for n in args.clients.split(",")):
                if not run_round(url, region, clients, args.seconds):
                    return 1
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
