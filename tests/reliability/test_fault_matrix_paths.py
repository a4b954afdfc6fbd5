"""The fault matrix on the newer mutating paths: every fault kind of the proxy (fault_proxy.py) on

* ``snapshot``: ``detach d-web-01-data --snapshot``: CreateSnapshot, then DetachDisk once it is accomplished;
* ``unmount``: ``detach d-files-01-data --unmount`` (files-01: /data mounted, with an fstab line): the guest's
  unmount RunCommand (after the read-only probes, which are reads), then DetachDisk;
* ``remount``: after a clean ``detach --unmount``, its undo ``attach --operation OP``: AttachDisk, then the
  remount RunCommand;
* ``move``: ``move d-web-01-data --to i-web-02``: DetachDisk from web-01, AttachDisk to web-02;
* ``bulk-unmount``: ``detach d-files-01-data d-files-01-app --unmount`` (both mounted on files-01, one
  instance at a time): for each disk in turn its unmount RunCommand, then its DetachDisk;
* ``move-unmount``: ``move d-files-01-data --to i-web-02 --unmount``: the unmount RunCommand in files-01,
  DetachDisk from files-01, AttachDisk to web-02;
* the two read-only probes of a bulk run and of a move of files-01's disks, with and without ``--unmount``.
* ``bulk-undo``: after a clean ``bulk-unmount``, its undo: ``attach --operation OP`` of each disk's
  DetachDisk in turn, each an AttachDisk then the remount RunCommand; and the remount of an undo run again
  after a remount lost before it reached the guest (the run reads the guest first, then sends what is owed).

The demo fleet is served (``Durations`` 0, RunCommand included, so an invocation has finished by the first
read; /var/lib/app not busy, so that a bulk ``--unmount`` can release both disks). After each run the tests
check, from the emulator's request log and state and from the journal: how
many CreateSnapshot / RunCommand / AttachDisk were applied (never twice), where the disk and the guest's
mount ended, every journal record true (an applied call has a record saying it took effect), and the exit code
and the message. A lost answer is settled by a read of what the call changes (the disk's snapshots, the
guest's mounts, the disk) before anything is sent again.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from ecs_detach.actions import Result
from ecs_detach.emulator.fleet import load_fleet

from .fault_proxy import APPLIED_BY, FAULT_KINDS, Rule
from .helpers import consistency_problems, journal_problems, last_word, mutation_log
from .matrix import Run, Served, applied_twice, false_successes, the_truth_is_kept, undo

TIME_SCALE = 0  # the served emulator's transitions finish at once
FLEET: dict[str, Any] = copy.deepcopy(load_fleet("demo"))
FLEET["Emulator"]["Durations"] = dict.fromkeys(
    ("DetachDisk", "AttachDisk", "StopInstance", "StartInstance", "CreateSnapshot", "RunCommand"), 0
)
GUEST = "i-files-01"
UNMOUNTED_DISK = "d-files-01-data"
SECOND_DISK = "d-files-01-app"  # /var/lib/app, also on files-01; here not busy, so --unmount can release it
MOUNT_POINTS = {UNMOUNTED_DISK: "/data", SECOND_DISK: "/var/lib/app"}
for _mount in FLEET["Emulator"]["Guests"][GUEST]["Mounts"]:
    _mount["Busy"] = False
BULK = ["detach", UNMOUNTED_DISK, SECOND_DISK, "--unmount"]
MOVE_UNMOUNT = ["move", UNMOUNTED_DISK, "--to", "i-web-02", "--unmount"]
SNAPSHOT_DISK = "d-web-01-data"
# In a clean `detach --unmount` the unmount is the 3rd RunCommand: the probe and the holders probe go first.
UNMOUNT_NTH = 3
FIGURES: Counter[str] = Counter()


def test_each_path_sends_the_mutations_the_matrix_faults(cli: Any) -> None:
    snapshot = cli(["detach", SNAPSHOT_DISK, "--snapshot"])
    assert snapshot.code == 0, snapshot.out
    assert [r["action"] for r in mutation_log(snapshot.requests)] == ["CreateSnapshot", "DetachDisk"]
    unmount = cli(["detach", UNMOUNTED_DISK, "--unmount"])
    assert unmount.code == 0, unmount.out
    calls = [r["action"] for r in unmount.requests if r["action"] in ("RunCommand", "DetachDisk")]
    assert calls == ["RunCommand"] * UNMOUNT_NTH + ["DetachDisk"]  # two probes, the unmount, the detach
    assert [r["action"] for r in mutation_log(unmount.requests)] == ["RunCommand", "DetachDisk"]
    remount = undo(cli, unmount)
    assert remount.code == 0 and remount.mounted(GUEST, UNMOUNTED_DISK), remount.out
    assert [r["action"] for r in mutation_log(remount.requests)][-2:] == ["AttachDisk", "RunCommand"]
    move = cli(["move", SNAPSHOT_DISK, "--to", "i-web-02"])
    assert move.code == 0, move.out
    assert [r["action"] for r in mutation_log(move.requests)] == ["DetachDisk", "AttachDisk"]
    bulk = cli(BULK)
    assert bulk.code == 0, bulk.out
    sent = [(r["action"], r["params"].get("DiskId", "")) for r in mutation_log(bulk.requests)]
    assert sent == [
        ("RunCommand", ""),
        ("DetachDisk", UNMOUNTED_DISK),
        ("RunCommand", ""),
        ("DetachDisk", SECOND_DISK),
    ]
    assert [r["action"] for r in bulk.requests if r["action"] == "RunCommand"] == ["RunCommand"] * 4
    moved = cli(MOVE_UNMOUNT)
    assert moved.code == 0, moved.out
    assert [r["action"] for r in mutation_log(moved.requests)] == ["RunCommand", "DetachDisk", "AttachDisk"]


# -- snapshot first ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["CreateSnapshot", "DetachDisk"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_snapshot_first_takes_one_snapshot_and_detaches_only_after_it(
    cli: Any, served: Served, action: str, kind: str
) -> None:
    ran = cli(["detach", SNAPSHOT_DISK, "--snapshot"], Rule(action, 1, kind))
    the_truth_is_kept(ran, action, 1, kind, figures=FIGURES)
    snapshots = served.snapshots(SNAPSHOT_DISK)
    lost_before_applied = action == "CreateSnapshot" and not APPLIED_BY[kind]
    assert len(ran.accepted("CreateSnapshot")) == len(snapshots) == (0 if lost_before_applied else 1)
    detached = ran.accepted("DetachDisk")
    if lost_before_applied:
        # Nothing shows the snapshot: the run stops before the detach, and says so.
        assert ran.code == 1, ran.out
        assert detached == [] and ran.status("Disks", SNAPSHOT_DISK) == "In_use"
        assert f"disk {SNAPSHOT_DISK} was not detached" in ran.out.lower(), ran.out
        return
    (snapshot,) = snapshots
    assert snapshot.status == "accomplished"
    order = [r["action"] for r in mutation_log(ran.requests) if r["status"] == 200]
    assert order == ["CreateSnapshot", "DetachDisk"], order
    assert ran.code == 0, ran.out
    assert ran.status("Disks", SNAPSHOT_DISK) == "Available"
    assert f"Snapshot {snapshot.snapshot_id} was taken first" in ran.out, ran.out
    # The journal names the snapshot: on the DetachDisk's context, and on CreateSnapshot's last word.
    detach_intents = [i for i, _ in ran.journal.operations() if i.action == "DetachDisk"]
    assert {i.context.get("snapshot_id") for i in detach_intents} == {snapshot.snapshot_id}
    created = last_word(ran.journal, "CreateSnapshot")
    assert created is not None and created.succeeded, created
    if created.reconciled:
        assert snapshot.snapshot_id in created.message, created.message


# -- the guest's unmount -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_the_guest_unmount_reads_the_guest_before_anything_more(cli: Any, kind: str) -> None:
    ran = cli(["detach", UNMOUNTED_DISK, "--unmount"], Rule("RunCommand", UNMOUNT_NTH, kind))
    the_truth_is_kept(ran, "RunCommand", UNMOUNT_NTH, kind, figures=FIGURES)
    unmounts = ran.accepted("RunCommand")
    assert len(unmounts) == (1 if APPLIED_BY[kind] else 0)
    released = ran.mounted(GUEST, UNMOUNTED_DISK) is False
    assert released == APPLIED_BY[kind]
    unmounted = last_word(ran.journal, "RunCommand")
    assert unmounted is not None
    if released:
        # The guest read after the lost answer shows /data unmounted: the run goes on, once.
        assert ran.code == 0, ran.out
        assert len(ran.accepted("DetachDisk")) == 1 and ran.status("Disks", UNMOUNTED_DISK) == "Available"
        assert unmounted.succeeded, unmounted
        detach = last_word(ran.journal, "DetachDisk")
        assert detach is not None and detach.context.get("unmounted") == "/data", detach
    else:
        # Still mounted: not re-sent blind, no DetachDisk, and the operator is told the truth.
        assert ran.code == 1, ran.out
        assert ran.accepted("DetachDisk") == [] and ran.status("Disks", UNMOUNTED_DISK) == "In_use"
        assert "still shows /data mounted" in ran.out, ran.out
        assert "DetachDisk was not sent" in ran.out, ran.out
        assert unmounted.result == Result.UNKNOWN and unmounted.reconciled, unmounted
        assert "/data" in unmounted.message, unmounted.message


@pytest.mark.parametrize("nth", [1, 2], ids=["probe", "holders-probe"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_a_guest_probe_never_detaches_a_mounted_disk(cli: Any, nth: int, kind: str) -> None:
    """The read-only probes go out as RunCommand too: a lost answer to one must not leave the guest
    "unknown" and let the detach go on with /data still mounted (it is a read: sending it again is safe)."""
    ran = cli(["detach", UNMOUNTED_DISK, "--unmount"], Rule("RunCommand", nth, kind))
    the_truth_is_kept(ran, "RunCommand", nth, kind, figures=FIGURES)
    assert ran.code == 0, ran.out
    assert len(ran.accepted("RunCommand")) == 1 and not ran.mounted(GUEST, UNMOUNTED_DISK), ran.out
    assert len(ran.accepted("DetachDisk")) == 1 and ran.status("Disks", UNMOUNTED_DISK) == "Available"
    detach = last_word(ran.journal, "DetachDisk")
    assert detach is not None and detach.context.get("guest_check") == "read", detach
    assert detach.context.get("unmounted") == "/data", detach


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_the_detach_after_an_unmount_never_unmounts_twice(cli: Any, kind: str) -> None:
    ran = cli(["detach", UNMOUNTED_DISK, "--unmount"], Rule("DetachDisk", 1, kind))
    the_truth_is_kept(ran, "DetachDisk", 1, kind, figures=FIGURES)
    assert len(ran.accepted("RunCommand")) == 1 and not ran.mounted(GUEST, UNMOUNTED_DISK)
    assert len(ran.accepted("DetachDisk")) == 1, ran.out
    assert ran.code == 0, ran.out
    assert ran.status("Disks", UNMOUNTED_DISK) == "Available"
    detach = last_word(ran.journal, "DetachDisk")
    assert detach is not None and detach.succeeded, detach
    assert detach.context.get("unmounted") == "/data"  # the undo can mount it back


# -- the undo's remount ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["AttachDisk", "RunCommand"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_the_undo_reattaches_once_and_never_mounts_twice(cli: Any, action: str, kind: str) -> None:
    detached = cli(["detach", UNMOUNTED_DISK, "--unmount"])
    assert detached.code == 0, detached.out
    ran = undo(cli, detached, Rule(action, 1, kind))
    the_truth_is_kept(ran, action, 1, kind, figures=FIGURES)
    assert len(ran.accepted("AttachDisk")) == 1
    assert ran.disk(UNMOUNTED_DISK)["InstanceId"] == GUEST and ran.status("Disks", UNMOUNTED_DISK) == "In_use"
    remount_applied = action == "AttachDisk" or APPLIED_BY[kind]
    remounts = len(ran.accepted("RunCommand")) - len(detached.accepted("RunCommand"))  # one log, both runs
    assert remounts == (1 if remount_applied else 0)
    assert ran.mounted(GUEST, UNMOUNTED_DISK) == remount_applied
    remounted = last_word(ran.journal, "RunCommand")
    assert remounted is not None
    if remount_applied:
        assert ran.code == 0, ran.out
        assert "/data mounted again" in ran.out, ran.out
        assert remounted.succeeded, remounted
    else:
        # The disk stays attached; the script to run by hand is given; the journal does not claim it.
        assert ran.code == 1, ran.out
        assert "mount /data" in ran.out and "by hand" in ran.out, ran.out
        assert not remounted.succeeded, remounted


# -- a move ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["DetachDisk", "AttachDisk"])
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_either_half_of_a_move_ends_attached_once_to_the_target(
    cli: Any, action: str, kind: str
) -> None:
    ran = cli(["move", SNAPSHOT_DISK, "--to", "i-web-02"], Rule(action, 1, kind))
    the_truth_is_kept(ran, action, 1, kind, figures=FIGURES)
    assert len(ran.accepted("DetachDisk")) == 1
    assert len(ran.accepted("AttachDisk")) == 1
    disk = ran.disk(SNAPSHOT_DISK)
    attachments = [a["InstanceId"] for a in (disk.get("Attachments") or {}).get("Attachment") or []]
    assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-web-02")
    assert attachments in ([], ["i-web-02"])
    assert ran.code == 0, ran.out
    assert f"Disk {SNAPSHOT_DISK} moved from i-web-01 to i-web-02" in ran.out, ran.out
    attached = last_word(ran.journal, "AttachDisk")
    assert attached is not None and attached.succeeded and attached.instance_id == "i-web-02"
    assert attached.context.get("move_from") == "i-web-01"
    detached = last_word(ran.journal, "DetachDisk")
    assert detached is not None and detached.succeeded and detached.instance_id == "i-web-01"


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_a_moves_snapshot_takes_one_and_moves_only_after_it(
    cli: Any, served: Served, kind: str
) -> None:
    ran = cli(["move", SNAPSHOT_DISK, "--to", "i-web-02", "--snapshot"], Rule("CreateSnapshot", 1, kind))
    the_truth_is_kept(ran, "CreateSnapshot", 1, kind, figures=FIGURES)
    snapshots = served.snapshots(SNAPSHOT_DISK)
    assert len(ran.accepted("CreateSnapshot")) == len(snapshots) == (1 if APPLIED_BY[kind] else 0)
    if not APPLIED_BY[kind]:
        assert ran.code == 1, ran.out
        assert ran.accepted("DetachDisk") == [] and ran.accepted("AttachDisk") == []
        assert (ran.status("Disks", SNAPSHOT_DISK), ran.disk(SNAPSHOT_DISK)["InstanceId"]) == (
            "In_use",
            "i-web-01",
        )
        return
    assert ran.code == 0, ran.out
    applied = [r["action"] for r in mutation_log(ran.requests) if r["status"] == 200]
    assert applied == ["CreateSnapshot", "DetachDisk", "AttachDisk"]
    assert (ran.status("Disks", SNAPSHOT_DISK), ran.disk(SNAPSHOT_DISK)["InstanceId"]) == (
        "In_use",
        "i-web-02",
    )
    assert f"Snapshot {snapshots[0].snapshot_id} was taken first" in ran.out, ran.out


# -- a bulk run's unmounts ---------------------------------------------------------------------------------

# The faulted call of the bulk run, and the disk it is for: the two probes go first (RunCommand 1 and 2),
# then each disk's unmount and DetachDisk in turn.
BULK_SLOTS = {
    "unmount-1": ("RunCommand", UNMOUNT_NTH, UNMOUNTED_DISK),
    "unmount-2": ("RunCommand", UNMOUNT_NTH + 1, SECOND_DISK),
    "detach-1": ("DetachDisk", 1, UNMOUNTED_DISK),
    "detach-2": ("DetachDisk", 2, SECOND_DISK),
}


@pytest.mark.parametrize("slot", BULK_SLOTS)
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_in_a_bulk_unmount_run_releases_and_detaches_each_disk_once(
    cli: Any, slot: str, kind: str
) -> None:
    action, nth, faulted = BULK_SLOTS[slot]
    ran = cli(BULK, Rule(action, nth, kind))
    the_truth_is_kept(ran, action, nth, kind, figures=FIGURES)
    stuck = action == "RunCommand" and not APPLIED_BY[kind]  # an unmount that never reached the guest
    for disk_id, mount_point in MOUNT_POINTS.items():
        held = stuck and disk_id == faulted
        assert ran.accepted_on("RunCommand", disk_id) == (0 if held else 1), (disk_id, ran.out)
        assert ran.mounted(GUEST, disk_id) == held, (disk_id, ran.out)
        assert ran.accepted_on("DetachDisk", disk_id) == (0 if held else 1), (disk_id, ran.out)
        assert ran.status("Disks", disk_id) == ("In_use" if held else "Available"), (disk_id, ran.out)
        unmounted = last_word(ran.journal, "RunCommand", disk_id)
        assert unmounted is not None, (disk_id, ran.out)
        if held:
            # The other disk goes on; this one is not detached, and the operator and the journal say why.
            assert not unmounted.succeeded and unmounted.result == Result.UNKNOWN, unmounted
            assert ran.code == 1, ran.out
            assert f"still shows {mount_point} mounted" in ran.out, ran.out
            assert last_word(ran.journal, "DetachDisk", disk_id) is None
            continue
        assert unmounted.succeeded, (disk_id, unmounted)
        detach = last_word(ran.journal, "DetachDisk", disk_id)
        assert detach is not None and detach.succeeded, (disk_id, detach)
        assert detach.context.get("unmounted") == mount_point, detach  # the undo can mount it back
    if not stuck:
        assert ran.code == 0, ran.out
        assert "2 of 2 disk(s) detached" in ran.out, ran.out
        return
    # The operator runs the bulk again: it releases and detaches only what is left, once.
    again = cli(BULK, reset=False)
    assert again.code == 0, again.out
    assert applied_twice(again.requests) == [] and journal_problems(again.journal, again.requests) == []
    for disk_id in MOUNT_POINTS:
        assert again.accepted_on("RunCommand", disk_id) == again.accepted_on("DetachDisk", disk_id) == 1
        assert not again.mounted(GUEST, disk_id) and again.status("Disks", disk_id) == "Available"


# -- a move with an unmount --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "nth"), [("RunCommand", UNMOUNT_NTH), ("DetachDisk", 1), ("AttachDisk", 1)]
)
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_a_move_unmount_moves_once_or_stops_before_the_detach(
    cli: Any, action: str, nth: int, kind: str
) -> None:
    ran = cli(MOVE_UNMOUNT, Rule(action, nth, kind))
    the_truth_is_kept(ran, action, nth, kind, figures=FIGURES)
    stuck = action == "RunCommand" and not APPLIED_BY[kind]
    disk = ran.disk(UNMOUNTED_DISK)
    assert len(ran.accepted("RunCommand")) == (0 if stuck else 1), ran.out
    assert ran.mounted(GUEST, UNMOUNTED_DISK) == stuck, ran.out
    unmounted = last_word(ran.journal, "RunCommand", UNMOUNTED_DISK)
    assert unmounted is not None
    if stuck:
        # Still mounted: neither half is sent, the disk stays where it was, the operator is told why.
        assert ran.code == 1, ran.out
        assert ran.accepted("DetachDisk") == [] and ran.accepted("AttachDisk") == []
        assert (disk["Status"], disk["InstanceId"]) == ("In_use", GUEST)
        assert "still shows /data mounted" in ran.out and "DetachDisk was not sent" in ran.out, ran.out
        assert unmounted.result == Result.UNKNOWN and unmounted.reconciled, unmounted
        again = cli(MOVE_UNMOUNT, reset=False)  # run again: the unmount is sent (once in all), then the move
        assert again.code == 0, again.out
        assert [r["action"] for r in mutation_log(again.requests) if r["status"] == 200] == [
            "RunCommand",
            "DetachDisk",
            "AttachDisk",
        ]
        assert (
            ran.disk(UNMOUNTED_DISK)["InstanceId"] == GUEST
            and again.disk(UNMOUNTED_DISK)["InstanceId"] == "i-web-02"
        )
        return
    assert ran.code == 0, ran.out
    assert unmounted.succeeded, unmounted
    assert len(ran.accepted("DetachDisk")) == 1 and len(ran.accepted("AttachDisk")) == 1
    assert (disk["Status"], disk["InstanceId"]) == ("In_use", "i-web-02")
    assert f"Disk {UNMOUNTED_DISK} moved from {GUEST} to i-web-02" in ran.out, ran.out
    detached = last_word(ran.journal, "DetachDisk")
    assert detached is not None and detached.succeeded and detached.instance_id == GUEST, detached
    assert detached.context.get("unmounted") == "/data", detached
    attached = last_word(ran.journal, "AttachDisk")
    assert attached is not None and attached.succeeded and attached.instance_id == "i-web-02", attached
    assert attached.context.get("move_from") == GUEST


# -- the probes of a bulk run and a move --------------------------------------------------------------------

PROBED = {
    "bulk": ["detach", UNMOUNTED_DISK, SECOND_DISK],
    "move": ["move", UNMOUNTED_DISK, "--to", "i-web-02"],
    "bulk-unmount": BULK,
    "move-unmount": MOVE_UNMOUNT,
}


@pytest.mark.parametrize("nth", [1, 2], ids=["probe", "holders-probe"])
@pytest.mark.parametrize("plan", PROBED)
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_a_bulk_or_move_probe_never_detaches_a_mounted_disk(
    cli: Any, plan: str, nth: int, kind: str
) -> None:
    """A lost answer to a read-only probe of files-01 (read once for both disks of a bulk run): without
    --unmount nothing is sent (exit 3); with it, each disk is released once and then detached once."""
    ran = cli(PROBED[plan], Rule("RunCommand", nth, kind))
    the_truth_is_kept(ran, "RunCommand", nth, kind, codes=(0, 3), figures=FIGURES)
    disks = [UNMOUNTED_DISK, SECOND_DISK] if plan.startswith("bulk") else [UNMOUNTED_DISK]
    if not plan.endswith("unmount"):
        assert ran.code == 3, ran.out
        assert [r for r in mutation_log(ran.requests) if r["status"] == 200] == []
        assert all(ran.mounted(GUEST, d) and ran.disk(d)["InstanceId"] == GUEST for d in disks), ran.out
        assert "Mounted in the guest at /data" in ran.out, ran.out
        return
    assert ran.code == 0, ran.out
    for disk_id in disks:
        assert ran.accepted_on("RunCommand", disk_id) == 1 and not ran.mounted(GUEST, disk_id), (
            disk_id,
            ran.out,
        )
        assert ran.accepted_on("DetachDisk", disk_id) == 1, (disk_id, ran.out)
        detach = last_word(ran.journal, "DetachDisk", disk_id)
        assert detach is not None and detach.context.get("unmounted") == MOUNT_POINTS[disk_id], detach
    where = "i-web-02" if plan == "move-unmount" else ""
    assert [ran.disk(d)["InstanceId"] for d in disks] == [where] * len(disks), ran.out


# -- the undo of a bulk run -------------------------------------------------------------------------------

# A bulk `detach --unmount` journals one DetachDisk per disk; its undo is `attach --operation OP` of each in
# turn: AttachDisk, then the remount RunCommand (the first RunCommand of that run: no probe goes before it).
BULK_UNDO_SLOTS = {
    "attach-1": (UNMOUNTED_DISK, "AttachDisk"),
    "remount-1": (UNMOUNTED_DISK, "RunCommand"),
    "attach-2": (SECOND_DISK, "AttachDisk"),
    "remount-2": (SECOND_DISK, "RunCommand"),
}
FSTAB_BEFORE = list(FLEET["Emulator"]["Guests"][GUEST]["EtcFstab"])


def _remounts(ran: Run, detached: Run, disk_id: str) -> int:
    """The guest scripts for `disk_id` applied since the bulk run `detached` (one log, every run since)."""
    return ran.accepted_on("RunCommand", disk_id) - detached.accepted_on("RunCommand", disk_id)


def _remount_words(ran: Run, disk_id: str) -> list[str]:
    """The last word of each remount the undos of `disk_id` journaled, oldest first."""
    return [
        outcome.result if outcome is not None else ""
        for intent, outcome in ran.journal.operations()
        if intent.action == "RunCommand"
        and intent.context.get("disk_id") == disk_id
        and intent.context.get("undo")
    ]


def _undone_once(ran: Run, detached: Run, disk_id: str) -> None:
    """The disk ends as the bulk run found it: attached once to its instance, mounted once (fstab line back),
    every call of its undo journaled as what the emulator did."""
    assert ran.accepted_on("AttachDisk", disk_id) == 1 and _remounts(ran, detached, disk_id) == 1, disk_id
    assert ran.disk(disk_id)["InstanceId"] == GUEST and ran.status("Disks", disk_id) == "In_use"
    assert ran.mounted(GUEST, disk_id), (disk_id, ran.out)
    fstab = ran.state["Emulator"]["Guests"][GUEST]["EtcFstab"]
    assert [line for line in fstab if MOUNT_POINTS[disk_id] in line.split()] == [
        line for line in FSTAB_BEFORE if MOUNT_POINTS[disk_id] in line.split()
    ], fstab
    attached = last_word(ran.journal, "AttachDisk", disk_id)
    assert attached is not None and attached.succeeded, (disk_id, attached)
    assert _remount_words(ran, disk_id)[-1] in (Result.OK, Result.WENT_THROUGH), (disk_id, ran.out)
    assert applied_twice(ran.requests) == [] and consistency_problems(ran.state) == []
    assert journal_problems(ran.journal, ran.requests) == [] and ran.journal.pending() == []
    assert false_successes(ran.journal, ran.requests) == []


def test_a_bulk_undo_sends_the_mutations_the_matrix_faults(cli: Any) -> None:
    bulk = cli(BULK)
    assert bulk.code == 0, bulk.out
    before = bulk
    for disk_id in MOUNT_POINTS:
        undone = undo(cli, bulk, disk_id=disk_id)
        assert undone.code == 0, undone.out
        sent = mutation_log(undone.requests)[len(mutation_log(before.requests)) :]
        assert [(r["action"], r["params"].get("DiskId", "")) for r in sent] == [
            ("AttachDisk", disk_id),
            ("RunCommand", ""),
        ]
        assert f"mount disk {disk_id} again" in sent[1]["params"]["CommandContent"]
        commands = [r for r in undone.requests[len(before.requests) :] if r["action"] == "RunCommand"]
        assert commands == [sent[1]]  # the remount is the run's first RunCommand
        before = undone
    assert [before.mounted(GUEST, d) for d in MOUNT_POINTS] == [True, True]
    assert before.state["Emulator"]["Guests"][GUEST]["EtcFstab"] == FSTAB_BEFORE


@pytest.mark.parametrize("slot", BULK_UNDO_SLOTS)
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_in_a_bulk_undo_reattaches_and_remounts_each_disk_once(
    cli: Any, slot: str, kind: str
) -> None:
    faulted, action = BULK_UNDO_SLOTS[slot]
    bulk = cli(BULK)
    assert bulk.code == 0, bulk.out
    ran = bulk
    for disk_id, mount_point in MOUNT_POINTS.items():
        if disk_id != faulted:
            ran = undo(cli, bulk, disk_id=disk_id)
            assert ran.code == 0 and ran.faults == [], ran.out
            continue
        ran = undo(cli, bulk, Rule(action, 1, kind), disk_id=disk_id)
        the_truth_is_kept(ran, action, 1, kind, figures=FIGURES)
        assert ran.accepted_on("AttachDisk", disk_id) == 1, ran.out
        assert ran.disk(disk_id)["InstanceId"] == GUEST and ran.status("Disks", disk_id) == "In_use"
        remount_applied = action == "AttachDisk" or APPLIED_BY[kind]
        assert _remounts(ran, bulk, disk_id) == (1 if remount_applied else 0), ran.out
        assert ran.mounted(GUEST, disk_id) == remount_applied, ran.out
        # The journal's last word on each call of this undo is what the emulator did.
        attached = last_word(ran.journal, "AttachDisk", disk_id)
        assert attached is not None and attached.succeeded, attached
        remounted = last_word(ran.journal, "RunCommand", disk_id)
        assert remounted is not None and remounted.succeeded == remount_applied, remounted
        if remount_applied:
            assert ran.code == 0, ran.out
            assert f"{mount_point} mounted again" in ran.out, ran.out
            continue
        # Not run in the guest (the answer never came, the guest read shows it unmounted): unknown, not a
        # success; the operator is given the script, and runs the same undo again.
        assert ran.code == 1, ran.out
        assert f"mount {mount_point}" in ran.out and "by hand" in ran.out, ran.out
        assert remounted.result == Result.UNKNOWN and remounted.reconciled, remounted
        ran = undo(cli, bulk, disk_id=disk_id)
        assert ran.code == 0 and ran.faults == [], ran.out
        assert "already attached" in ran.out and f"{mount_point} mounted again" in ran.out, ran.out
        assert _remount_words(ran, disk_id) == [Result.UNKNOWN, Result.OK], ran.out  # the first not rewritten
    for disk_id in MOUNT_POINTS:  # after both undos (and a run again): each disk as the bulk run found it
        _undone_once(ran, bulk, disk_id)
    assert ran.state["Emulator"]["Guests"][GUEST]["EtcFstab"] == FSTAB_BEFORE


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_on_the_rerun_of_a_bulk_undo_still_remounts_once(cli: Any, kind: str) -> None:
    """The run again after a remount that never reached the guest: it reads the guest (a probe, RunCommand
    1), then sends the remount still owed (RunCommand 2); a fault on that one is settled by the guest too."""
    bulk = cli(BULK)
    assert bulk.code == 0, bulk.out
    failed = undo(cli, bulk, Rule("RunCommand", 1, "reset_before"), disk_id=UNMOUNTED_DISK)
    assert failed.code == 1 and not failed.mounted(GUEST, UNMOUNTED_DISK), failed.out
    ran = undo(cli, bulk, Rule("RunCommand", 2, kind), disk_id=UNMOUNTED_DISK)
    the_truth_is_kept(ran, "RunCommand", 2, kind, figures=FIGURES)
    assert ran.accepted_on("AttachDisk", UNMOUNTED_DISK) == 1, ran.out  # never a second AttachDisk
    assert _remounts(ran, bulk, UNMOUNTED_DISK) == (1 if APPLIED_BY[kind] else 0), ran.out
    assert ran.mounted(GUEST, UNMOUNTED_DISK) == APPLIED_BY[kind], ran.out
    words = _remount_words(ran, UNMOUNTED_DISK)
    if APPLIED_BY[kind]:
        assert ran.code == 0 and "/data mounted again" in ran.out, ran.out
        assert words[0] == Result.UNKNOWN and words[1] in (Result.OK, Result.WENT_THROUGH), words
    else:
        assert ran.code == 1 and "by hand" in ran.out, ran.out
        assert words == [Result.UNKNOWN, Result.UNKNOWN], words
        ran = undo(cli, bulk, disk_id=UNMOUNTED_DISK)
        assert ran.code == 0 and "/data mounted again" in ran.out, ran.out
    ran = undo(cli, bulk, disk_id=SECOND_DISK)
    assert ran.code == 0, ran.out
    for disk_id in MOUNT_POINTS:
        _undone_once(ran, bulk, disk_id)
    assert ran.state["Emulator"]["Guests"][GUEST]["EtcFstab"] == FSTAB_BEFORE


def test_matrix_figures() -> None:
    """Printed with ``pytest -s``: cases, per kind, calls through the proxy, exits."""
    if FIGURES["cases"]:
        print("\nfault matrix (new paths):", dict(sorted(FIGURES.items())))
