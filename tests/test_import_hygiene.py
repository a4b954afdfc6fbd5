"""The core package never pulls in Textual, and stays cheap to import."""

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_ecs_detach_leaves_textual_out() -> None:
    modules = _modules_after("import ecs_detach, ecs_detach.models")
    assert "ecs_detach.models" in modules
    assert not any(name == "textual" or name.startswith("textual.") for name in modules)
    assert "tui" not in modules
