"""An inventory holds off the cyclic collector while it parses, and leaves it as the program had it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from ecs_detach._core import gc_paused
from ecs_detach.client import EcsClient
from ecs_detach.emulator import Emulator


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_no_collection_runs_during_an_inventory_and_the_collector_is_back_after(
    collector_enabled: None,
) -> None:
    collections: list[str] = []  # the threads that started one

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(threading.current_thread().name)

    with EcsClient.for_emulator(Emulator()) as client:
        gc.collect()
        gc.callbacks.append(record)
        try:
            inventory = client.inventory()
        finally:
            gc.callbacks.remove(record)
    assert len(inventory.disks) == 102 and not inventory.errors
    parsing = [name for name in collections if name.startswith("ecs-inventory")]
    assert parsing == [], "the collector ran while the inventory's pages were parsed"
    assert gc.isenabled()


def test_a_collector_the_program_disabled_stays_disabled(collector_enabled: None) -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_from_threads_end_with_the_last(collector_enabled: None) -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with gc_paused():
        second_in.set()
        first_out.wait(5)
        assert not gc.isenabled(), "the first pause ended while the second still ran"
    thread.join(5)
    assert gc.isenabled()


def test_what_an_inventory_built_goes_straight_to_the_oldest_generation(collector_enabled: None) -> None:
    # Frozen by an earlier test in this process (a large-fleet TUI test freezes its listing), objects go to
    # the permanent generation instead: what the next test asserts. Start from an unfrozen collector.
    gc.unfreeze()
    with EcsClient.for_emulator(Emulator()) as client:
        inventory = client.inventory(regions=["cn-hangzhou"])
        oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    assert inventory.disks
    assert all(id(disk.raw) in oldest for disk in inventory.disks)


def test_objects_the_program_froze_stay_frozen(collector_enabled: None) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with EcsClient.for_emulator(Emulator()) as client:
            client.inventory(regions=["cn-hangzhou"])
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
