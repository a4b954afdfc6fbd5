"""Bad input: every malformed id, region, credentials file, fleet file or command line gets a clear error.

Hypothesis throws garbage at the client's parameters, the credentials chain (environment variables,
``~/.aliyun/config.json``, ``credentials.ini``), the emulator's fleet files and the scripting CLI's arguments.
Each must end in the project's own error (never a raw ``KeyError``, ``UnicodeEncodeError``, ``TypeError``
...), a one-line message, exit 2 for the CLI, no traceback, no secret in the message, and no request sent for
an id that cannot be one (the emulator's request log stays empty).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ecs_detach import commands
from ecs_detach.client import EcsClient
from ecs_detach.credentials import resolve
from ecs_detach.emulator import Emulator, ImmediateClock, ManualClock
from ecs_detach.emulator.fleet import FleetError
from ecs_detach.emulator.server import ServerThread
from ecs_detach.errors import CredentialsError, EcsError

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never flips on a new draw
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SECRET = "Zq9-UNIQUE-secret-7Hk2"
TOKEN = "STS.Tok3n-UNIQUE-4Xp"
DISK_ID_SHAPE = re.compile(r"^d-[A-Za-z0-9][A-Za-z0-9-]*$")

garbage = st.text(st.characters(codec="utf-8"), min_size=0, max_size=40) | st.sampled_from(
    ["", " ", "\n", "\x00", "d-", "i-", "d-\u00e9", "d-x y", "d-x/../y", "%00", "d-" + "x" * 80, '"]', "\r\n"]
)


@pytest.fixture(scope="module")
def emu() -> Emulator:
    return Emulator("demo", clock=ManualClock())


@pytest.fixture(scope="module")
def client(emu: Emulator) -> Iterator[EcsClient]:
    with EcsClient.for_emulator(emu, sleep=lambda seconds: None) as c:
        yield c


# --- client parameters --------------------------------------------------------------------------------------


@FAST
@given(region=garbage)
def test_any_region_id_builds_a_client_or_says_it_is_not_a_region(emu: Emulator, region: str) -> None:
    try:
        c = EcsClient.for_emulator(emu, region, sleep=lambda seconds: None)
    except ValueError as exc:
        assert "region" in str(exc) and "\n" not in str(exc)
        return
    try:
        c.describe_regions()
    except EcsError as exc:  # a region the API does not know: its own error, typed
        assert str(exc)
    finally:
        c.close()


@FAST
@given(disk_id=garbage, instance_id=garbage)
def test_any_id_gets_an_answer_or_a_typed_error(client: EcsClient, disk_id: str, instance_id: str) -> None:
    known = {d.disk_id for d in client.list_disks()} | {i.instance_id for i in client.list_instances()}
    assume(disk_id.strip() not in known and instance_id.strip() not in known)
    for call in (
        lambda: client.get_disk(disk_id),
        lambda: client.get_instance(instance_id),
        lambda: client.detach_disk(disk_id, instance_id),
    ):
        with pytest.raises(EcsError) as caught:
            call()
        assert str(caught.value) and "\n" not in str(caught.value)


# --- credentials sources ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | garbage,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(garbage, inner, max_size=3),
    max_leaves=8,
)
profile_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["default", "prod", ""]) | garbage,
        "mode": st.sampled_from(["AK", "StsToken", "RamRoleArn", "Nope", ""]) | json_values,
        "access_key_id": st.sampled_from(["LTAI5tGoodKeyId01", ""]) | json_values,
        "access_key_secret": st.just(SECRET) | json_values,
        "sts_token": st.just(TOKEN) | json_values,
        "region_id": st.sampled_from(["cn-beijing", ""]) | json_values,
        "ecs_detach_protected": json_values,
    },
)
config_documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"profiles": st.lists(profile_fields, max_size=3)},
        optional={"current": st.sampled_from(["default", "prod"]) | json_values},
    ),
)
ini_lines = st.lists(
    st.sampled_from(
        [
            "[default]",
            "[prod]",
            "type = access_key",
            "type = ram_role_arn",
            "type = nope",
            "access_key_id = LTAI5tGoodKeyId01",
            f"access_key_secret = {SECRET}",
            "access_key_secret =",
            "region_id = cn-beijing",
            "ecs_detach_protected = maybe",
            "no equals sign here",
            "  indented = continuation",
            "[default]",
            "%(interpolation)s = x",
        ]
    )
    | garbage,
    max_size=8,
)


def _check_credentials_outcome(env: dict[str, str], home: Path) -> None:
    """resolve() either finds usable credentials or raises CredentialsError; never leaks the secret."""
    try:
        config = resolve(None, None, env=env, home=home)
    except CredentialsError as exc:
        text = f"{exc} {exc.remedy} {exc!r}"
        assert SECRET not in text and TOKEN not in text
        assert "\n" not in str(exc) and "Traceback" not in text
        return
    shown = f"{config!r} {config.credentials!r} {config.credentials} {config.masked_key_id}"
    assert SECRET not in shown and TOKEN not in shown
    # Whatever was accepted can be used: a request is built and signed, or refused with our own error.
    emu = Emulator("demo", clock=ManualClock())
    try:
        with EcsClient(
            config.credentials, "cn-hangzhou", transport=emu.transport(), sleep=lambda seconds: None
        ) as c:
            c.get_disk("d-web-01-data")
    except EcsError as exc:
        assert SECRET not in str(exc) and TOKEN not in str(exc)


@FAST
@given(
    env=st.fixed_dictionaries(
        {},
        optional={
            "ALIBABA_CLOUD_ACCESS_KEY_ID": st.sampled_from(["LTAI5tGoodKeyId01", "", " "]) | garbage,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": st.sampled_from([SECRET, ""]),
            "ALIBABA_CLOUD_SECURITY_TOKEN": st.sampled_from([TOKEN, ""]),
            "ALIBABA_CLOUD_PROFILE": st.sampled_from(["prod", ""]) | garbage,
            "ALIBABA_CLOUD_REGION_ID": st.sampled_from(["cn-beijing", ""]) | garbage,
            "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": st.sampled_from(["true", "0"]) | garbage,
            "ECS_DETACH_PROTECTED_PROFILES": st.sampled_from(["env", "*", ""]) | garbage,
        },
    )
)
def test_any_environment_resolves_or_says_what_is_wrong(tmp_path: Path, env: dict[str, str]) -> None:
    _check_credentials_outcome(env, tmp_path / "empty-home")


@FAST
@given(document=config_documents, raw=st.none() | st.binary(max_size=60) | garbage)
def test_any_aliyun_config_json_resolves_or_says_what_is_wrong(
    tmp_path: Path, document: Any, raw: bytes | str | None
) -> None:
    home = tmp_path / "home"
    (home / ".aliyun").mkdir(parents=True, exist_ok=True)
    path = home / ".aliyun" / "config.json"
    if raw is None:
        path.write_text(json.dumps(document), encoding="utf-8")
    else:
        path.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass"))
    _check_credentials_outcome({}, home)


@FAST
@given(lines=ini_lines)
def test_any_credentials_ini_resolves_or_says_what_is_wrong(tmp_path: Path, lines: list[str]) -> None:
    home = tmp_path / "home"
    (home / ".alibabacloud").mkdir(parents=True, exist_ok=True)
    (home / ".alibabacloud" / "credentials.ini").write_text("\n".join(lines), encoding="utf-8")
    _check_credentials_outcome({}, home)


# --- fleet files --------------------------------------------------------------------------------


def _demo_variant(draw: st.DrawFn) -> dict[str, Any]:
    fleet: dict[str, Any] = json.loads(json.dumps(Emulator("demo", clock=ManualClock()).state()))
    section = draw(st.sampled_from(["Instances", "Disks", "Regions", "Emulator"]))
    if section == "Emulator":
        key = draw(
            st.sampled_from(["Durations", "AccessKeys", "RateLimits", "MaxDetachingDisksPerInstance", "X"])
        )
        fleet["Emulator"][key] = draw(json_values)
        return fleet
    items = fleet[section]
    item = items[draw(st.integers(0, len(items) - 1))]
    key = draw(st.sampled_from(sorted(item)))
    if draw(st.booleans()):
        del item[key]
    else:
        item[key] = draw(json_values)
    return fleet


@FAST
@given(fleet=st.composite(_demo_variant)() | json_values)
def test_any_fleet_file_loads_or_says_where_it_is_wrong(fleet: Any) -> None:
    try:
        emu = Emulator(fleet=fleet, clock=ManualClock())
    except FleetError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    emu.state()  # what loaded can be served and snapshotted


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'{"Instances": "nope"}',
        b'{"Disks": [{"DiskId": "d-1", "InstanceId": "i-nowhere"}]}',
        '{"Instances": [{"InstanceId": "i-\u00e9t\u00e9", "Status": "Sleeping"}]}'.encode(),
    ],
    ids=["not-json", "binary", "a-list", "wrong-type", "dangling-reference", "unicode-bad-status"],
)
def test_ecs_detach_emulator_refuses_a_bad_fleet_file_with_exit_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fleet.json"
    path.write_bytes(content)
    ran = subprocess.run(
        [sys.executable, "-m", "ecs_detach.cli", "emulator", "--port", "0", "--fleet", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr and ran.stdout == ""
    assert (
        ran.stderr.startswith("ecs-detach emulator: cannot load the fleet")
        and len(ran.stderr.splitlines()) == 1
    )


# --- the scripting CLI --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[ServerThread]:
    emulator = Emulator("demo", clock=ImmediateClock())
    server = emulator.serve_in_thread()  # already started
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", _NoTerminal())
    return tmp_path


class _NoTerminal:
    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return ""


def _run_cli(
    capsys: pytest.CaptureFixture[str], argv: list[str], served: ServerThread
) -> tuple[int, str, str, list[dict[str, Any]]]:
    served.emulator.reset()  # a fresh fleet and an empty request log
    capsys.readouterr()
    code = commands.main(argv)
    out, err = capsys.readouterr()
    return code, out, err, served.emulator.requests


def _not_a_disk_id(text: str) -> bool:
    value = text.strip()
    return not (DISK_ID_SHAPE.match(value) and len(value) <= 64)


@FAST
@given(disk_id=garbage.filter(_not_a_disk_id), subcommand=st.sampled_from(["detach", "check"]))
def test_cli_refuses_an_invalid_disk_id_with_exit_2_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], isolated: Path, served: ServerThread, disk_id: str, subcommand: str
) -> None:
    argv = [subcommand, disk_id, "--demo", "--endpoint", served.url]
    if subcommand == "detach":
        argv.append("--yes")
    code, out, err, requests = _run_cli(capsys, argv, served)
    assert code == 2, (argv, out, err)
    assert err.strip() and "Traceback" not in err + out
    assert requests == []  # refused before any request, reads included


@FAST
@given(
    argv=st.lists(
        st.sampled_from(
            [
                "--yes",
                "--json",
                "--read-only",
                "--no-wait",
                "--stop-instance",
                "--restart-instance",
                "--timeout",
                "0",
                "-5",
                "1e9",
                "nan",
                "--instance",
                "i-web-01",
                "d-web-01-data",
                "d-nope",
                "--region",
                "cn-nowhere",
                "--profile",
                "ghost",
                "--concurrency",
                "--operation",
                "--bogus",
            ]
        )
        | garbage,
        max_size=6,
    ),
    subcommand=st.sampled_from(["detach", "check", "disks", "instances", "attach", "journal"]),
)
def test_cli_never_shows_a_traceback_whatever_the_arguments(
    capsys: pytest.CaptureFixture[str],
    isolated: Path,
    served: ServerThread,
    argv: list[str],
    subcommand: str,
) -> None:
    full = [subcommand, *argv, "--demo", "--endpoint", served.url]
    code, out, err, requests = _run_cli(capsys, full, served)
    assert code in (0, 1, 2, 3, 4), (full, code)
    assert "Traceback" not in out + err and "unexpected error" not in err, (full, err)
    if code == 2:  # bad usage or input: said on stderr, and no change sent
        assert err.strip()
        assert not [r for r in requests if r["action"] in ("DetachDisk", "AttachDisk", "StopInstance")]
    if "--json" in full and code != 0 and out.strip():
        assert "error" in json.loads(out) or "exit_code" in json.loads(out) or json.loads(out)


def test_cli_refuses_bad_input_in_a_real_process_too(served: ServerThread, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"), "PATH": ""}
    for argv in (
        ["detach", "i-web-01", "--yes"],
        ["detach", "d-web 01", "--yes"],
        ["check", "--timeout", "x"],
        ["detach", "d-web-01-data", "--timeout", "-1"],
    ):
        served.emulator.reset()
        ran = subprocess.run(
            [sys.executable, "-m", "ecs_detach.cli", *argv, "--demo", "--endpoint", served.url],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert ran.returncode == 2, (argv, ran.stderr)
        assert "Traceback" not in ran.stderr and ran.stderr.strip()
        assert served.emulator.requests == []


@FAST
@given(fleet=st.composite(_demo_variant)() | json_values, raw=st.none() | st.binary(max_size=40))
def test_control_api_reset_refuses_a_bad_fleet_and_keeps_the_state(
    emu: Emulator, fleet: Any, raw: Any
) -> None:
    """``POST /_emulator/reset`` with garbage: 400 and a JSON error, or the new fleet; never a 500."""
    import httpx

    before = emu.state()
    with httpx.Client(transport=emu.transport(), base_url="http://emulator") as control:
        body = raw if raw is not None else json.dumps(fleet).encode()
        reply = control.post("/_emulator/reset", content=body, headers={"content-type": "application/json"})
        assert reply.status_code in (200, 400), reply.text
        if reply.status_code == 400:
            assert reply.json()["error"] and emu.state() == before
        else:
            emu.reset(before)  # it was a valid fleet after all: back to where the module's tests expect


@pytest.mark.parametrize("path", ["\x00", "fleet\x00.json", "/nonexistent/fleet.json", ".", "demo\n"])
def test_control_api_reset_with_a_bad_fleet_path_is_a_400(emu: Emulator, path: str) -> None:
    """Found by the fuzzing above: a NUL in a fleet path used to escape as ValueError (HTTP 500)."""
    import httpx

    with httpx.Client(transport=emu.transport(), base_url="http://emulator") as control:
        reply = control.post("/_emulator/reset", json={"fleet": path})
    assert reply.status_code == 400 and "cannot load that fleet" in reply.json()["error"]
    with pytest.raises(FleetError):
        Emulator(fleet=path, clock=ManualClock())
