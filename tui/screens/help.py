"""Key help, written from the bindings themselves (so it cannot drift from them): every key, grouped by
where it works, with what it does in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ecs_detach.vocabulary import legend

from ..widgets.tables import RowTable
from .browse import BrowseScreen
from .bulk import BulkDetachScreen
from .confirm import ConfirmScreen
from .journal import JournalScreen
from .move import MoveScreen
from .operations import OperationsScreen
from .pickers import PickerScreen
from .undo import UndoScreen
from .wizard import DetachWizard

WORDS: dict[str, str] = {
    # anywhere
    "help": "this help",
    "journal": "journal: what was done, with request ids",
    "operations": "jobs: the progress of every operation",
    "app.operations": "jobs: the progress of every operation",
    "toggle_writes": "writes on / off (a protected profile: type its name)",
    "pick_profile": "switch profile",
    "quit_app": "quit (while jobs run, asks first)",
    "quit": "quit at once",
    "command_palette": "palette: go to a disk, region, profile, theme, …",
    "app.focus_next": "next table, box or button",
    "app.focus_previous": "previous table, box or button",
    "screen.copy_text": "copy the selected text",
    # browse
    "filter": "filter: text, field:value, field=value, tag:KEY=VALUE (exact), -negate",
    "clear_filter": "clear the filter",
    "view('instances')": "instances, each with its disks below",
    "view('disks')": "every disk of the region",
    "refresh": "read the fleet now (what moves refreshes itself)",
    "toggle_detail": "detail pane on / off",
    "toggle_raw": "the API's raw JSON on / off",
    "check": "check: every DetachDisk precondition, nothing sent",
    "detach": "detach: checklist → fix → plan → confirm → follow",
    "mark": "mark / unmark the disk for a bulk detach",
    "bulk_detach": "detach the marked disks (a preflight row for each)",
    "undo": "undo: re-attach a disk detached here (journal)",
    "pick_region": "switch region (or all regions)",
    "all_regions": "all regions on / off",
    # tables
    "cursor_up": "move the cursor",
    "cursor_down": "move the cursor",
    "cursor_left": "scroll sideways",
    "cursor_right": "scroll sideways",
    "page_up": "a page up / down",
    "page_down": "a page up / down",
    "page_left": "a page left / right",
    "page_right": "a page left / right",
    "scroll_home": "first / last column",
    "scroll_end": "first / last column",
    "scroll_top": "first / last row",
    "scroll_bottom": "first / last row",
    "select_cursor": "choose the row (an instance: on to its disks)",
    "sort_next": "sort by the next column ▲ (after the last: as listed)",
    "sort_reverse": "reverse the sort ▲ ▼ (or click the header again)",
    # the other screens
    "app.pop_screen": "back",
    "recheck": "check again (fresh reads)",
    "allow_stop": "allow the stop the fix needs (then set its options)",
    "cancel": "cancel (Cancel has the focus)",
    "pick_instance": "the instance to detach a multi-attach disk from",
    "wizard": "the detach wizard on the highlighted disk (a stop, a system disk, an unmount)",
    "pick_source": "the instance a multi-attach disk moves from (it stays on the others)",
    "refresh_jobs": "refresh now",
    "reload": "read the journal again",
    "dismiss": "close",
    "dismiss(None)": "cancel",
}
"""What each key does, by its binding's action; a key whose action is missing here shows its footer word."""

ACTION_WORDS_BY_SCREEN: dict[str, dict[str, str]] = {
    "Journal": {"undo": "undo the highlighted DetachDisk (re-attach)"},
}
"""Where one action name means something else on one screen."""


@dataclass(frozen=True, slots=True)
class HelpSection:
    title: str
    owners: tuple[type[DOMNode], ...]
    """Whose bindings are listed, in order: each class's own and those it inherits, but a screen's
    inherited from Textual's ``Screen`` (tab, shift+tab, copy: listed once, under Anywhere)."""
    note: str = ""


def sections(app_class: type[App[object]]) -> tuple[HelpSection, ...]:
    return (
        HelpSection("Anywhere", (app_class, Screen)),
        HelpSection("Browse", (BrowseScreen,), "Act (c d space D u) works on the disk under the cursor."),
        HelpSection("Tables", (RowTable,), "Mouse: click a row to move there, a header to sort by it."),
        HelpSection(
            "Detach wizard",
            (DetachWizard,),
            "tab / enter reach Detach…; a job started goes on when you leave.",
        ),
        HelpSection("Confirmation", (ConfirmScreen,)),
        HelpSection("Bulk detach", (BulkDetachScreen,)),
        HelpSection("Jobs", (OperationsScreen,)),
        HelpSection("Journal", (JournalScreen,)),
        HelpSection("Re-attach (undo)", (UndoScreen,)),
        HelpSection(
            "Move a disk",
            (MoveScreen,),
            "m on a disk: pick the target, both sides are checked; Move… confirms.",
        ),
        HelpSection("Pick a region or profile", (PickerScreen,), "enter chooses."),
        HelpSection("This help", (HelpScreen,)),
    )


def _merged(owner: type[DOMNode]) -> list[Binding]:
    merged = owner._merge_bindings()
    return [binding for items in merged.key_to_bindings.values() for binding in items if not binding.system]


def bindings_of(owner: type[DOMNode]) -> list[Binding]:
    """The keys ``owner`` has (its own and inherited; for a screen, not those every screen has), without
    Textual's hidden system keys."""
    bindings = _merged(owner)
    if issubclass(owner, Screen) and owner is not Screen:
        every_screen = {(binding.key, binding.action) for binding in _merged(Screen)}
        bindings = [binding for binding in bindings if (binding.key, binding.action) not in every_screen]
    return bindings


def words_for(section: HelpSection, binding: Binding) -> str:
    by_screen = ACTION_WORDS_BY_SCREEN.get(section.title, {})
    return by_screen.get(binding.action) or WORDS.get(binding.action) or binding.description


def help_entries(app: App[object], section: HelpSection) -> list[tuple[str, str]]:
    """(keys, words) for a section, in binding order: the keys that do the same thing on one line."""
    bindings = [binding for owner in section.owners for binding in bindings_of(owner)]
    if isinstance(app, section.owners[0]):
        bindings.append(Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Palette"))
    entries: dict[str, list[str]] = {}
    for binding in bindings:
        entries.setdefault(words_for(section, binding), []).append(app.get_key_display(binding))
    return [(" ".join(dict.fromkeys(keys)), words) for words, keys in entries.items()]


def help_table(entries: Sequence[tuple[str, str]]) -> Table:
    """Keys in a column of their own, what they do beside them, wrapped under itself (never under the key)."""
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(no_wrap=True, style="bold", min_width=12)
    table.add_column(ratio=1)
    for keys, words in entries:
        table.add_row(Text(keys), Text(words))
    return table


STATES = (
    "Confirmation dialogs focus Cancel. Detaching a system disk or stopping an instance needs the id typed. "
    "Every state is a symbol and a word: ● running / in use  ○ stopped / available  ◐ moving. "
    f"{legend()}  (? unknown: the API decides; – n/a: the row does not apply)."
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen .help-section {
        text-style: bold;
        background: $boost;
        padding: 0 1;
        margin-top: 1;
    }
    HelpScreen .help-note {
        color: $text-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static("Keys  (↑ ↓ pgup pgdn scroll · esc closes)", classes="dialog-title")
            for section in sections(type(self.app)):
                entries = help_entries(self.app, section)
                if not entries:
                    continue
                yield Static(Text(section.title), classes="help-section")
                if section.note:
                    yield Static(Text(section.note), classes="help-note")
                yield Static(help_table(entries))
            yield Static(Text(STATES), classes="hint")
