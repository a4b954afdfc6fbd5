"""The first screen: what it shows once loaded, and the work deferred until after it is painted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tui_helpers import SIZE, screen_text, settle

from tui.app import EcsDetachApp

pytestmark = pytest.mark.anyio


def _footer(app: EcsDetachApp) -> str:
    return screen_text(app).splitlines()[-1]


async def test_the_footer_follows_the_keys_of_the_view(make_app: Callable[..., EcsDetachApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = _footer(app)
        assert "All disks" in footer and "Instances" not in footer and "Detach" in footer
        await pilot.press("2")
        await settle(pilot)
        footer = _footer(app)
        assert "Instances" in footer and "All disks" not in footer
        await pilot.press("1")
        await settle(pilot)
        footer = _footer(app)
        assert "All disks" in footer and "Instances" not in footer
