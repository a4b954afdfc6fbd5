"""A notebook on the demo names the emulator as its endpoint, never a cloud URL, and labels demo time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ecs_detach import notebook
from ecs_detach.emulator import ManualClock
from ecs_detach.vocabulary import DEMO_TIME, IN_PROCESS_ENDPOINT


class Recorder(notebook.ProgressLine):
    def show(self, text: str) -> None:
        line = self._compose(text)
        if line != self.last:
            self.last = line
            self.lines.append(line)


@pytest.fixture
def nb(tmp_path: Path) -> Iterator[notebook.Workbench]:
    bench = notebook.connect(clock=ManualClock(), journal_path=tmp_path / "journal.jsonl")
    bench.progress_factory = Recorder
    yield bench
    bench.close()


def test_the_demo_workbench_shows_and_journals_the_emulator_as_its_endpoint(nb: notebook.Workbench) -> None:
    assert "aliyuncs.com" not in nb.describe() and IN_PROCESS_ENDPOINT in nb.describe()
    assert "aliyuncs.com" not in nb._repr_html_()
    nb.detach(nb.plan("d-web-01-data"), confirm="d-web-01-data")
    records = nb.journal.records()
    assert records and {r.endpoint for r in records} == {IN_PROCESS_ENDPOINT}
    assert nb.in_region("cn-shanghai").session.endpoint == IN_PROCESS_ENDPOINT


def test_demo_progress_and_results_say_demo_time(nb: notebook.Workbench) -> None:
    progress: list[Recorder] = []

    def factory(title: str) -> Recorder:
        progress.append(Recorder(title))
        return progress[-1]

    nb.progress_factory = factory
    result = nb.detach(nb.plan("d-web-01-data"), confirm="d-web-01-data")
    assert result.ok
    lines = progress[0].lines
    waits = [line for line in lines if "Waiting for disk" in line]
    assert waits and all(f"({DEMO_TIME})" in line for line in waits)
    assert f"of {DEMO_TIME}" in lines[-1] and "took" in lines[-1]
