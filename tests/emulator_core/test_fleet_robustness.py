"""Whatever a fleet file holds, loading it gives a fleet or a FleetError: never another exception."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_detach.emulator.backend import Backend
from ecs_detach.emulator.clock import ManualClock
from ecs_detach.emulator.fleet import FleetError, load_fleet

DEMO = load_fleet("demo")

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=True),
        st.text(max_size=12),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _load_or_fleet_error(raw: Any) -> None:
    try:
        fleet = load_fleet(raw)
    except FleetError as error:
        assert str(error)
    else:
        Backend(fleet, ManualClock())  # a fleet that loads also runs


@settings(max_examples=150, deadline=None)
@given(
    raw=st.dictionaries(
        st.sampled_from(["Regions", "Instances", "Disks", "Emulator"]), json_values, max_size=4
    )
)
def test_random_fleets(raw: dict[str, Any]) -> None:
    _load_or_fleet_error(raw)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    section=st.sampled_from(["Instances", "Disks"]),
    index=st.integers(0, 36),
    key=st.sampled_from(
        [
            "InstanceId",
            "DiskId",
            "Status",
            "Type",
            "ZoneId",
            "RegionId",
            "InstanceId",
            "Attachments",
            "OperationLocks",
            "Tags",
            "Size",
            "Portable",
            "MultiAttach",
            "Category",
            "Device",
            "DiskChargeType",
            "Cpu",
        ]
    ),
    value=json_values,
)
def test_demo_fleet_with_one_field_broken(section: str, index: int, key: str, value: Any) -> None:
    raw = copy.deepcopy(DEMO)
    raw[section][index][key] = value
    _load_or_fleet_error(raw)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from([*sorted(DEMO["Emulator"]), "PendingTransitions", "SystemDiskOrigins"]),
    value=json_values,
)
def test_demo_fleet_with_a_broken_emulator_knob(key: str, value: Any) -> None:
    raw = copy.deepcopy(DEMO)
    raw["Emulator"][key] = value
    _load_or_fleet_error(raw)
