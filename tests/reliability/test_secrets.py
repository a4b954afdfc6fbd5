"""Secrets: a full run with an STS credential, then every output is searched for the secret and the token.

The emulator (served over HTTP) accepts an extra key from its fleet's ``Emulator`` section; the CLI finds the
credential in the environment (``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``_SECRET`` / ``_SECURITY_TOKEN``) and does
everything an operator would: list, check, detach a data disk and a system disk (stop first) under injected
faults (lost answers, resets, 500s), fail on a missing disk, refuse in read-only mode, re-attach the system
disk with a password, read the journal. A wrong secret makes the gateway refuse the signature (whose message
may echo what was signed). Searched: stdout, stderr, the journal, every log record at DEBUG, exception texts
and reprs, the session's description, the emulator's request log and its control API's copy of it.

Not searched, by design: the emulator's own fleet snapshot (``GET /_emulator/state``) and its start-up banner
list the keys it accepts, secrets included: they are the emulator's configuration, not an output of a run.
Notebook outputs: the notebook tests execute in memory and leave no files, so the second test renders what
the cells would show and searches that; ``assets/`` holds no screenshots yet (searched if it does).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_detach import commands
from ecs_detach.client import EcsClient
from ecs_detach.credentials import Credentials, resolve
from ecs_detach.emulator import Emulator, ImmediateClock
from ecs_detach.emulator.server import ServerThread
from ecs_detach.errors import EcsError
from ecs_detach.session import open_client

KEY_ID = "STS.LTAI5tScanMeKeyId9"
SECRET = "sEcReT-5c4n-3v3ry-0utput-Qw8"
TOKEN = "CAIS-t0k3n-5c4n-3v3ry-0utput-Zx1"
PASSWORD = "P4ssw0rd-5c4n-Mm7!"
NEEDLES = {"secret": SECRET, "token": TOKEN, "password": PASSWORD}
ASSETS = Path(__file__).resolve().parents[2] / "assets"


def fleet() -> dict[str, Any]:
    state = Emulator("demo", clock=ImmediateClock()).state()
    state["Emulator"]["AccessKeys"] = [{"AccessKeyId": KEY_ID, "AccessKeySecret": SECRET}]
    return state


@pytest.fixture
def served() -> Iterator[ServerThread]:
    server = Emulator(fleet(), clock=ImmediateClock()).serve_in_thread()
    try:
        yield server
    finally:
        server.stop()


def _found(name: str, text: str) -> list[str]:
    return [f"{what} in {name}" for what, needle in NEEDLES.items() if needle in text]


def test_no_output_of_a_full_run_holds_the_secret_or_the_token(
    served: ServerThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
    monkeypatch.setenv("ECS_SCAN_PASSWORD", PASSWORD)
    monkeypatch.delenv("ALIBABA_CLOUD_PROFILE", raising=False)
    journal_path = tmp_path / "journal.jsonl"
    common = ["--endpoint", served.url, "--journal", str(journal_path)]
    emu = served.emulator
    outputs: dict[str, str] = {}

    def cli(*argv: str) -> int:
        capsys.readouterr()
        code = commands.main([*argv, *common])
        out, err = capsys.readouterr()
        outputs[f"stdout of {' '.join(argv)}"] = out
        outputs[f"stderr of {' '.join(argv)}"] = err
        return code

    assert cli("instances", "--json") == 0
    assert cli("disks", "--instance", "i-web-01") == 0
    assert cli("check", "d-web-01-data", "--json") == 0
    emu.set_faults(
        rate=0.5,
        kinds=["lost_response", "reset", "internal_error"],
        actions=["DetachDisk", "StopInstance", "StartInstance", "AttachDisk"],
        seed=3,
    )
    detached = cli("detach", "d-web-01-data", "--yes")
    system = cli("detach", "d-web-01-sys", "--yes", "--stop-instance", "--json")
    emu.clear_faults()
    assert detached in (0, 1) and system in (0, 1)  # done, or failed and said why: both leave text to search
    assert cli("detach", "d-does-not-exist", "--yes") in (1, 3)
    assert cli("detach", "d-web-02-data", "--yes", "--read-only") == 2
    assert cli("attach", "d-web-01-sys", "--instance", "i-web-01", "--bootable", "--password-env",
               "ECS_SCAN_PASSWORD", "--yes") in (0, 1, 3)  # fmt: skip
    assert cli("journal", "--json") == 0
    assert cli("journal") == 0
    assert emu.requests, "the run reached the emulator"

    # Exception texts and reprs, from the library as notebooks and the TUI use it.
    errors: list[str] = []
    config = resolve()
    session = open_client(endpoint=served.url)
    wrong = Credentials(KEY_ID, "not-the-secret", TOKEN)
    with EcsClient(wrong, "cn-hangzhou", endpoint=served.url, sleep=lambda seconds: None) as bad_signer:
        for call in (
            lambda: session.client.get_disk("d-nope"),
            lambda: session.client.detach_disk("d-web-02-data", "i-nope"),
            lambda: session.client.with_read_only(True).detach_disk("d-web-02-data", "i-web-02"),
            lambda: bad_signer.get_disk("d-web-02-data"),  # SignatureDoesNotMatch: the server may echo
        ):
            try:
                call()
            except EcsError as exc:
                errors += [
                    str(exc),
                    repr(exc),
                    exc.remedy,
                    json.dumps(getattr(exc, "__dict__", {}), default=str),
                ]
    assert any("SignatureDoesNotMatch" in e for e in errors)
    outputs["exceptions"] = "\n".join(errors)
    outputs["reprs"] = " ".join(
        [
            *(repr(config), repr(config.credentials), str(config.credentials), repr(session)),
            *(session.describe(), repr(session.client), repr(session.client.credentials)),
        ]
    )
    session.close()

    outputs["journal"] = journal_path.read_text(encoding="utf-8")
    outputs["logs"] = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    outputs["request log"] = json.dumps(emu.requests)
    outputs["control API request log"] = httpx.get(f"{served.url}/_emulator/requests").text
    if ASSETS.is_dir():
        for path in ASSETS.rglob("*"):
            if path.is_file():
                outputs[f"asset {path.name}"] = path.read_bytes().decode("utf-8", errors="replace")

    leaks = [leak for name, text in outputs.items() for leak in _found(name, text)]
    assert leaks == []
    # The search would have seen them: the run did use the token and the key (masked where shown).
    assert "STS.****ey9" in outputs["reprs"] or "STS.****" in outputs["reprs"]
    assert json.loads(outputs["journal"].splitlines()[0])["kind"] == "intent"
    assert all(needle not in json.dumps(emu.requests) for needle in NEEDLES.values())


def test_no_notebook_output_holds_the_secret_or_the_token(
    served: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The notebook tests execute in memory and leave no output files, so this renders what a notebook cell
    would show (text and HTML of every table, report, plan and result, and the progress lines) on the
    real-account path with the STS credential, and searches that."""
    from ecs_detach import notebook

    caplog.set_level(logging.DEBUG)
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN,
    }
    nb = notebook.connect(
        use_emulator=False, endpoint=served.url, env=env, home=tmp_path, journal_path=tmp_path / "nb.jsonl"
    )
    shown: list[Any] = [nb.regions(), nb.instances(), nb.disks(), nb.check_fleet(), nb.check("d-web-01-data")]
    plan = nb.plan("d-web-01-data")
    result = nb.detach(plan, confirm="d-web-01-data")
    assert result.ok, result.message
    shown += [plan, result, nb.journal_table(), nb.reconcile()]
    for refused in (lambda: nb.detach(nb.plan("d-web-02-data")), lambda: nb.check("d-nope")):
        try:
            shown.append(refused())
        except Exception as exc:  # what the cell's error output shows
            shown.append(f"{type(exc).__name__}: {exc}")
    rendered = [str(item) for item in shown] + [
        item._repr_html_() for item in shown if hasattr(item, "_repr_html_")
    ]
    out, err = capsys.readouterr()
    outputs = {
        "cell outputs": "\n".join(rendered),
        "stdout": out,
        "stderr": err,
        "logs": caplog.text,
        "journal": (tmp_path / "nb.jsonl").read_text(encoding="utf-8"),
        "session": f"{nb.session!r} {nb.session.describe()}",
    }
    assert "d-web-01-data" in outputs["cell outputs"] and "STS.****" in outputs["session"]
    assert [leak for name, text in outputs.items() for leak in _found(name, text)] == []
    nb.close()
