"""The rest of an Instance's and a Disk's fields, with plausible values, so that code reading them works.

The fleet loader fills what a fleet file leaves out: first the fields the emulator acts on (``fleet.py``),
then these, which it only reports. Names and shapes are the official SDK models' (``alibabacloud_ecs20140526``
``DescribeInstancesResponseBodyInstancesInstance`` and ``DescribeDisksResponseBodyDisksDisk``); values are
what a plain pay-as-you-go VPC instance and its cloud disks show. Fields a fleet gives are kept as given.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any


def _hex(text: str, salt: str) -> str:
    return f"{zlib.crc32((salt + text).encode('utf-8')):08x}"


# Fields that are the same on every instance the emulator makes up. Their nested objects are shared between
# instances (a 10,000-instance fleet would hold 10,000 copies otherwise): nothing in the emulator changes
# them, and every reply is copied or encoded before it leaves the state.
_INSTANCE_CONSTANTS: dict[str, Any] = {
    "AdditionalInfo": {"EnableHighDensityMode": False},
    "AutoReleaseTime": "",
    "ClockOptions": {"PtpStatus": "disabled"},
    "ClusterId": "",
    "DedicatedHostAttribute": {"DedicatedHostClusterId": "", "DedicatedHostId": "", "DedicatedHostName": ""},
    "DedicatedInstanceAttribute": {"Affinity": "default", "Tenancy": "default"},
    "DeploymentSetGroupNo": 0,
    "DeploymentSetId": "",
    "EcsCapacityReservationAttr": {"CapacityReservationId": "", "CapacityReservationPreference": "open"},
    "EnableNVS": False,
    "GPUAmount": 0,
    "GPUSpec": "",
    "HibernationOptions": {"Configured": False},
    "HpcClusterId": "",
    "ISP": "",
    "ImageOptions": {"CurrentOSNVMeSupported": True, "LoginAsNonRoot": False},
    "LocalStorageAmount": 0,
    "LocalStorageCapacity": 0,
    "MetadataOptions": {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "optional"},
    "PrivateDnsNameOptions": {
        "EnableInstanceIdDnsAAAARecord": False,
        "EnableInstanceIdDnsARecord": False,
        "EnableIpDnsARecord": False,
        "EnableIpDnsPtrRecord": False,
        "HostnameType": "Custom",
    },
    "RdmaIpAddress": {"IpAddress": []},
    "SaleCycle": "",
    "SecurityOptions": {"EnableSecureBoot": False},
    "SpotDuration": 0,
    "SpotInterruptionBehavior": "Terminate",
    "SpotPriceLimit": 0.0,
    "VlanId": "",
}
_CPU_OPTIONS: dict[tuple[int, int], dict[str, Any]] = {}


def instance_fields(instance: Mapping[str, Any]) -> dict[str, Any]:
    """The reported-only fields of an instance (built from the fields the emulator already filled)."""
    instance_id = str(instance["InstanceId"])
    cpu = instance.get("Cpu")
    vcpus = cpu if isinstance(cpu, int) and cpu > 0 else 2
    threads = 2 if vcpus >= 2 else 1
    vpc = instance.get("VpcAttributes")
    addresses = vpc.get("PrivateIpAddress", {}).get("IpAddress", []) if isinstance(vpc, Mapping) else []
    primary_ip = addresses[0] if addresses else ""
    mac = _hex(instance_id, "mac")
    private_ips = [{"PrivateIpAddress": primary_ip, "Primary": True}] if primary_ip else []
    burstable = str(instance.get("InstanceType", "")).startswith(("ecs.t5", "ecs.t6"))
    cpu_options = _CPU_OPTIONS.setdefault(
        (vcpus, threads),
        {"CoreCount": max(1, vcpus // threads), "ThreadsPerCore": threads, "Numa": "", "TopologyType": ""},
    )
    return {
        **_INSTANCE_CONSTANTS,
        "CpuOptions": cpu_options,
        "CreditSpecification": "Standard" if burstable else "",
        "NetworkInterfaces": {
            "NetworkInterface": [
                {
                    "NetworkInterfaceId": f"eni-{_hex(instance_id, 'eni')}{mac[:4]}",
                    "MacAddress": ":".join(["00", "16", "3e", mac[0:2], mac[2:4], mac[4:6]]),
                    "PrimaryIpAddress": primary_ip,
                    "Type": "Primary",
                    "PrivateIpSets": {"PrivateIpSet": private_ips},
                    "Ipv6Sets": {"Ipv6Set": []},
                    "Ipv4PrefixSets": {"Ipv4PrefixSet": []},
                    "Ipv6PrefixSets": {"Ipv6PrefixSet": []},
                }
            ]
        },
    }


def _throughput(category: str, size: int) -> int:
    """MB/s, as the categories' published formulas give it (0 for categories without one)."""
    if category in ("cloud_essd", "cloud_auto", "cloud_essd_entry"):
        return min(120 + size // 2, 350)
    if category == "cloud_ssd":
        return min(100 + size // 2, 300)
    if category == "cloud_efficiency":
        return min(100 + (15 * size) // 100, 140)
    return 0


def disk_fields(disk: Mapping[str, Any]) -> dict[str, Any]:
    """The reported-only fields of a disk (built from the fields the emulator already filled)."""
    size = disk.get("Size")
    size = size if isinstance(size, int) else 40
    category = str(disk.get("Category", ""))
    iops = disk.get("IOPS")
    iops = iops if isinstance(iops, int) else 0
    throughput = _throughput(category, size)
    return {
        "BdfId": "",
        "IOPSRead": iops // 2,
        "IOPSWrite": iops // 2,
        "Placement": {"ZoneIds": str(disk.get("ZoneId", ""))},
        "ProductCode": "",
        "ProvisionedIops": 0,
        "SourceDiskId": "",
        "StorageClusterId": "",
        "StorageSetPartitionNumber": 0,
        "Throughput": throughput,
        "ThroughputRead": throughput // 2,
        "ThroughputWrite": throughput // 2,
    }
