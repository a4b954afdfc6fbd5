"""The async client against the in-process emulator: the same behaviour under the same names, awaited."""

from __future__ import annotations

import pytest

from ecs_detach.client import AsyncEcsClient, EcsClient
from ecs_detach.credentials import ProviderCredentials
from ecs_detach.emulator import Emulator
from ecs_detach.errors import LockedError, NotFoundError, ReadOnlyError, TransportError
from ecs_detach.models import DISK_AVAILABLE, DISK_DETACHING

pytestmark = pytest.mark.anyio


async def test_reads(aclient: AsyncEcsClient) -> None:
    regions = await aclient.describe_regions()
    assert [r.region_id for r in regions] == ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]
    assert len(await aclient.list_instances()) == 27
    assert (await aclient.get_instance("i-jump-01")).security_locked
    assert (await aclient.describe_instance_attribute("i-web-01")).status == "Running"
    assert (await aclient.get_disk("d-web-01-sys")).is_system
    with pytest.raises(NotFoundError):
        await aclient.get_disk("d-nope")


async def test_async_pagination(aclient: AsyncEcsClient, emulator: Emulator) -> None:
    seen = [disk.disk_id async for disk in aclient.iter_disks(page_size=10)]
    assert len(seen) == len(set(seen)) == 67
    assert len([r for r in emulator.requests if r["action"] == "DescribeDisks"]) == 7


async def test_detach_lifecycle_and_errors(aclient: AsyncEcsClient, emulator: Emulator) -> None:
    assert await aclient.detach_disk("d-web-01-data", "i-web-01")
    assert (await aclient.get_disk("d-web-01-data")).status == DISK_DETACHING
    emulator.advance(61)
    assert (await aclient.get_disk("d-web-01-data")).status == DISK_AVAILABLE
    with pytest.raises(LockedError) as caught:
        await aclient.detach_disk("d-jump-01-data", "i-jump-01")
    assert caught.value.code == "InstanceLockedForSecurity"


async def test_stop_start_attach(aclient: AsyncEcsClient, emulator: Emulator) -> None:
    await aclient.stop_instance("i-web-03", force_stop=True)
    assert emulator.requests[-1]["params"]["ForceStop"] == "true"
    emulator.advance(15)
    await aclient.detach_disk("d-web-03-data", "i-web-03")
    emulator.advance(61)
    await aclient.attach_disk("d-web-03-data", "i-web-03")
    emulator.advance(21)
    await aclient.start_instance("i-web-03")
    emulator.advance(16)
    assert (await aclient.get_disk("d-web-03-data")).instance_id == "i-web-03"
    assert (await aclient.get_instance("i-web-03")).status == "Running"


async def test_async_inventory_with_a_failing_region(aclient: AsyncEcsClient) -> None:
    everything = await aclient.inventory(concurrency=2)
    assert len(everything.instances) == 41 and len(everything.disks) == 102 and everything.complete
    partial = await aclient.inventory(["ap-southeast-1", "xx-nowhere-9"])
    assert set(partial.errors) == {"xx-nowhere-9"} and len(partial.instances) == 7


async def test_async_read_only_and_lost_answer(emulator: Emulator, sleeps: list[float]) -> None:
    async with AsyncEcsClient.for_emulator(emulator, read_only=True) as locked:
        before = len(emulator.requests)
        with pytest.raises(ReadOnlyError):
            await locked.detach_disk("d-web-01-data", "i-web-01")
        assert len(emulator.requests) == before
    emulator.set_faults(rate=1.0, kinds=["lost_response"], actions=["DetachDisk"])
    async with AsyncEcsClient.for_emulator(emulator) as client:
        with pytest.raises(TransportError) as caught:
            await client.detach_disk("d-web-01-data", "i-web-01")
    assert caught.value.outcome_unknown


class DemoKeyProvider:
    """Stands in for an alibabacloud-credentials provider (RAM role, ...): hands out the demo key."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def get_credentials(self) -> object:
        import threading

        from ecs_detach.emulator import EMULATOR_ACCESS_KEY_ID, EMULATOR_ACCESS_KEY_SECRET

        self.threads.append(threading.get_ident())

        class Got:
            def get_access_key_id(self) -> str:
                return EMULATOR_ACCESS_KEY_ID

            def get_access_key_secret(self) -> str:
                return EMULATOR_ACCESS_KEY_SECRET

            def get_security_token(self) -> str:
                return ""

        return Got()


async def test_refreshing_credentials_are_fetched_off_the_event_loop(emulator: Emulator) -> None:
    import threading

    provider = DemoKeyProvider()
    source = ProviderCredentials(provider, label="cli_profile/EcsRamRole")
    assert source.masked_key_id == "(cli_profile/EcsRamRole)"
    async with AsyncEcsClient(source, "cn-hangzhou", transport=emulator.transport()) as client:
        assert len(await client.list_disks(instance_id="i-web-01")) == 3
    assert provider.threads and threading.get_ident() not in provider.threads
    assert source.masked_key_id == "LTAI****Key" and "emulator-demo-secret" not in repr(source)
    with EcsClient(source, "cn-hangzhou", transport=emulator.transport()) as sync_client:
        assert sync_client.get_disk("d-web-01-sys").is_system
