"""ecs-detach: detach disks from Alibaba Cloud ECS instances safely.

The package stays cheap to import: submodules load on first use.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``ecs_detach.__version__``: the installed version, read from the package metadata (pyproject.toml is
    the one place it is written)."""
    if name == "__version__":
        from ecs_detach.cli_reference import package_version

        return package_version()
    raise AttributeError(f"module 'ecs_detach' has no attribute {name!r}")
