"""Bulk detach: a preflight row per marked disk, then the ready ones detached together (one job each)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Label, Static

from ecs_detach import workflow
from ecs_detach.plan import Plan
from ecs_detach.preconditions import DetachOptions

from ..checks import bulk_row, bulk_selectable, bulk_summary, in_use_in_guest
from ..formatting import plural
from ..rows import Column, Row
from ..text import lines as text_lines
from ..text import marked, plain
from ..widgets.footer import KeyFooter
from ..widgets.identity import IdentityBar
from ..widgets.tables import RowTable
from ..words import BULK_WORDS
from .base import AppScreen
from .confirm import ConfirmScreen
from .pickers import PickerScreen

if TYPE_CHECKING:
    pass

BULK_COLUMNS = (
    Column("disk", "Disk"),
    Column("instance", "Instance", priority=1),
    Column("role", "Role", priority=2),
    Column("verdict", "Preflight", priority=1),
    Column("what", "What happens / why not", priority=1, shrink=3, fill=True),
)
"""What happens to each disk is narrowed first, but outlasts its role (said again under the table; a system
disk's row says so itself): at 80x24 beside "◐ already detaching" the role goes, not what happens."""


def row_detail(row: Row) -> Text:
    """The highlighted row in full, wrapped under the table: a reason is often longer than its column."""
    disk, instance, role, verdict, what = row.cells
    if instance == "-":  # a multi-attach disk whose instance is not chosen yet
        text = Text.assemble((disk, "bold"), f" ({role}, no instance chosen) — {verdict}: ")
    else:
        text = Text.assemble((disk, "bold"), f" ({role}) on ", (instance, "bold"), f" — {verdict}: ")
    text.append(what)
    return text


@dataclass
class BulkPrepared(Message):
    plans: Sequence[Plan]


@dataclass
class BulkFailed(Message):
    error: BaseException


class BulkDetachScreen(AppScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("d", "wizard", "Wizard", id="bulk-wizard"),
        # Short: with it, every key fits the footer at 80x24 (o was cut at the edge).
        Binding(
            "i",
            "pick_instance",
            "Choose instance",
            tooltip="Choose the instance a multi-attach disk is detached from",
            id="pick-instance",
        ),
        Binding("o", "app.operations", "Jobs"),
    ]

    def __init__(
        self,
        disk_ids: Sequence[str],
        regions: dict[str, str] | None = None,
        instances: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.disk_ids = list(disk_ids)
        self.regions = dict(regions or {})
        """disk id -> its region (the all-regions view can mark disks of several regions)."""
        self.instances = dict(instances or {})
        """disk id -> the instance to detach it from: the operator's choice for a multi-attach disk."""
        self.plans: list[Plan] = []
        self._rows: dict[str, Row] = {}
        self.started = False
        self._read_again = False
        """The wizard was opened from here (d): the preflight is read again when the screen is back."""

    def compose(self) -> ComposeResult:
        yield IdentityBar(self.ecs_app.identity)
        yield Label(f"Detach {plural(len(self.disk_ids), 'marked disk')}: preflight", classes="pane-title")
        yield RowTable(id="bulk-table")
        yield Static("", id="bulk-detail")
        yield Static("Checking every disk (fresh reads)…", id="bulk-summary")
        with Horizontal(classes="wizard-actions"):
            yield Button("Cancel", id="cancel", variant="primary")
            yield Button("Detach…", id="go", variant="error", disabled=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        # The table has the focus: ↑↓ move between the disks at once and i acts on the one highlighted
        # (enter there sends nothing; Detach… is a tab away and asks to confirm).
        self.query_one("#bulk-table", RowTable).focus()
        self.prepare()

    @work(thread=True, exclusive=True, group="bulk", exit_on_error=False)
    def prepare(self) -> None:
        app = self.ecs_app
        try:
            plans: list[Plan] = []
            by_region: dict[str, list[workflow.BulkItem]] = {}
            for disk_id in self.disk_ids:
                # The guests are read as the wizard reads one (each instance's once): a disk in use there
                # is left alone (d on it unmounts it first).
                options = DetachOptions(instance_id=self.instances.get(disk_id), guest_check=True)
                item = workflow.BulkItem(disk_id, options)
                by_region.setdefault(self.regions.get(disk_id, ""), []).append(item)
            for region, items in by_region.items():
                client = app.client_for(region or None)
                plans += workflow.prepare_bulk(
                    client,
                    items,
                    facts=app.facts_source(),
                    journal=app.services.journal,
                    guest_time=app.guest_time(),
                )
        except Exception as error:
            self.post_message(BulkFailed(error))
            return
        self.post_message(BulkPrepared(plans))

    @on(BulkFailed)
    def _failed(self, message: BulkFailed) -> None:
        self.ecs_app.show_error(message.error, "Could not check the marked disks")

    @on(BulkPrepared)
    def _prepared(self, message: BulkPrepared) -> None:
        self.plans = list(message.plans)
        self._rows = {row.key: row for row in map(bulk_row, self.plans)}
        self.query_one("#bulk-table", RowTable).show_rows(BULK_COLUMNS, list(self._rows.values()))
        self._show_detail()
        ready = [p for p in self.plans if bulk_selectable(p)]
        text = bulk_summary(list(self._rows.values()))
        if any(p.preconditions is not None and in_use_in_guest(p.preconditions) for p in self.plans):
            text += "\nA disk in use in its guest is left alone: d on it unmounts it first (one at a time)."
        # What the plans of the disks to detach warn of (an instance an earlier, killed run left Stopped...).
        for warning in dict.fromkeys(w for p in ready for w in p.warnings_in(BULK_WORDS)):
            text += f"\n⚠ {warning}"
        self.query_one("#bulk-summary", Static).update(plain(text))
        go = self.query_one("#go", Button)
        go.label = f"Detach {plural(len(ready), 'disk')}…"
        go.disabled = not ready or self.started
        self.refresh_bindings()  # i only with a multi-attach disk among the marked

    @on(DataTable.RowHighlighted, "#bulk-table")
    def _show_detail(self) -> None:
        key = self.query_one("#bulk-table", RowTable).current_key
        row = self._rows.get(key) if key else None
        self.query_one("#bulk-detail", Static).update(row_detail(row) if row else "")

    def _attachments(self, disk_id: str) -> list[str]:
        """The instances a multi-attach disk is attached to (empty for any other disk)."""
        plan = next((p for p in self.plans if p.disk_id == disk_id), None)
        disk = plan.preconditions.disk if plan is not None and plan.preconditions is not None else None
        if disk is None or not disk.is_multi_attach:
            return []
        return list(disk.attached_instance_ids)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_instance":
            return any(self._attachments(p.disk_id) for p in self.plans) and not self.started
        return True

    def action_wizard(self) -> None:
        """d: the wizard on the highlighted disk (what the rows left for it say), with the instance chosen;
        the preflight is read again on the way back."""
        disk_id = self.query_one("#bulk-table", RowTable).current_key
        plan = next((p for p in self.plans if p.disk_id == disk_id), None)
        disk = plan.preconditions.disk if plan is not None and plan.preconditions is not None else None
        if plan is None or disk is None:
            self.notify("No disk read to open the wizard on.", title="Wizard")
            return
        instance_id = self.instances.get(disk.disk_id) or plan.instance_id or None
        if instance_id is None and self._attachments(disk.disk_id):
            self.notify("Choose the instance to detach it from first: i.", title="Wizard")
            return
        self._read_again = True
        self.ecs_app.open_wizard(disk, instance_id)

    def on_screen_resume(self) -> None:
        if self._read_again and not self.started:
            self._read_again = False
            self.query_one("#go", Button).disabled = True
            self.query_one("#bulk-summary", Static).update(plain("Checking every disk again (fresh reads)…"))
            self.prepare()

    def action_pick_instance(self) -> None:
        """Choose which attachment of the highlighted multi-attach disk the bulk run detaches."""
        disk_id = self.query_one("#bulk-table", RowTable).current_key
        choices = self._attachments(disk_id) if disk_id and not self.started else []
        if not disk_id or not choices:
            self.notify("Only a multi-attach disk has instances to choose from.", title="Instance")
            return
        options = [(instance_id, instance_id) for instance_id in choices]
        current = self.instances.get(disk_id, "")
        self.app.push_screen(
            PickerScreen(f"Detach {disk_id} from which instance?", options, current=current),
            lambda picked: self._instance_picked(disk_id, picked),
        )

    def _instance_picked(self, disk_id: str, instance_id: str | None) -> None:
        if not instance_id or instance_id == self.instances.get(disk_id):
            return
        self.instances[disk_id] = instance_id
        self.query_one("#go", Button).disabled = True
        self.query_one("#bulk-summary", Static).update(plain("Checking every disk again (fresh reads)…"))
        self.prepare()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        ready = [p for p in self.plans if bulk_selectable(p)]
        if not ready or self.started or not self.ecs_app.writes_allowed("detach the marked disks"):
            return
        regions = sorted({p.region_id for p in ready})
        lines: list[str | Content] = [
            marked(
                "Profile [b]$profile[/b] · $word [b]$region[/b]",
                profile=self.ecs_app.services.profile,
                word="regions" if len(regions) > 1 else "region",
                region=", ".join(regions),
            ),
            "",
        ]
        several = len(regions) > 1
        lines += [
            f"• DetachDisk {p.disk_id} from {p.instance_id}" + (f" ({p.region_id})" if several else "")
            for p in ready
        ]
        lines += [
            "",
            "Disks on the same instance go one after another; each is re-checked just before its call.",
        ]
        self.app.push_screen(
            ConfirmScreen(
                f"Detach {plural(len(ready), 'disk')}?",
                text_lines(lines),
                confirm_label=f"Detach {len(ready)}",
            ),
            lambda ok: self._confirmed(bool(ok), ready),
        )

    def _confirmed(self, ok: bool, ready: list[Plan]) -> None:
        if not ok:
            return
        self.started = True
        self.query_one("#go", Button).disabled = True
        self.ecs_app.run_bulk(ready)
        browse = self.ecs_app.browse
        if browse is not None:
            browse.marked.clear()
        self.app.pop_screen()
        self.ecs_app.action_operations()
