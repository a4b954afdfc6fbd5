"""inventory(packed=True): each object is packed as its page comes (``packed()``: the reply kept as compact
JSON bytes), as the single-region listing holds its replies, so a caller that holds an all-regions
inventory (the TUI) holds a sixth of the memory of the replies' dicts; the objects are the same."""

from __future__ import annotations

import anyio

from ecs_detach.client import AsyncEcsClient, EcsClient
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.emulator.generate import generate_fleet


def _emulator() -> Emulator:
    return Emulator(fleet=generate_fleet(instances=240, disks=600, regions=3), clock=ManualClock())


def test_a_packed_inventory_holds_packed_objects_equal_to_the_plain_ones() -> None:
    client = EcsClient.for_emulator(_emulator())
    plain = client.inventory()
    packed = client.inventory(packed=True)
    assert packed.complete and packed.regions == plain.regions
    assert packed.instances == plain.instances and packed.disks == plain.disks
    assert all(view._packed is not None for view in [*packed.instances, *packed.disks])
    assert all(view._packed is None for view in [*plain.instances, *plain.disks])  # unchanged by default
    assert packed.disks[0].raw == plain.disks[0].raw
    assert all(a.same_reply(b) for a, b in zip(packed.instances, plain.instances, strict=True))


def test_the_async_inventory_packs_the_same_way() -> None:
    emulator = _emulator()

    async def both() -> tuple[object, object]:
        async with AsyncEcsClient.for_emulator(emulator) as client:
            return await client.inventory(), await client.inventory(packed=True)

    plain, packed = anyio.run(both)
    assert packed.instances == plain.instances and packed.disks == plain.disks  # type: ignore[attr-defined]
    assert all(v._packed is not None for v in [*packed.instances, *packed.disks])  # type: ignore[attr-defined]
