"""No credentials found: say how to configure them, and offer the demo instead."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Static

from ..text import marked, plain

HOW_TO = """\
ecs-detach reads credentials the way the official Alibaba Cloud tools do, in this order:

  1. environment variables
       export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI…
       export ALIBABA_CLOUD_ACCESS_KEY_SECRET=…
  2. an aliyun CLI profile in ~/.aliyun/config.json
       aliyun configure --profile NAME          then: ecs-detach --profile NAME
  3. ~/.alibabacloud/credentials.ini, section [default] (or --profile NAME)

The region comes from --region, else the profile's region, else cn-hangzhou.
Use a RAM user with only the ECS permissions you need; start with --read-only to look around safely.
"""


class SetupApp(App[str]):
    """Returns "demo" when the operator picks the demo, None on quit."""

    CSS_PATH = Path(__file__).parent.parent / "app.tcss"
    TITLE = "ecs-detach: set-up"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "demo", "Try the demo"),
        Binding("q", "quit_setup", "Quit"),
        Binding("escape", "quit_setup", "Quit", show=False),
    ]

    def __init__(self, problem: str) -> None:
        super().__init__()
        self._problem = problem

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="setup"):
            yield Static("No credentials found", classes="dialog-title")
            yield Static(marked("[b]What was checked:[/b] $problem\n", problem=self._problem))
            yield Static(plain(HOW_TO))
            yield Static(
                "Or try everything on the built-in emulator with a demo fleet (no account, nothing real "
                "is touched):  ecs-detach --demo"
            )
            with Horizontal(classes="buttons"):
                yield Button("Quit", id="quit")
                yield Button("Try the demo", id="demo", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#demo", Button).focus()

    @on(Button.Pressed, "#demo")
    def action_demo(self) -> None:
        self.exit("demo")

    @on(Button.Pressed, "#quit")
    def action_quit_setup(self) -> None:
        self.exit(None)
