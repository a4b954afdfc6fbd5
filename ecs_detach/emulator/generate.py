"""Large, deterministic fleets for benchmarks and scale tests.

``generate_fleet(instances=10_000, disks=20_000, regions=20, seed=0)`` returns a fleet file (see
:mod:`ecs_detach.emulator.fleet`) with the fields that matter given, the rest left to the loader's defaults.
The same arguments always give the same fleet.
"""

from __future__ import annotations

import random
from typing import Any

from .fleet import KNOWN_REGIONS, default_zone, paused_gc

_ROLES = ("web", "api", "db", "cache", "batch", "worker", "etl", "search", "mq", "ci")
_TYPES = (
    "ecs.g7.large",
    "ecs.g7.xlarge",
    "ecs.c7.large",
    "ecs.r7.xlarge",
    "ecs.g8i.2xlarge",
    "ecs.u1-c1m2.large",
)
_CPU_MEM = {
    "ecs.g7.large": (2, 8192),
    "ecs.g7.xlarge": (4, 16384),
    "ecs.c7.large": (2, 4096),
    "ecs.r7.xlarge": (4, 32768),
    "ecs.g8i.2xlarge": (8, 32768),
    "ecs.u1-c1m2.large": (2, 4096),
}
_CATEGORIES = ("cloud_essd", "cloud_essd", "cloud_essd", "cloud_auto", "cloud_efficiency", "cloud_ssd")
_LOCKS = ("financial", "security", "recycling", "dedicatedhostfinancial", "refunded")


def _region_ids(count: int) -> list[str]:
    known = list(KNOWN_REGIONS)
    ids = known[:count]
    ids += [f"xx-generated-{n}" for n in range(1, count - len(ids) + 1)]
    return ids


def generate_fleet(
    instances: int = 10_000, disks: int = 20_000, regions: int = 20, seed: int = 0
) -> dict[str, Any]:
    """A fleet of ``instances`` instances and ``disks`` disks over ``regions`` regions.

    Every instance gets a system disk while there are disks to give (so ``disks >= instances`` gives each
    instance one); the other disks are data disks, about four in five attached to a random instance of their
    region, the rest ``Available``. About one instance in ten is stopped and one in a hundred carries a lock.
    """
    if instances < 0 or disks < 0 or regions < 1:
        raise ValueError("instances and disks must be >= 0 and regions >= 1")
    with paused_gc():
        return _generate(instances, disks, regions, seed)


def _generate(instances: int, disks: int, regions: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    region_ids = _region_ids(regions)
    zones = {region: [default_zone(region), _second_zone(region)] for region in region_ids}

    instance_list: list[dict[str, Any]] = []
    disk_list: list[dict[str, Any]] = []
    per_region: dict[str, list[dict[str, Any]]] = {region: [] for region in region_ids}
    data_slots: dict[str, int] = {}

    for n in range(instances):
        region = region_ids[n % len(region_ids)]
        zone = zones[region][rng.randrange(2)]
        role = _ROLES[rng.randrange(len(_ROLES))]
        instance_type = _TYPES[rng.randrange(len(_TYPES))]
        cpu, memory = _CPU_MEM[instance_type]
        roll = rng.random()
        status = "Stopped" if roll < 0.1 else "Running"
        instance: dict[str, Any] = {
            "InstanceId": f"i-gen{seed:02d}{n:07d}",
            "InstanceName": f"{role}-{n:05d}",
            "RegionId": region,
            "ZoneId": zone,
            "InstanceType": instance_type,
            "Cpu": cpu,
            "Memory": memory,
            "Status": status,
            "Tags": {"Tag": [{"TagKey": "role", "TagValue": role}]},
        }
        if rng.random() < 0.01:
            instance["OperationLocks"] = {"LockReason": [{"LockReason": _LOCKS[rng.randrange(len(_LOCKS))]}]}
        instance_list.append(instance)
        per_region[region].append(instance)
        data_slots[instance["InstanceId"]] = 0

    disk_number = 0

    def new_disk(**fields: Any) -> dict[str, Any]:
        nonlocal disk_number
        disk = {"DiskId": f"d-gen{seed:02d}{disk_number:07d}", **fields}
        disk_number += 1
        disk_list.append(disk)
        return disk

    for instance in instance_list[: min(instances, disks)]:
        new_disk(
            DiskName=f"{instance['InstanceName']}-system",
            Type="system",
            Category="cloud_essd",
            Size=40,
            InstanceId=instance["InstanceId"],
            ZoneId=instance["ZoneId"],
        )
    while disk_number < disks:
        region = region_ids[rng.randrange(len(region_ids))]
        candidates = per_region[region]
        size = rng.choice((20, 40, 100, 200, 500, 1000, 2000))
        category = _CATEGORIES[rng.randrange(len(_CATEGORIES))]
        owner = candidates[rng.randrange(len(candidates))] if candidates and rng.random() < 0.8 else None
        if owner is not None and data_slots[owner["InstanceId"]] < 16:
            data_slots[owner["InstanceId"]] += 1
            new_disk(
                DiskName=f"{owner['InstanceName']}-data{data_slots[owner['InstanceId']]}",
                Type="data",
                Category=category,
                Size=size,
                InstanceId=owner["InstanceId"],
                ZoneId=owner["ZoneId"],
            )
        else:
            new_disk(
                DiskName=f"spare-{disk_number:05d}",
                Type="data",
                Category=category,
                Size=size,
                RegionId=region,
                ZoneId=zones[region][rng.randrange(2)],
            )

    return {
        "Regions": [{"RegionId": region} for region in region_ids],
        "Instances": instance_list,
        "Disks": disk_list,
        "Emulator": {"DefaultRegion": region_ids[0]},
    }


def _second_zone(region: str) -> str:
    first = default_zone(region)
    return first[:-1] + "b"
