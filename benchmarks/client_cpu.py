"""Client CPU per call: 1,000 DescribeDisks pages of 100 from one ``ecs-detach emulator`` process.

    python benchmarks/client_cpu.py [--pages 1000] [--rounds 3]

Starts ``ecs-detach emulator --port 0 --fleet PATH`` (its own process) on a generated fleet of 10,000 disks
in one region (100 pages of 100), then runs three clients, each in a fresh interpreter, alternated round
after round:

* ``ecs-detach``: ``EcsClient.iter_disks(page_size=100)`` (signs V3, parses every disk into a ``Disk``);
* ``official SDK``: ``alibabacloud_ecs20140526`` ``Client.describe_disks`` with ``MaxResults=100`` and
  ``NextToken`` (signs V3, parses into its models);
* ``floor``: a raw ``httpx.Client`` loop that replays requests signed beforehand (one per page, each with
  its own nonce) and only ``json.loads`` each reply: the least any client must do;
* ``floor, orjson``: the same loop parsing with ``orjson.loads``, as ecs-detach does (so the parser's share
  of ecs-detach's lead over ``floor`` is shown apart).

Each child measures its own user+sys CPU (``getrusage``) over the measured pages only (after warm-up,
imports and client set-up), and the emulator's CPU over the same span (``/proc/PID/stat``), so the two
are apart. Prints medians and ratios (goals: ecs-detach <= 0.5x the SDK, <= 1.3x the floor). Needs the
``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from _common import child, emit, footer, header, median, own_cpu, process_cpu, served_emulator, table, verdict

from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

PAGE = 100
DISKS = 10_000
CONTENDERS = ("ecs-detach", "official SDK", "floor", "floor, orjson")
WARM_UP = 20


def _ours(url: str, region: str) -> Any:
    from ecs_detach.client import EcsClient
    from ecs_detach.credentials import Credentials

    client = EcsClient(Credentials(EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET), region, endpoint=url)

    def run(pages: int) -> int:
        disks = 0
        while disks < pages * PAGE:
            for _disk in client.iter_disks(page_size=PAGE):
                disks += 1
                if disks >= pages * PAGE:
                    break
        return disks

    return run


def _sdk(url: str, region: str) -> Any:
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

    def run(pages: int) -> int:
        disks = 0
        token: str | None = None
        for _ in range(pages):
            request = models.DescribeDisksRequest(region_id=region, max_results=PAGE, next_token=token)
            body = client.describe_disks(request).body
            disks += len(body.disks.disk)
            token = body.next_token or None
        return disks

    return run


def _floor(url: str, region: str, pages: int, *, parse: Any = json.loads) -> Any:
    import httpx

    from ecs_detach.credentials import Credentials
    from ecs_detach.signing import V3Auth

    http = httpx.Client(base_url=url)
    auth = V3Auth(Credentials(EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET))

    def signed(token: str) -> httpx.Request:
        params = [("RegionId", region), ("MaxResults", str(PAGE))] + ([("NextToken", token)] if token else [])
        request = http.build_request(
            "POST",
            "/",
            params=params,
            headers={"x-acs-action": "DescribeDisks", "accept": "application/json"},
        )
        auth.sign(request)
        return request

    tokens = [""]  # one pass to learn the tokens (and to warm up)
    while True:
        body = json.loads(http.send(signed(tokens[-1])).content)
        if not body.get("NextToken"):
            break
        tokens.append(body["NextToken"])
    prepared = [signed(tokens[n % len(tokens)]) for n in range(pages)]

    def run(count: int) -> int:
        disks = 0
        for request in prepared[:count]:
            response = http.send(request)
            body = parse(response.content)
            if response.status_code != 200:
                raise SystemExit(f"floor: HTTP {response.status_code}: {body}")
            disks += len(body["Disks"]["Disk"])
        return disks

    return run


def child_main(args: argparse.Namespace) -> int:
    if args.child == "ecs-detach":
        run = _ours(args.url, args.region)
    elif args.child == "official SDK":
        run = _sdk(args.url, args.region)
    elif args.child == "floor":
        run = _floor(args.url, args.region, args.pages)
    else:
        import orjson

        run = _floor(args.url, args.region, args.pages, parse=orjson.loads)
    if not args.child.startswith("floor"):
        run(WARM_UP)
    cpu, emulator, wall = own_cpu(), process_cpu(args.emulator_pid), time.perf_counter()
    disks = run(args.pages)
    wall = time.perf_counter() - wall
    cpu, emulator = own_cpu() - cpu, process_cpu(args.emulator_pid) - emulator
    if disks != args.pages * PAGE:
        raise SystemExit(f"{args.child}: expected {args.pages * PAGE} disks, got {disks}")
    emit({"cpu": cpu, "emulator_cpu": emulator, "wall": wall, "pages": args.pages})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1000, help="DescribeDisks pages per client run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (each runs every client once)")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--region", help=argparse.SUPPRESS)
    parser.add_argument("--emulator-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args)

    from ecs_detach.emulator.generate import generate_fleet

    header(
        f"client CPU per DescribeDisks page of {PAGE}",
        f"python benchmarks/client_cpu.py --pages {args.pages} --rounds {args.rounds}",
    )
    fleet = generate_fleet(instances=500, disks=DISKS, regions=1, seed=1)
    region = fleet["Regions"][0]["RegionId"]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
    with served_emulator(fleet) as served:
        common = ["--url", served.url, "--region", region, "--emulator-pid", str(served.pid)]
        for round_number in range(args.rounds):
            shift = round_number % len(CONTENDERS)
            order = CONTENDERS[shift:] + CONTENDERS[:shift]
            for name in order:
                results[name].append(child("client_cpu.py", name, "--pages", str(args.pages), *common))

    def per_call(name: str, key: str) -> float:
        return median([r[key] / r["pages"] for r in results[name]]) * 1000

    ours, sdk, floor, floor_orjson = (per_call(name, "cpu") for name in CONTENDERS)
    rows = []
    for name in CONTENDERS:
        cpu = per_call(name, "cpu")
        rows.append(
            [
                name,
                f"{cpu:.2f}",
                f"{per_call(name, 'wall'):.2f}",
                f"{per_call(name, 'emulator_cpu'):.2f}",
                f"{cpu / sdk:.2f}x",
                f"{cpu / floor:.2f}x",
                f"{cpu / floor_orjson:.2f}x",
            ]
        )
    print(
        table(
            rows,
            [
                "client",
                "client CPU ms/call",
                "wall ms/call",
                "emulator CPU ms/call",
                "vs SDK (goal <= 0.5x)",
                "vs floor (goal <= 1.3x)",
                "vs floor, orjson",
            ],
        )
    )
    print(
        f"ecs-detach / SDK = {ours / sdk:.2f}x ({verdict(ours / sdk <= 0.5)}); "
        f"ecs-detach / floor = {ours / floor:.2f}x ({verdict(ours / floor <= 1.3)}); "
        f"ecs-detach / floor with orjson = {ours / floor_orjson:.2f}x "
        f"({verdict(ours / floor_orjson <= 1.3)} against the same goal); "
        f"{args.rounds} rounds of {args.pages} pages, medians"
    )
    footer()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
