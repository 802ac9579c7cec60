"""``rcinbox messages`` as a first-time user reads it (issue 6): the sender's name in a column of
its own, never glued to the text; names and reasons never split mid-word at 80 or 120 columns;
dates with the year and the time zone; ``--json`` with every attachment and the reply as sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from messages_cli_kit import EXT, envelope, fill, messages

from rcinbox.events import InboundMessage
from rcinbox.store import AttachmentRecord, DecisionRecord, Store

LONG_NAME = "Christopher Richardson-Whitfield"
LONG_REASON = "no-sender-credential"


async def long_ones(database: Path) -> None:
    """The three messages of :func:`fill`, then one from a long name, decided with a long reason."""
    await fill(database)
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        at = "2026-11-20T15:20:00.000Z"
        note = envelope("1004", "+14155550102", LONG_NAME, "Running late, start without me", at)
        assert await store.accept(InboundMessage.from_notification(note, "webhook"))
        row = await store.find_message(EXT, "1004")
        assert row is not None
        assert await store.conclude(row.pk, DecisionRecord("suppress", LONG_REASON, "vacation", {}))


def archive_with_long_ones(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    asyncio.run(long_ones(data_dir / "rcinbox.db"))


def rows(output: str) -> list[list[str]]:
    """The table's body lines, split into cells."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def words_of(output: str) -> set[str]:
    return {word for line in rows(output) for cell in line for word in cell.split()}


def test_at_120_columns_the_name_has_its_own_column_and_nothing_is_split(tmp_path: Path) -> None:
    archive_with_long_ones(tmp_path / "data")
    result = messages("--data-dir", str(tmp_path / "data"), env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 120
    header = [line for line in lines if line.startswith("┃")][-1]
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == ["ext", "to", "name", "text", "reply"]
    body = rows(result.output)
    names = " ".join(cells[2] for cells in body if cells[2])
    assert names == f"{LONG_NAME} Dana Lopez Charlie Williams"
    texts = " ".join(cells[3] for cells in body)
    assert not any(name in texts for name in ("Richardson", "Dana", "Charlie", "Williams"))
    assert {"Richardson-Whitfield", LONG_REASON, "not-a-contact"} <= words_of(result.output)


def test_at_80_columns_no_name_or_reason_is_split_and_the_name_stays_out_of_the_text(tmp_path: Path) -> None:
    archive_with_long_ones(tmp_path / "data")
    result = messages("--data-dir", str(tmp_path / "data"), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert {"Christopher", "Richardson-Whitfield", LONG_REASON, "not-a-contact"} <= words_of(result.output)
    body = rows(result.output)
    texts = " ".join(cells[-2] for cells in body)
    assert "Running late, start without me" in " ".join(texts.split())
    assert not any(name in texts for name in ("Richardson", "Christopher", "Dana", "Charlie"))
    # Too narrow for a name column beside these long words: the name has its own line under the number.
    senders = [cells[1] for cells in body]
    at = senders.index("+14155550102")
    assert senders[at + 1 : at + 3] == ["Christopher", "Richardson-Whitfield"]


def test_at_80_columns_usual_names_keep_their_own_column(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    asyncio.run(fill(tmp_path / "data" / "rcinbox.db"))
    result = messages("--data-dir", str(tmp_path / "data"), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    body = rows(result.output)
    assert all(len(cells) == 5 for cells in body)
    names = [cells[2] for cells in body if cells[2]]
    assert " ".join(names) == "Dana Lopez Charlie Williams"
    assert {"not-a-contact"} <= words_of(result.output)


@pytest.mark.parametrize(
    ("option", "env", "shown"),
    [
        (["--timezone", "America/New_York"], {}, ("2026-11-20", "10:00 EST")),
        ([], {"RCINBOX_RULES": "berlin"}, ("2026-11-20", "16:00 CET")),
        (["--timezone", "Asia/Tokyo"], {"RCINBOX_RULES": "berlin"}, ("2026-11-21", "00:00 JST")),
    ],
    ids=["--timezone", "the rules' zone", "--timezone over the rules"],
)
def test_dates_carry_the_year_and_the_zone(
    tmp_path: Path, option: list[str], env: dict[str, str], shown: tuple[str, str]
) -> None:
    (tmp_path / "data").mkdir()
    asyncio.run(fill(tmp_path / "data" / "rcinbox.db"))
    rules = tmp_path / "rules.toml"
    rules.write_text('[vacation]\ntimezone = "Europe/Berlin"\n', encoding="utf-8")
    env = {key: str(rules) if value == "berlin" else value for key, value in env.items()}
    result = messages("--data-dir", str(tmp_path / "data"), *option, env={"COLUMNS": "120", **env})
    assert result.exit_code == 0, result.output
    charlie = next(cells for cells in rows(result.output) if cells[1] == "+14155550100")
    at = rows(result.output).index(charlie)
    assert (charlie[0], rows(result.output)[at + 1][0]) == shown  # 15:00 UTC


def test_an_unknown_time_zone_is_one_line(tmp_path: Path) -> None:
    result = messages("--timezone", "Mars/Olympus_Mons")
    assert (result.exit_code, result.output) == (
        2,
        "error: --timezone must be an IANA time zone like America/New_York, got 'Mars/Olympus_Mons'\n",
    )


async def with_files_and_a_sent_reply(database: Path) -> None:
    """Charlie's message gets a refused attachment, one still downloading (its last attempt
    failed) and one given up on, and its reply is sent."""
    await fill(database)
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        charlie = await store.find_message(EXT, "1001")
        assert charlie is not None
        await store.record_attachment(
            AttachmentRecord(charlie.pk, "78", "video/mp4", "http://emu/78", "refused", reason="too-large")
        )
        error = "ServerError: HTTP 503 CMN-211: unavailable"
        await store.record_attachment(
            AttachmentRecord(charlie.pk, "79", "image/gif", "http://emu/79", "pending", last_error=error)
        )
        gave_up = f"gave up after 8 attempts: {error}"
        await store.record_attachment(
            AttachmentRecord(
                charlie.pk, "80", "image/gif", "http://emu/80", "failed", reason=gave_up, last_error=gave_up
            )
        )
        [reply] = await store.outbox.due()
        assert await store.outbox.claim(reply.id) is not None
        await store.outbox.mark_sent(reply.id, "9001")


def test_json_lists_each_attachment_and_the_reply_as_sent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    asyncio.run(with_files_and_a_sent_reply(data / "rcinbox.db"))
    result = messages("--json", "--data-dir", str(data))
    assert result.exit_code == 0, result.output
    charlie = next(entry for entry in json.loads(result.output) if entry["messageId"] == "1001")
    assert charlie["attachments"] == [
        {
            "id": "77",
            "state": "stored",
            "path": str((data / "a" / "b.png").absolute()),
            "storage": "files",
            "contentType": "image/png",
            "size": 70,
            "sha256": "ab" * 32,
            "reason": None,
            "lastError": None,
        },
        {
            "id": "78",
            "state": "refused",
            "path": None,
            "storage": None,
            "contentType": "video/mp4",
            "size": None,
            "sha256": None,
            "reason": "too-large",
            "lastError": None,
        },
        {
            "id": "79",
            "state": "pending",
            "path": None,
            "storage": None,
            "contentType": "image/gif",
            "size": None,
            "sha256": None,
            "reason": None,
            "lastError": "ServerError: HTTP 503 CMN-211: unavailable",
        },
        {
            "id": "80",
            "state": "failed",
            "path": None,
            "storage": None,
            "contentType": "image/gif",
            "size": None,
            "sha256": None,
            "reason": "gave up after 8 attempts: ServerError: HTTP 503 CMN-211: unavailable",
            "lastError": "gave up after 8 attempts: ServerError: HTTP 503 CMN-211: unavailable",
        },
    ]
    table = messages("--data-dir", str(data), env={"COLUMNS": "200"})
    assert "(+1 attachment, 1 downloading, 1 refused, 1 failed)" in table.output
    assert (charlie["replyState"], charlie["replyText"]) == ("sent", "Auto-reply: Hi Charlie, I'm away.")
    others = [entry["replyText"] for entry in json.loads(result.output) if entry["messageId"] != "1001"]
    assert others == [None, None]  # no reply


async def with_markup(database: Path) -> None:
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        note = envelope(
            "2001",
            "+14155550103",
            "[bold]Eve[/bold]",
            "see [/red] and [link=http://x]this[/link]",
            "2026-11-20T15:00:00.000Z",
        )
        assert await store.accept(InboundMessage.from_notification(note, "webhook"))


def test_text_and_names_are_shown_as_sent_never_read_as_markup(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    asyncio.run(with_markup(tmp_path / "data" / "rcinbox.db"))
    result = messages("--data-dir", str(tmp_path / "data"), env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    [first, *_] = rows(result.output)
    assert first[2:4] == ["[bold]Eve[/bold]", "see [/red] and [link=http://x]this[/link]"]
