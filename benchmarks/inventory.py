"""Full inventory of a generated fleet (10,000 instances, 20,000 disks, 20 regions), 50 ms added per reply.

    python benchmarks/inventory.py [--rounds 3] [--latency-ms 50]

Starts ``ecs-detach emulator --port 0 --fleet PATH`` (its own process) on ``generate_fleet(10_000, 20_000,
20)``, sets the emulator's latency knob (``POST /_emulator/faults {"latency_ms": 50}``), then fetches every
instance and every disk of every region, each client in a fresh interpreter, alternated round after round:

* ``ecs-detach``: ``EcsClient(...).inventory()`` (DescribeRegions, then the regions' pages concurrently);
* ``ecs-detach async``: the same with ``AsyncEcsClient``;
* ``official SDK loop``: the straightforward loop with ``alibabacloud_ecs20140526``: DescribeRegions, then
  for each region DescribeInstances pages, then DescribeDisks pages (MaxResults=100, NextToken).

The floor is the longest chain of sequential pages in one region (pages of 100) times the added latency:
no client can be faster without asking for fewer, bigger pages. ecs-detach does ask for bigger disk pages
(500, the API's largest), so its own floor (instances in pages of 100, disks in pages of 500) is printed
beside it, with the ratio to each. Each client is timed over its calls (from DescribeRegions, which the
floor leaves out, to the last page), and ratios use that; the time from the child's first import
(interpreter start excluded; imports, client set-up and calls included) is shown beside it. The emulator is
reset before every run, so no run reads pages it cached for an earlier one. Peak memory is the child's peak
RSS (imports included). Goals:
ecs-detach at least 5x faster than the SDK loop, at most 1.5x the floor. Needs the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from typing import Any

from _common import child, emit, footer, header, median, own_cpu, peak_rss_mb, served_emulator, table, verdict

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

PAGE = 100
CONTENDERS = ("ecs-detach", "ecs-detach async", "official SDK loop")


def _ours(url: str, region: str) -> tuple[int, int, float]:
    from ecs_detach.client import EcsClient
    from ecs_detach.credentials import Credentials

    with EcsClient(
        Credentials(EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET), region, endpoint=url
    ) as c:
        started = time.perf_counter()
        inventory = c.inventory()
        calls = time.perf_counter() - started
    if inventory.errors:
        raise SystemExit(f"inventory errors: {inventory.errors}")
    return len(inventory.instances), len(inventory.disks), calls


def _ours_async(url: str, region: str) -> tuple[int, int, float]:
    import anyio

    from ecs_detach.client import AsyncEcsClient
    from ecs_detach.credentials import Credentials

    async def run() -> tuple[int, int, float]:
        creds = Credentials(EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET)
        async with AsyncEcsClient(creds, region, endpoint=url) as client:
            started = time.perf_counter()
            inventory = await client.inventory()
            calls = time.perf_counter() - started
        if inventory.errors:
            raise SystemExit(f"inventory errors: {inventory.errors}")
        return len(inventory.instances), len(inventory.disks), calls

    return anyio.run(run)


def _sdk(url: str, region: str) -> tuple[int, int, float]:
    from alibabacloud_ecs20140526 import models
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi.models import Config

    config = Config(
        access_key_id=EMULATOR_ACCESS_KEY_ID,
        access_key_secret=EMULATOR_ACCESS_KEY_SECRET,
        endpoint=url.removeprefix("http://"),
        protocol="http",
        region_id=region,
    )
    client = Client(config)
    started = time.perf_counter()
    regions = client.describe_regions(models.DescribeRegionsRequest()).body.regions.region
    instances: list[Any] = []
    disks: list[Any] = []
    for entry in regions:
        token: str | None = None
        while True:
            request = models.DescribeInstancesRequest(
                region_id=entry.region_id, max_results=PAGE, next_token=token
            )
            body = client.describe_instances(request).body
            instances += body.instances.instance
            token = body.next_token or None
            if token is None:
                break
        while True:
            disk_request = models.DescribeDisksRequest(
                region_id=entry.region_id, max_results=PAGE, next_token=token
            )
            disk_body = client.describe_disks(disk_request).body
            disks += disk_body.disks.disk
            token = disk_body.next_token or None
            if token is None:
                break
    return len(instances), len(disks), time.perf_counter() - started


def child_main(args: argparse.Namespace) -> int:
    run = {"ecs-detach": _ours, "ecs-detach async": _ours_async, "official SDK loop": _sdk}[args.child]
    cpu, started = own_cpu(), time.perf_counter()
    instances, disks, calls = run(args.url, args.region)
    emit(
        {
            "wall": time.perf_counter() - started,
            "calls": calls,
            "cpu": own_cpu() - cpu,
            "rss": peak_rss_mb(),
            "instances": instances,
            "disks": disks,
        }
    )
    return 0


def chain(fleet: dict[str, Any], disk_page: int = PAGE) -> tuple[int, str]:
    """The longest chain of sequential pages in one region (instances in pages of 100, disks in pages of
    ``disk_page``), and that region."""
    instances = Counter(i["RegionId"] for i in fleet["Instances"])
    owner = {i["InstanceId"]: i["RegionId"] for i in fleet["Instances"]}
    disks = Counter(d.get("RegionId") or owner[d["InstanceId"]] for d in fleet["Disks"])
    longest = {
        region["RegionId"]: max(
            math.ceil(instances[region["RegionId"]] / PAGE),
            math.ceil(disks[region["RegionId"]] / disk_page),
            1,
        )
        for region in fleet["Regions"]
    }
    region = max(longest, key=lambda name: longest[name])
    return longest[region], region


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (each runs every client once)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="added to every reply (default 50)")
    parser.add_argument("--skip-sdk", action="store_true", help="leave out the (slow) official SDK loop")
    parser.add_argument("--only", choices=CONTENDERS, action="append", help="only this client (repeatable)")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--region", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args)

    from ecs_detach.emulator.generate import generate_fleet

    header(
        "full inventory: 10,000 instances, 20,000 disks, 20 regions",
        f"python benchmarks/inventory.py --rounds {args.rounds} --latency-ms {args.latency_ms:g}",
    )
    fleet = generate_fleet(instances=10_000, disks=20_000, regions=20, seed=0)
    pages, region_of_chain = chain(fleet)
    floor = pages * args.latency_ms / 1000
    # ecs-detach asks for DescribeDisks' largest page (500): fewer, bigger pages, so a lower floor of its own
    from ecs_detach.client import INVENTORY_DISK_PAGE

    own_pages, own_region = chain(fleet, INVENTORY_DISK_PAGE)
    own_floor = own_pages * args.latency_ms / 1000
    names = [n for n in CONTENDERS if not (args.skip_sdk and n == "official SDK loop")]
    names = [n for n in names if not args.only or n in args.only]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with served_emulator(fleet) as served:
        served.control("POST", "faults", {"latency_ms": args.latency_ms})
        common = ["--url", served.url, "--region", fleet["Regions"][0]["RegionId"]]
        for round_number in range(args.rounds):
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for name in order:
                served.control("POST", "reset")  # same fleet, read cache emptied: every run is cold
                emulator_cpu = served.cpu()
                result = child("inventory.py", name, *common)
                result["emulator_cpu"] = served.cpu() - emulator_cpu
                if (result["instances"], result["disks"]) != (10_000, 20_000):
                    raise SystemExit(f"{name}: got {result['instances']} instances, {result['disks']} disks")
                results[name].append(result)

    # Ratios use the calls' time (DescribeRegions included): the floor has no interpreter start, imports or
    # client set-up either. Wall time from the child's first import is shown beside it.
    sdk = (
        median([r["calls"] for r in results["official SDK loop"]]) if "official SDK loop" in results else None
    )
    rows = []
    for name, runs in results.items():
        calls = median([r["calls"] for r in runs])
        rows.append(
            [
                name,
                f"{calls:.2f}",
                f"{median([r['wall'] for r in runs]):.2f}",
                f"{median([r['cpu'] for r in runs]):.2f}",
                f"{median([r['emulator_cpu'] for r in runs]):.2f}",
                f"{median([r['rss'] for r in runs]):.0f}",
                ""
                if sdk is None or name == "official SDK loop"
                else f"{sdk / calls:.1f}x ({verdict(sdk / calls >= 5)})",
                f"{calls / floor:.2f}x"
                + ("" if name == "official SDK loop" else f" ({verdict(calls / floor <= 1.5)})"),
                ""
                if name == "official SDK loop"
                else f"{calls / own_floor:.2f}x ({verdict(calls / own_floor <= 1.5)})",
            ]
        )
    print(
        table(
            rows,
            [
                "client",
                "inventory s (the calls)",
                "with imports and set-up s",
                "client CPU s (all)",
                "emulator CPU s",
                "peak RSS MiB",
                "faster than SDK loop (goal >= 5x)",
                "vs floor, pages of 100 (goal <= 1.5x)",
                f"vs floor, disk pages of {INVENTORY_DISK_PAGE} (goal <= 1.5x)",
            ],
        )
    )
    print(
        f"floor, pages of 100: {pages} sequential pages ({region_of_chain}) x {args.latency_ms:g} ms = "
        f"{floor:.2f} s; floor at the page sizes ecs-detach asks for (instances 100, disks "
        f"{INVENTORY_DISK_PAGE}): {own_pages} pages ({own_region}) = {own_floor:.2f} s; "
        f"{args.rounds} rounds, medians"
    )
    footer()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
