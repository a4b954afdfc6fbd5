"""Text a server echoes, and an endpoint's password, never reach an error, a log or the journal."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from ecs_detach import commands
from ecs_detach.client import EcsClient
from ecs_detach.credentials import Credentials
from ecs_detach.emulator import Emulator, ManualClock
from ecs_detach.errors import ApiError, TransportError
from ecs_detach.signing import v1_string_to_sign

PASSWORD = "Attach-Pa55word!+/="
TOKEN = "CAIS+sts/token==Secret4242"
SECRET = "the-real-secret-value-1"
STS = Credentials("LTAI5tScrubTestKey0001", SECRET, security_token=TOKEN)


def echoing_string_to_sign(request: httpx.Request) -> httpx.Response:
    """As ECS answers a V1 request whose signature does not match: its own string-to-sign, echoed."""
    pairs = [
        (k, v) for k, v in parse_qsl(request.url.query.decode(), keep_blank_values=True) if k != "Signature"
    ]
    echoed = v1_string_to_sign(request.method, pairs)
    body = {
        "Code": "IncompleteSignature",
        "Message": "The request signature does not conform to Aliyun standards. "
        f"server string to sign is:{echoed}",
        "Recommend": f"https://api.aliyun.com/troubleshoot?q=IncompleteSignature&s={echoed}",
        "RequestId": "R-sig",
    }
    return httpx.Response(400, content=json.dumps(body).encode())


def _leaks(text: str) -> list[str]:
    from urllib.parse import quote

    forms = []
    for secret in (PASSWORD, TOKEN, SECRET):
        once = quote(secret, safe="-_.~")
        forms += [secret, once, quote(once, safe="-_.~")]
    return [form for form in forms if form in text]


def test_an_echoed_v1_string_to_sign_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ecs_detach")
    client = EcsClient(
        STS, "cn-hangzhou", transport=httpx.MockTransport(echoing_string_to_sign), signature="v1"
    )
    with pytest.raises(ApiError) as caught:
        client.attach_disk("d-1", "i-1", password=PASSWORD)
    error = caught.value
    assert error.code == "IncompleteSignature" and "server string to sign is" in str(error)
    for text in (str(error), error.api_message, error.recommend, error.remedy, repr(error), caplog.text):
        assert _leaks(text) == [], text


def test_an_endpoint_password_is_masked_in_what_the_client_shows() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    client = EcsClient(
        STS,
        "cn-hangzhou",
        endpoint="http://ops:hunter2-pw@127.0.0.1:9",
        transport=httpx.MockTransport(refused),
    )
    assert client.endpoint == "http://ops:****@127.0.0.1:9" and "hunter2-pw" not in repr(client)
    with pytest.raises(TransportError) as caught:
        client.list_disks()
    assert "hunter2-pw" not in str(caught.value) and "hunter2-pw" not in caught.value.endpoint


def test_an_endpoint_password_is_never_printed_nor_journaled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    emulator = Emulator(fleet="demo", clock=ManualClock())
    server = emulator.serve_in_thread()
    try:
        endpoint = server.url.replace("http://", "http://ops:hunter2-pw@")
        journal = tmp_path / "journal.jsonl"
        argv = ["detach", "d-web-02-data", "--demo", "--yes", "--no-wait", "--endpoint", endpoint]
        code = commands.main([*argv, "--journal", str(journal)])
    finally:
        server.stop()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "hunter2-pw" not in captured.out + captured.err
    assert "ops:****@" in captured.out + captured.err
    # the undo it names repeats the endpoint, password masked, and says to put it back
    (undo,) = [line for line in captured.out.splitlines() if line.startswith("Undo:")]
    assert "--endpoint 'http://ops:****@" in undo
    assert "the endpoint's password is shown as ****: put it back to run the undo" in captured.out
    assert "hunter2-pw" not in journal.read_text() and "ops:****@" in journal.read_text()
