"""The client over real HTTP against `ecs-detach emulator --port 0`, run as a subprocess by the test."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from ecs_detach.client import EcsClient
from ecs_detach.errors import LockedError
from ecs_detach.session import open_client


@pytest.fixture
def served_emulator() -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ecs_detach.cli import main; raise SystemExit(main())",
            "emulator",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("emulator listening on http://"), first + (
            process.stderr.read() if process.poll() else ""
        )
        yield first.rsplit(" ", 1)[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_client_over_http(served_emulator: str) -> None:
    session = open_client(demo=True, endpoint=served_emulator)
    assert session.emulator is None and session.endpoint == served_emulator
    client: EcsClient = session.client
    with client:
        assert len(client.list_disks(page_size=10)) == 67
        assert client.detach_disk("d-web-01-data", "i-web-01")
        assert client.get_disk("d-web-01-data").status == "Detaching"
        with pytest.raises(LockedError):
            client.detach_disk("d-jump-01-data", "i-jump-01")
        shanghai = client.with_region("cn-shanghai")
        assert {i.region_id for i in shanghai.list_instances()} == {"cn-shanghai"}
