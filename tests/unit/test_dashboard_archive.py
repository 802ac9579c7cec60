"""The dashboard's pages of the archive (dashboard/archive.py) on a real store: the conversations,
a thread with its decisions in words and its files (only those the archive records), the search
and the opt-outs with their lift (a reason required, CSRF checked)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dashboard_site_kit import Site
from pipeline_fakes import CHARLIE, EXT
from starlette.applications import Starlette
from starlette.testclient import TestClient
from store_kit import db_url
from views_kit import (
    DANA,
    EXT2,
    START,
    decide,
    escalated,
    opened,
    replied,
    send,
    stored_file,
    suppressed,
    text_in,
)

from rcinbox.clock import FakeClock
from rcinbox.dashboard.archive import ArchivePages
from rcinbox.store import AttachmentRecord, DecisionRecord, Store

NY = ZoneInfo("America/New_York")


class Archive:
    def __init__(self, tmp_path: Path, store: Store) -> None:
        self.site = Site(extensions=(EXT, EXT2))
        self.store = store
        self.data_dir = tmp_path / "data"
        pages = ArchivePages(self.site.dashboard, store, self.data_dir, lambda: NY)
        routes = [*self.site.dashboard.routes(), *pages.routes()]
        self.site.client = TestClient(Starlette(routes=routes), follow_redirects=False)
        self.client = self.site.client


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    import asyncio

    loop = asyncio.new_event_loop()
    cm = opened(db_url(tmp_path), FakeClock(START))
    store = loop.run_until_complete(cm.__aenter__())
    archive = Archive(tmp_path, store)
    archive.run = loop.run_until_complete  # type: ignore[attr-defined]
    yield archive
    loop.run_until_complete(cm.__aexit__(None, None, None))
    loop.close()


def run(archive: Archive, coroutine: object) -> object:
    return archive.run(coroutine)  # type: ignore[attr-defined]


def test_the_pages_are_closed_until_signed_in(archive: Archive) -> None:
    for path in ("/conversations", f"/conversations/{CHARLIE}", "/search?q=x", "/opt-outs"):
        answer = archive.client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next="), path
    assert archive.client.get("/attachments/1/a").status_code == 401


def test_conversations_list_each_counterpart_with_name_last_text_and_opt_out(archive: Archive) -> None:
    pk = run(archive, text_in(archive.store, "Is the shop open?", name="Charlie B"))
    run(archive, decide(archive.store, pk, replied(contact="Charlie", last="Brown")))  # type: ignore[arg-type]
    run(archive, text_in(archive.store, "<b>stop</b> please", sender=DANA))
    archive.site.sign_in()
    page = archive.client.get("/conversations")
    assert page.status_code == 200
    assert "Charlie Brown" in page.text and CHARLIE in page.text and "Is the shop open?" in page.text
    assert "&lt;b&gt;stop&lt;/b&gt; please" in page.text and "<b>stop</b>" not in page.text
    assert f'href="/conversations/%2B{CHARLIE[1:]}"' in page.text
    fragment = archive.client.get("/conversations?fragment=1")
    assert "Charlie Brown" in fragment.text and "<html" not in fragment.text


def test_a_thread_marks_texts_replies_and_says_each_decision(archive: Archive) -> None:
    pk = run(archive, text_in(archive.store, "Are you open?"))
    run(archive, decide(archive.store, pk, replied()))  # type: ignore[arg-type]
    run(archive, send(archive.store, pk))  # type: ignore[arg-type]
    other = run(archive, text_in(archive.store, "Again?", at=START))
    run(archive, decide(archive.store, other, suppressed("not-a-contact")))  # type: ignore[arg-type]
    urgent = run(archive, text_in(archive.store, "Urgent: the pipe burst", at=START))
    run(archive, decide(archive.store, urgent, escalated()))  # type: ignore[arg-type]
    archive.site.sign_in()
    page = archive.client.get(f"/conversations/{CHARLIE}")
    assert "Are you open?" in page.text and "Auto-reply" in page.text and "Away until Monday" in page.text
    assert "replied with the vacation message" in page.text
    assert "not in your contacts (replies go to contacts only)" in page.text
    assert "Escalation to +16505550199" in page.text and "Charlie texted: urgent" in page.text


def test_a_recorded_image_is_served_inline_and_a_file_as_a_download(archive: Archive) -> None:
    pk = run(archive, text_in(archive.store, "photo"))
    run(archive, stored_file(archive.store, pk, "img1"))  # type: ignore[arg-type]
    run(archive, stored_file(archive.store, pk, "doc1", "application/pdf"))  # type: ignore[arg-type]
    (archive.data_dir / "attachments").mkdir(parents=True)
    (archive.data_dir / "attachments" / "img1.jpg").write_bytes(b"\xff\xd8\xff")
    (archive.data_dir / "attachments" / "doc1.jpg").write_bytes(b"%PDF")
    (archive.data_dir / "secret.txt").write_text("no")
    archive.site.sign_in()
    page = archive.client.get(f"/conversations/{CHARLIE}")
    assert f'<img class="attachment-image" src="/attachments/{pk}/img1"' in page.text
    assert f'href="/attachments/{pk}/doc1" download' in page.text
    image = archive.client.get(f"/attachments/{pk}/img1")
    assert image.status_code == 200 and image.content == b"\xff\xd8\xff"
    assert (
        image.headers["content-type"] == "image/jpeg" and image.headers["x-content-type-options"] == "nosniff"
    )
    doc = archive.client.get(f"/attachments/{pk}/doc1")
    assert doc.headers["content-disposition"].startswith("attachment") and doc.content == b"%PDF"
    assert archive.client.get(f"/attachments/{pk}/..%2Fsecret.txt").status_code == 404
    assert archive.client.get(f"/attachments/{pk + 1}/img1").status_code == 404


def test_an_attachment_stored_in_the_database_is_served_with_the_same_headers(archive: Archive) -> None:
    """RCINBOX_ATTACHMENT_STORAGE=database: no file anywhere, the bytes come from attachment_bodies
    (any replica serves them), with a file's headers; a body that is not there is a 404."""
    picture, pdf = b"\xff\xd8\xff-picture", b"%PDF-1.7 document"
    pk = run(archive, text_in(archive.store, "photo"))
    for attachment_id, content_type, body in (
        ("img1", "image/jpeg", picture),
        ("doc1", "application/pdf", pdf),
    ):
        digest = hashlib.sha256(body).hexdigest()
        assert run(archive, archive.store.bodies.put(digest, body))
        record = AttachmentRecord(
            pk, attachment_id, content_type, "https://media.ringcentral.com/x", "stored"
        )
        stored = dataclasses.replace(record, size=len(body), sha256=digest)
        assert run(archive, archive.store.record_attachment(stored))
    lost = AttachmentRecord(
        pk, "lost", "image/png", "https://media.ringcentral.com/y", "stored", sha256="cd" * 32
    )
    assert run(archive, archive.store.record_attachment(lost))
    assert archive.client.get(f"/attachments/{pk}/img1").status_code == 401  # signed in only
    archive.site.sign_in()
    page = archive.client.get(f"/conversations/{CHARLIE}")
    assert f'<img class="attachment-image" src="/attachments/{pk}/img1"' in page.text
    assert f'href="/attachments/{pk}/doc1" download' in page.text
    image = archive.client.get(f"/attachments/{pk}/img1")
    assert image.status_code == 200 and image.content == picture
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["content-disposition"] == 'inline; filename="img1.jpg"'
    doc = archive.client.get(f"/attachments/{pk}/doc1")
    assert doc.status_code == 200 and doc.content == pdf
    assert doc.headers["content-type"] == "application/octet-stream"
    assert doc.headers["content-disposition"] == 'attachment; filename="doc1.pdf"'
    for response in (image, doc):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert not (archive.data_dir / "attachments").exists()
    assert archive.client.get(f"/attachments/{pk}/lost").status_code == 404  # its body is not there
    assert archive.client.get(f"/attachments/{pk}/nothing").status_code == 404
    assert archive.client.get(f"/attachments/{pk + 1}/img1").status_code == 404


def test_search_by_number_and_word_marks_the_matches_and_escapes(archive: Archive) -> None:
    run(archive, text_in(archive.store, "The <pipe> burst in the kitchen", name="Dana"))
    archive.site.sign_in()
    page = archive.client.get("/search?q=pipe")
    assert "1 text found" in page.text
    assert "<mark>pipe</mark>" in page.text and "&lt;" in page.text and "<pipe>" not in page.text
    assert f'href="/conversations/%2B{CHARLIE[1:]}"' in page.text
    assert "1 text found" in archive.client.get("/search?q=(415) 555-0100").text
    assert "0 texts found" in archive.client.get("/search?q=nothing").text


def opt_out() -> DecisionRecord:
    return DecisionRecord(action="opt-out", reason="opt-out", handle="vacation", facts={})


def test_an_opt_out_is_lifted_with_a_reason_and_shown_in_the_history(archive: Archive) -> None:
    pk = run(archive, text_in(archive.store, "STOP", name="Charlie B"))
    run(archive, decide(archive.store, pk, opt_out()))  # type: ignore[arg-type]
    archive.site.sign_in()
    page = archive.client.get("/opt-outs")
    assert "Charlie B" in page.text and "said “STOP”" in page.text
    csrf = re.findall(r'name="csrf" value="([^"]+)"', page.text)[-1]
    empty = archive.client.post("/opt-outs/lift", data={"csrf": csrf, "number": CHARLIE, "reason": "  "})
    assert empty.status_code == 400 and "the reason is required" in empty.text
    assert 'aria-invalid="true"' in empty.text
    forged = archive.client.post("/opt-outs/lift", data={"csrf": "x", "number": CHARLIE, "reason": "ok"})
    assert forged.status_code == 403
    done = archive.client.post(
        "/opt-outs/lift", data={"csrf": csrf, "number": CHARLIE, "reason": "asked by phone"}
    )
    assert done.status_code == 303
    after = archive.client.get(done.headers["location"])
    assert "Nobody is opted out." in after.text and "lifted" in after.text
    assert "by admin: “asked by phone”" in after.text
    assert run(archive, archive.store.opted_out(CHARLIE)) is False
    again = archive.client.post("/opt-outs/lift", data={"csrf": csrf, "number": CHARLIE, "reason": "x"})
    assert again.status_code == 409 and "is not opted out" in again.text


def test_the_extension_switcher_filters_the_conversations_and_search(archive: Archive) -> None:
    run(archive, text_in(archive.store, "hello from one"))
    run(archive, text_in(archive.store, "hello from two", sender=DANA, ext=EXT2))
    archive.site.sign_in()
    one = archive.client.get(f"/conversations?ext={EXT}").text
    assert "hello from one" in one and "hello from two" not in one
    assert f'<option value="{EXT}" selected>' in one and 'action="/conversations"' in one
    both = archive.client.get("/conversations?ext=999").text  # an unknown extension: all of them
    assert "hello from one" in both and "hello from two" in both
    assert "1 text found" in archive.client.get(f"/search?q=hello&ext={EXT2}").text
