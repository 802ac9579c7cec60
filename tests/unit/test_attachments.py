"""The attachment fetcher against a scripted platform: names, sizes, hashes, refused hosts and
ids, partial files, retries (the MMS from the emulator: tests/integration/test_attachments_emulator.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pipeline_fakes import (
    EXT,
    PNG,
    FakePlatform,
    envelope,
    files_under,
    media_uri,
)

from rcinbox.errors import ServerError
from rcinbox.events import InboundMessage
from rcinbox.service.attachments import AttachmentFetcher, host_allowed, safe_name, suffix_for
from rcinbox.store import Store, StoredMessage


async def archived(
    store: Store, attachments: list[dict[str, object]], message_id: str = "700"
) -> StoredMessage:
    msg = InboundMessage.from_notification(
        envelope(message_id=message_id, attachments=attachments),
        "webhook",  # type: ignore[arg-type]
    )
    assert await store.accept(msg)
    stored = await store.find_message(EXT, message_id)
    assert stored is not None
    return stored


def refs(stored: StoredMessage) -> InboundMessage:
    return stored.inbound()  # what the worker works on: the refs as stored at intake


def mms(att_id: str, uri: str, content_type: str = "image/png", size: int | None = None) -> dict[str, object]:
    item: dict[str, object] = {"id": att_id, "type": "MmsAttachment", "uri": uri, "contentType": content_type}
    if size is not None:
        item["size"] = size
    return item


async def test_streams_bytes_to_a_chosen_name_with_sha256(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    png_uri, odd_uri = media_uri(EXT, "700", "1"), media_uri(EXT, "700", "2")
    fake.media[png_uri] = (200, PNG, "image/png")
    fake.media[odd_uri] = (200, b"<html>", "text/html; charset=utf-8")
    stored = await archived(store, [mms("1", png_uri, size=len(PNG)), mms("2", odd_uri, "text/html")])
    fetcher = AttachmentFetcher(store, fake, tmp_path / "data")
    records = await fetcher.fetch_all(stored, refs(stored).attachments)
    assert [(r.attachment_id, r.state, r.path, r.size, r.content_type) for r in records] == [
        ("1", "stored", f"attachments/{EXT}/700/1.png", len(PNG), "image/png"),
        ("2", "stored", f"attachments/{EXT}/700/2.bin", 6, "text/html"),
    ]
    assert (tmp_path / "data" / records[0].path).read_bytes() == PNG  # type: ignore[operator]
    assert records[0].sha256 == hashlib.sha256(PNG).hexdigest()
    assert sorted(p.name for p in (tmp_path / "data/attachments" / EXT / "700").iterdir()) == [
        "1.png",
        "2.bin",
    ]
    # running again is a no-op: nothing fetched twice
    assert await fetcher.fetch_all(stored, refs(stored).attachments) == records
    assert fake.streamed == [png_uri, odd_uri]


async def test_a_partial_file_left_by_a_crash_is_replaced(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    uri = media_uri(EXT, "700", "1")
    fake.media[uri] = (200, PNG, "image/png")
    stored = await archived(store, [mms("1", uri)])
    folder = tmp_path / "data" / "attachments" / EXT / "700"
    folder.mkdir(parents=True)
    (folder / ".1.png.0123abcd.part").write_bytes(PNG[:100])  # the previous process died here
    (record,) = await AttachmentFetcher(store, fake, tmp_path / "data").fetch_all(
        stored, refs(stored).attachments
    )
    assert record.state == "stored"
    assert files_under(tmp_path / "data") == [Path(f"attachments/{EXT}/700/1.png")]
    assert (folder / "1.png").read_bytes() == PNG


async def test_foreign_host_is_refused_and_never_fetched(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    evil = [
        "https://attacker.example/steal",
        "https://media.ringcentral.com.attacker.example/x",
        "https://user:pw@media.ringcentral.com/x",
        "ftp://media.ringcentral.com/x",
        "file:///etc/passwd",
    ]
    stored = await archived(store, [mms(str(i), uri) for i, uri in enumerate(evil)])
    records = await AttachmentFetcher(store, fake, tmp_path).fetch_all(stored, refs(stored).attachments)
    assert [r.state for r in records] == ["refused"] * len(evil)
    assert records[0].reason == "foreign-host: 'attacker.example'"
    assert all(r.reason and r.reason.startswith("foreign-host") for r in records)
    assert fake.streamed == []
    assert not (tmp_path / "attachments").exists()


async def test_path_traversal_in_ids_is_harmless(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    uri = media_uri(EXT, "700", "..%2F..%2Fevil")
    fake.media[uri] = (200, PNG, "image/png")
    stored = await archived(store, [mms("../../../evil", uri)])
    (record,) = await AttachmentFetcher(store, fake, tmp_path / "data").fetch_all(
        stored, refs(stored).attachments
    )
    name = safe_name("../../../evil")
    assert record.path == f"attachments/{EXT}/700/{name}.png"
    assert name.startswith("x") and "/" not in name and "." not in name
    assert files_under(tmp_path / "data") == [Path(str(record.path))]


async def test_size_cap_declared_and_actual(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    big, honest, sneaky = (media_uri(EXT, "700", str(i)) for i in (1, 2, 3))
    fake.media[honest] = fake.media[sneaky] = (200, b"x" * 2000, "image/jpeg")
    fake.chunked.add(sneaky)
    stored = await archived(store, [mms("1", big, size=5000), mms("2", honest), mms("3", sneaky)])
    fetcher = AttachmentFetcher(store, fake, tmp_path / "data", max_bytes=1000)
    records = await fetcher.fetch_all(stored, refs(stored).attachments)
    assert [(r.state, r.reason) for r in records] == [
        ("refused", "too-large: declared 5000 bytes > 1000"),
        ("refused", "too-large: Content-Length 2000 > 1000"),
        ("refused", "too-large: more than 1000 bytes"),
    ]
    assert fake.streamed == [honest, sneaky]
    assert files_under(tmp_path / "data") == []  # no partial file left behind


async def test_gone_is_recorded_server_error_is_retried(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    gone, flaky = media_uri(EXT, "700", "1"), media_uri(EXT, "700", "2")
    fake.media[flaky] = (200, PNG, "image/png")
    fake.stream_errors[flaky] = [ServerError(503, "CMN-211", "Service temporarily unavailable")]
    stored = await archived(store, [mms("1", gone), mms("2", flaky)])
    fetcher = AttachmentFetcher(store, fake, tmp_path)
    with pytest.raises(ServerError):
        await fetcher.fetch_all(stored, refs(stored).attachments)
    records = await store.attachments(stored.pk)
    assert [(r.attachment_id, r.state, r.reason) for r in records.values()] == [
        ("1", "refused", "http-404: CMN-102")
    ]
    again = await fetcher.fetch_all(stored, refs(stored).attachments)
    assert [(r.attachment_id, r.state) for r in again] == [("1", "refused"), ("2", "stored")]
    assert fake.streamed == [gone, flaky, flaky]


def test_helpers() -> None:
    assert suffix_for("image/JPEG; foo=bar") == "jpg"
    assert suffix_for("image/svg+xml") == "bin"
    assert suffix_for("application/x-msdownload") == "bin"
    assert safe_name("675981076016") == "675981076016"
    hosts = frozenset({"127.0.0.1", "media.ringcentral.com"})
    assert host_allowed("http://127.0.0.1:8080/x", hosts)
    assert not host_allowed("http://127.0.0.1:bad/x", hosts)
    assert not host_allowed("//media.ringcentral.com/x", hosts)
