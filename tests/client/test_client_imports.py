"""Importing the client is cheap: httpx, anyio and the emulator load only when a client or a demo is built."""

from __future__ import annotations

import subprocess
import sys


def modules_after(code: str) -> set[str]:
    script = f"import sys; {code}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_importing_the_client_and_session_loads_no_http_stack() -> None:
    loaded = modules_after("import ecs_detach.client, ecs_detach.session, ecs_detach.errors")
    assert "ecs_detach.client" in loaded
    for heavy in ("httpx", "anyio", "ecs_detach.emulator", "ecs_detach.signing", "alibabacloud_credentials"):
        assert heavy not in loaded, heavy


def test_building_a_client_loads_httpx_but_not_the_emulator() -> None:
    code = (
        "from ecs_detach.client import EcsClient; from ecs_detach.credentials import Credentials; "
        "EcsClient(Credentials('LTAI5tSomeKeyId0001', 's'), 'cn-beijing')"
    )
    loaded = modules_after(code)
    assert "httpx" in loaded and "ecs_detach.signing" in loaded
    assert "ecs_detach.emulator" not in loaded and "textual" not in loaded
