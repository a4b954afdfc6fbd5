"""Windows end to end on the command line (issue 15): `detach --unmount` takes win-01's data disk offline in
the guest, `attach --operation OP` brings it back online with its drive letter."""

from __future__ import annotations

from typing import Any

from cli_helpers import CliRunner, HttpEmulator

from ecs_detach.journal import Journal


def win_guest(http_emulator: HttpEmulator) -> dict[str, Any]:
    section: dict[str, Any] = http_emulator.emulator.state()["Emulator"]["Guests"]["i-win-01"]
    return section


def test_a_windows_data_disk_goes_offline_and_comes_back_online_with_its_drive_letter(
    cli: CliRunner, http_emulator: HttpEmulator, journal: Journal
) -> None:
    refused = cli("detach", "d-win-01-data", "--yes", *http_emulator.endpoint_args)
    assert refused.code == 3 and "--unmount" in refused.err
    ran = cli("detach", "d-win-01-data", "--yes", "--unmount", *http_emulator.endpoint_args)
    assert ran.code == 0, ran.err
    assert "Set-Disk -Number 1 -IsOffline $true" in ran.out  # the script, word for word, in the plan
    assert win_guest(http_emulator)["OfflineDisks"] == ["d-win-01-data"]
    assert win_guest(http_emulator)["Hazards"] == []
    found = journal.last_detach("d-win-01-data")
    assert found is not None and found[0].context["unmounted"] == "D:"

    undone = cli("attach", "--operation", found[0].operation_id, "--yes", *http_emulator.endpoint_args)
    assert undone.code == 0, undone.err
    assert "Bring disk d-win-01-data online again in the guest of i-win-01 (D:)" in undone.err  # progress
    assert "In the guest: D: online again." in undone.out and "mounted again" not in undone.text
    assert "    Get-Disk -SerialNumber 'win-01-data' | Set-Disk -IsOffline $false" in undone.out.splitlines()
    assert win_guest(http_emulator)["OfflineDisks"] == []
    checked = cli("check", "d-win-01-data", "--json", *http_emulator.endpoint_args)
    guest = checked.json()["guest"]
    assert guest["drive_letters"] == ["D"] and guest["mount_points"] == ["D:"]
