"""F1 opens the help, as it does in most terminal tools."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import SIZE, build_app, settle

from ecs_detach.emulator import Emulator, ManualClock


@pytest.mark.anyio
async def test_f1_opens_the_help_screen(tmp_path: Path) -> None:
    from tui.screens.help import HelpScreen

    app = build_app(Emulator(fleet="demo", clock=ManualClock()), tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


def test_a_bad_config_toml_stops_the_tui_with_exit_2_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.app import parse_args
    from tui.launch import run

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    path = tmp_path / ".config" / "ecs-detach" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("theme = \n", encoding="utf-8")
    assert run(parse_args(["--demo"])) == 2
    assert "~/.config/ecs-detach/config.toml is not valid TOML" in capsys.readouterr().out


@pytest.mark.anyio
async def test_the_theme_from_config_toml_is_applied_and_an_unknown_one_is_named(tmp_path: Path) -> None:
    from ecs_detach.config import UserConfig
    from tui.launch import _apply_theme

    app = build_app(Emulator(fleet="demo", clock=ManualClock()), tmp_path / "journal.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _apply_theme(app, UserConfig(theme="textual-light")) == ""
        assert app.theme == "textual-light"
        problem = _apply_theme(app, UserConfig(theme="no-such-theme", shown_path="~/config.toml"))
        assert app.theme == "textual-light"
    assert "~/config.toml: unknown theme 'no-such-theme' (known: " in problem
