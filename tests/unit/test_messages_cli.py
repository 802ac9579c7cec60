"""``rcinbox messages``: the archive newest first with decisions, as a table and as JSON; it needs
no RingCentral credentials; a missing archive is a clear error."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from messages_cli_kit import ALEX, EXT, archive, messages, stored_in_database

UNCLASSIFIED = {"intent": None, "confidence": None, "backend": None, "replyKind": None}


def test_table_lists_newest_first_with_decisions(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    result = messages("--data-dir", str(tmp_path / "data"), "--env-file", os.devnull)

    assert result.exit_code == 0, result.output
    out = result.output
    assert "rcinbox archive: 3 latest messages, newest first" in out
    assert out.index("Call me back") < out.index("Is this the bakery?") < out.index("Lunch on Thursday?")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "Lunch on Thursday?" in line)
    charlie = lines[at]
    assert "reply: replied" in charlie and "queued" in lines[at + 1] and "+14155550100" in charlie
    assert "(+1 attachment)" in lines[at + 1]  # one stored attachment, under the text
    at = next(i for i, line in enumerate(lines) if "Is this the bakery?" in line)
    assert "suppress: not-a-contact" in lines[at]
    dana = next(line for line in out.splitlines() if "Call me back" in line)
    assert "received" in dana  # not decided yet
    assert "Charlie Williams" in out


def test_json_is_machine_readable(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    result = messages("--json", "--limit", "2", env={"RCINBOX_DATA_DIR": str(tmp_path / "data")})

    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert [e["messageId"] for e in entries] == ["1003", "1002"]
    dana, stranger = entries
    assert dana == {
        "id": 3,
        "messageId": "1003",
        "extensionId": EXT,
        "createdAt": "2026-11-20T15:10:00+00:00",
        "from": "+14155550101",
        "fromName": "Dana Lopez",
        "to": ALEX,
        "text": "Call me back",
        "attachments": [],
        "state": "received",
        "decision": None,
        "replyState": None,
        "replyError": None,
        "replyText": None,
        "escalation": None,
        "lastError": None,
    }
    assert stranger["decision"] == {"action": "suppress", "reason": "not-a-contact"} | UNCLASSIFIED
    assert stranger["state"] == "done"


def test_json_shows_the_attachments_and_reply_state(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'rcinbox.db'}"
    result = messages("--json", "--database-url", url, env={"RCINBOX_DATA_DIR": str(tmp_path / "files")})

    assert result.exit_code == 0, result.output
    charlie = json.loads(result.output)[-1]
    assert (charlie["replyState"], charlie["replyText"], charlie["decision"]) == (
        "queued",
        None,  # not sent (yet)
        {"action": "reply", "reason": "replied"} | UNCLASSIFIED,
    )
    [photo] = charlie["attachments"]  # the path is under the data directory, made absolute
    assert photo["path"] == str((tmp_path / "files" / "a" / "b.png").absolute())
    assert photo["storage"] == "files"


def test_an_attachment_stored_in_the_database_has_no_path(tmp_path: Path) -> None:
    """RCINBOX_ATTACHMENT_STORAGE=database: no file to point at; the bytes are in the database
    under the sha256 (and the table counts it as stored, as any other)."""
    archive(tmp_path / "data")
    asyncio.run(stored_in_database(tmp_path / "data" / "rcinbox.db", "1002"))
    result = messages("--json", env={"RCINBOX_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    [picture] = next(e for e in json.loads(result.output) if e["messageId"] == "1002")["attachments"]
    assert (picture["state"], picture["path"], picture["storage"]) == ("stored", None, "database")
    assert picture["sha256"] == "cd" * 32
    table = messages("--data-dir", str(tmp_path / "data"), "--env-file", os.devnull)
    assert table.output.count("(+1 attachment)") == 2, table.output


def test_a_missing_archive_is_an_error(tmp_path: Path) -> None:
    result = messages("--data-dir", str(tmp_path / "nothing-here"))
    assert result.exit_code == 1
    assert f"error: no archive at {tmp_path / 'nothing-here' / 'rcinbox.db'} yet" in result.output
    assert not (tmp_path / "nothing-here").exists()  # reading never creates the database


def test_a_bad_setting_is_refused_with_its_name(tmp_path: Path) -> None:
    result = messages(env={"RCINBOX_DATABASE_URL": "not a url"})
    assert result.exit_code == 2
    assert "RCINBOX_DATABASE_URL must be an SQLAlchemy URL" in result.output
