"""ecs-detach: detach disks from Alibaba Cloud ECS instances safely.

The package stays cheap to import: submodules load on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"
