"""MMS end to end: each attachment archived under a name rcinbox chose, byte for byte what was
sent (size and SHA-256 recorded), and the sender answered as for any text."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import timedelta
from pathlib import Path

from e2e_kit import ALEX, ALEX_EXT, CHARLIE, DANA, Harness, cli_messages, replies, reply_for
from store_kit import on_both_backends

from rcinbox.service.attachments import DEFAULT_MAX_BYTES

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(200_000) + b"\xff\xd9"
DIAGRAM = b"\x89PNG\r\n\x1a\n" + os.urandom(50_000)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


async def test_mms_attachments_are_archived_byte_for_byte_and_the_sender_answered(e2e: Harness) -> None:
    attachments = [
        ("image/jpeg", PHOTO, "../../../../etc/cron.d/photo.jpg"),  # the payload's name is never used
        ("image/png", DIAGRAM, "diagram.png"),
    ]
    async with e2e.running() as live:
        sent = await live.text("Photos from the site visit", sender=CHARLIE, attachments=attachments)
        outcome = await live.outcome(sent)
        records = await live.attachments(sent)
        [entry] = await live.store.recent()
    assert (outcome.reason, entry.attachments, entry.text) == ("replied", 2, "Photos from the site visit")
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    stored = sorted(records.values(), key=lambda r: r.content_type)
    assert [(r.state, r.content_type, r.size) for r in stored] == [
        ("stored", "image/jpeg", len(PHOTO)),
        ("stored", "image/png", len(DIAGRAM)),
    ]
    assert [r.sha256 for r in stored] == [
        hashlib.sha256(PHOTO).hexdigest(),
        hashlib.sha256(DIAGRAM).hexdigest(),
    ]
    folder = e2e.data_dir / "attachments" / ALEX_EXT / sent.message_id
    paths = [e2e.data_dir / str(r.path) for r in stored]
    assert [p.read_bytes() for p in paths] == [PHOTO, DIAGRAM]
    assert [(p.parent, p.suffix) for p in paths] == [(folder, ".jpg"), (folder, ".png")]
    assert files_under(e2e.data_dir / "attachments") == set(paths)  # nothing else, no partial file
    assert [p for p in files_under(e2e.tmp) if p.name in ("photo.jpg", "diagram.png")] == []


@on_both_backends
async def test_with_database_storage_the_bytes_are_in_the_archive_and_no_file_is_written(
    e2e: Harness,
) -> None:
    """RCINBOX_ATTACHMENT_STORAGE=database (PostgreSQL's default; chosen here on SQLite too): the
    same picture twice is one body; ``rcinbox messages`` says where each is."""
    attachments = [("image/png", DIAGRAM, "d.png"), ("image/jpeg", PHOTO, "p.jpg")]
    async with e2e.running(RCINBOX_ATTACHMENT_STORAGE="database") as live:
        sent = await live.text("Both again", sender=CHARLIE, attachments=attachments)
        again = await live.text("The diagram", sender=DANA, attachments=attachments[:1])
        await live.outcome(sent)
        await live.outcome(again)
        records = [*(await live.attachments(sent)).values(), *(await live.attachments(again)).values()]
        bodies = [await live.store.bodies.get(r.sha256 or "") for r in records]
        distinct = await live.store.bodies.count()
    assert [(r.state, r.storage, r.path) for r in records] == [("stored", "database", None)] * 3
    assert bodies == [DIAGRAM, PHOTO, DIAGRAM] and distinct == 2
    assert [r.sha256 for r in records] == [hashlib.sha256(b).hexdigest() for b in (DIAGRAM, PHOTO, DIAGRAM)]
    assert not (e2e.data_dir / "attachments").exists()
    entries = await asyncio.to_thread(cli_messages, e2e.data_dir, 50, e2e.database_url)
    shown = [(a["storage"], a["path"], a["sha256"]) for e in entries for a in e["attachments"]]
    assert sorted(shown) == sorted(("database", None, r.sha256) for r in records)


async def test_messages_json_points_at_each_archived_file_and_shows_the_reply_sent(e2e: Harness) -> None:
    async with e2e.running() as live:
        sent = await live.text("The diagram", sender=CHARLIE, attachments=[("image/png", DIAGRAM, "d.png")])
        outcome = await live.outcome(sent)
        await live.attachments(sent)  # downloaded after the decision
    assert outcome.reason == "replied"
    [entry] = await asyncio.to_thread(cli_messages, e2e.data_dir, 50, e2e.database_url)
    [diagram] = entry["attachments"]
    path = Path(diagram["path"])
    assert path.is_absolute() and await asyncio.to_thread(path.read_bytes) == DIAGRAM
    assert (diagram["state"], diagram["contentType"], diagram["size"], diagram["sha256"]) == (
        "stored",
        "image/png",
        len(DIAGRAM),
        hashlib.sha256(DIAGRAM).hexdigest(),
    )
    assert (entry["replyState"], entry["replyText"]) == ("sent", reply_for("Charlie"))


async def test_a_picture_without_text_is_archived_and_answered(e2e: Harness) -> None:
    async with e2e.running() as live:
        sent = await live.text("", sender=DANA, attachments=[("image/jpeg", PHOTO, None)])
        outcome = await live.outcome(sent)
        [record] = (await live.attachments(sent)).values()
    assert outcome.reason == "replied"
    assert await replies(e2e.http, DANA) == [(ALEX, reply_for("Dana"))]
    assert record.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert (e2e.data_dir / str(record.path)).read_bytes() == PHOTO


async def test_a_content_type_off_the_allowlist_is_kept_as_bin_never_under_its_name(e2e: Harness) -> None:
    program = b"MZ\x90\x00" + os.urandom(5_000)
    page = b"<html><script>alert(1)</script></html>"
    attachments = [("application/x-msdownload", program, "setup.exe"), ("text/html", page, "invoice.html")]
    async with e2e.running() as live:
        sent = await live.text("See attached", sender=CHARLIE, attachments=attachments)
        outcome = await live.outcome(sent)
        records = sorted((await live.attachments(sent)).values(), key=lambda r: r.content_type)
    assert outcome.reason == "replied"
    assert [(r.state, r.content_type, r.size, r.sha256) for r in records] == [
        ("stored", "application/x-msdownload", len(program), hashlib.sha256(program).hexdigest()),
        ("stored", "text/html", len(page), hashlib.sha256(page).hexdigest()),
    ]
    paths = [e2e.data_dir / str(r.path) for r in records]
    assert [p.suffix for p in paths] == [".bin", ".bin"]
    assert [p.read_bytes() for p in paths] == [program, page]
    assert [p for p in files_under(e2e.tmp) if p.suffix in (".exe", ".html")] == []


async def test_an_attachment_over_the_10_mb_cap_is_refused_and_the_rest_archived(e2e: Harness) -> None:
    huge = b"\xff\xd8\xff\xe0" + bytes(DEFAULT_MAX_BYTES - 3)  # one byte over the cap
    attachments = [("image/jpeg", huge, "huge.jpg"), ("image/png", DIAGRAM, "diagram.png")]
    async with e2e.running() as live:
        sent = await live.text("Scans attached", sender=CHARLIE, attachments=attachments)
        outcome = await live.outcome(sent)
        records = sorted((await live.attachments(sent)).values(), key=lambda r: r.content_type)
    assert outcome.reason == "replied"
    [refused, stored] = records
    assert (refused.state, refused.path, refused.sha256) == ("refused", None, None)
    assert refused.reason is not None and refused.reason.startswith("too-large")
    assert (stored.state, stored.sha256) == ("stored", hashlib.sha256(DIAGRAM).hexdigest())
    assert files_under(e2e.data_dir / "attachments") == {e2e.data_dir / str(stored.path)}  # no partial file


async def test_an_mms_is_answered_before_its_attachment_is_in(e2e: Harness) -> None:
    """The decision never waits for a download: with the attachment's first download refused
    (403), the sender is answered at once and ``rcinbox messages`` shows the file downloading; the
    download is retried after its backoff and the bytes end up stored with their checksum."""
    await e2e.faults({"http": [{"method": "GET", "path": "^.*/content/", "status": 403, "count": 1}]})
    async with e2e.running() as live:
        sent = await live.text(
            "Photo of the damage", sender=CHARLIE, attachments=[("image/png", DIAGRAM, None)]
        )
        outcome = await live.outcome(sent)
        pk = (await live.stored(sent)).pk

        async def refused_once() -> bool:
            return any(r.last_error for r in (await live.service.store.attachments(pk)).values())

        await live.service.pipeline.downloads.changes.until(refused_once, 10)
        [waiting] = (await live.service.store.attachments(pk)).values()
        [entry] = await asyncio.to_thread(cli_messages, e2e.data_dir, 50, e2e.database_url)
        e2e.clock.advance(timedelta(minutes=5))  # past the download's backoff
        live.service.pipeline.downloads.wake()
        [record] = (await live.attachments(sent)).values()
    assert outcome.reason == "replied"
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    assert (waiting.state, waiting.path) == ("pending", None)
    assert waiting.last_error is not None and waiting.last_error.startswith("Forbidden")
    assert [(a["state"], a["sha256"]) for a in entry["attachments"]] == [("pending", None)]
    assert (record.state, record.sha256) == ("stored", hashlib.sha256(DIAGRAM).hexdigest())
    assert (e2e.data_dir / str(record.path)).read_bytes() == DIAGRAM
