"""Log redaction masks credential values, never the words around them (issue 6: a failed login
read ``POST /restapi/oauth/token: ***: All connection attempts failed``)."""

from __future__ import annotations

import base64
import io
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from rcinbox import logs
from rcinbox.logs import redact

ACCESS = "U0pDMTFQMDFQQVMwMHxBQUJ2ZnlhX3pPbWdQZ2JrcHVfWkZ5"
JWT = (
    "eyJraWQiOiI4NzYyZjU5OGQwNTk0NGRiODZiZjVjYTk3ODA0NzYwOCIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3.sig-9x_Q"
)
BASIC = base64.b64encode(b"rcinbox-demo-client-id:rcinbox-demo-client-secret").decode()


@pytest.mark.parametrize(
    "text",
    [
        "POST /restapi/oauth/token: ConnectError: All connection attempts failed; retrying (attempt 2)",
        "POST /restapi/oauth/token: ConnectTimeout: timed out",
        "GET /restapi/v1.0/account/~/extension/~: ReadError: [Errno 104] Connection reset by peer",
        "refresh refused (OAU-213); logging in again with the JWT",
        "HTTP 400 OAU-213: Token not found (POST /restapi/oauth/token)",
        "token: Token not found",
        "Basic authentication failed",
        "reusing the saved OAuth session of ext 62264425016",
        "message-sync with syncToken=ABCDEF123 refused",
    ],
)
def test_error_names_and_plain_words_stay_readable(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            f"wss://ws.example/ws?access_token={ACCESS}&wsc=abc.def",
            "wss://ws.example/ws?access_token=***&wsc=***",
        ),
        (f"grant_type=jwt&assertion={JWT}", "grant_type=jwt&assertion=***"),
        (f"refresh_token={ACCESS}; x", "refresh_token=***; x"),
        (f"Authorization: Bearer {ACCESS}", "Authorization: Bearer ***"),
        (f"authorization: Basic {BASIC}", "authorization: Basic ***"),
        (f"Verification-Token: {ACCESS}", "Verification-Token: ***"),
        (
            f'{{"access_token": "{ACCESS}", "token_type": "bearer"}}',
            '{"access_token": "***", "token_type": "bearer"}',
        ),
        (f"{{'client_secret': 'hunter2-{ACCESS}'}}", "{'client_secret': '***'}"),
        (f"refused: {JWT} is not valid", "refused: *** is not valid"),
        ("postgresql+asyncpg://rc:pa55-w0rd@db/rc", "postgresql+asyncpg://rc:***@db/rc"),
    ],
)
def test_credential_values_are_masked_and_their_names_kept(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_reaches_a_formatted_log_line(fmt: str) -> None:
    """Every line rcinbox writes goes through the formatter: a secret quoted by an error, an
    exception's text or a URL is masked, and the error around it stays readable (in JSON too,
    where the redaction is per string, and the line stays one JSON object)."""
    out = io.StringIO()
    root = logging.getLogger("rcinbox")
    saved = (root.handlers[:], root.level, root.propagate)
    logs.setup("DEBUG", out, fmt=fmt)
    log = logging.getLogger("rcinbox.test")
    try:
        log.warning("POST /restapi/oauth/token: ConnectError: All connection attempts failed")
        log.info("connecting to wss://ws.example/ws?access_token=%s&wsc=%s", ACCESS, JWT)
        log.error("refused %s", {"assertion": JWT, "client_secret": "rcinbox-demo-client-secret"})
        log.debug("headers: Authorization: Basic %s", BASIC)
        try:
            raise ValueError(f"bad token response refresh_token={ACCESS}")
        except ValueError:
            log.exception("session refresh failed")
    finally:
        root.handlers[:], root.propagate = saved[0], saved[2]
        root.setLevel(saved[1])
    text = out.getvalue()
    if fmt == "json":
        entries = [json.loads(line) for line in text.splitlines()]
        assert len(entries) == 5
        text = "\n".join(e["message"] + "\n" + e.get("exception", "") for e in entries)
    assert "ConnectError: All connection attempts failed" in text
    assert "ValueError: bad token response refresh_token=***" in text
    assert [s for s in (ACCESS, JWT, BASIC, "rcinbox-demo-client-secret") if s in text] == []


def json_lines(*calls: tuple[int, str, dict[str, object]]) -> list[dict[str, object]]:
    out = io.StringIO()
    root = logging.getLogger("rcinbox")
    saved = (root.handlers[:], root.level, root.propagate)
    logs.setup("DEBUG", out, fmt="json")
    try:
        for level, message, extra in calls:
            logging.getLogger("rcinbox.pipeline").log(level, message, extra=extra)
    finally:
        root.handlers[:], root.propagate = saved[0], saved[2]
        root.setLevel(saved[1])
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_json_line_has_the_time_in_utc_the_level_the_logger_the_message_and_the_extras() -> None:
    [entry] = json_lines(
        (logging.INFO, "message 7 from +14155550100: reply (replied)", {"action": "message.decided", "n": 3})
    )
    assert entry == {
        "time": entry["time"],
        "level": "INFO",
        "logger": "rcinbox.pipeline",
        "message": "message 7 from +14155550100: reply (replied)",
        "action": "message.decided",
        "n": 3,
    }
    moment = datetime.fromisoformat(str(entry["time"]))
    assert str(entry["time"]).endswith("Z") and moment.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60


def test_json_extras_are_redacted_and_a_secret_named_extra_is_masked_whole() -> None:
    url = "postgresql+asyncpg://rc:pa55-w0rd@db/rc"
    [entry] = json_lines(
        (
            logging.WARNING,
            f"connect to {url}",
            {"url": f'{url}","x":"a@b', "token": "short", "headers": f"Authorization: Bearer {ACCESS}"},
        )
    )
    assert entry["message"] == "connect to postgresql+asyncpg://rc:***@db/rc"
    assert entry["token"] == "***"
    assert entry["headers"] == "Authorization: Bearer ***"
    assert "pa55-w0rd" not in json.dumps(entry) and ACCESS not in json.dumps(entry)
