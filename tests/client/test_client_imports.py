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


def test_our_programs_leave_out_httpx_s_command_line_tool_and_the_library_does_not() -> None:
    program = (
        "import tui; from ecs_detach.client import EcsClient; from ecs_detach.emulator import Emulator; "
        "EcsClient.for_emulator(Emulator()).list_disks()"
    )
    loaded = modules_after(program)
    assert "httpx" in loaded and "click" not in loaded  # click: what httpx's command line tool imports
    library = modules_after("import ecs_detach.client, httpx")
    assert "click" in library  # a program that only uses the library keeps httpx whole
