"""The attachment downloads against a scripted platform: names, sizes, hashes, refused hosts and
ids, partial files, retries and parking, a restart with downloads pending, the share of the
pacer's budget they take (the MMS from the emulator: tests/integration/test_attachments_emulator.py)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pipeline_fakes import (
    EXT,
    PNG,
    FakePlatform,
    accepted_mms,
    files_under,
    media_uri,
)

from rcinbox.clock import FakeClock
from rcinbox.errors import ServerError
from rcinbox.platform.pacing import Pacer
from rcinbox.platform.retry import RetryPolicy
from rcinbox.service.attachments import DEFAULT_MAX_BYTES, host_allowed, safe_name, suffix_for
from rcinbox.service.downloads import BudgetShare, DownloadOptions, Downloads
from rcinbox.store import AttachmentRecord, Store, StoredMessage

NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
RETRY = RetryPolicy(attempts=3, base_delay=10.0, multiplier=2.0, max_delay=60.0, jitter=0)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """On a fake clock: a test moves it past a retry's backoff instead of waiting."""
    async with await Store.open(store_url, clock=FakeClock(NOW)) as opened:
        yield opened


def worker(store: Store, fake: FakePlatform, data_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Downloads:
    return Downloads(store, fake, data_dir, options=DownloadOptions(retry=RETRY, max_bytes=max_bytes))


async def fetch_all(downloads: Downloads, stored: StoredMessage) -> list[AttachmentRecord]:
    """Archive ``stored`` as the pipeline does (a pending download per attachment), then let the
    worker fetch what is due; every outcome, in order."""
    await downloads.store.downloads.archive(stored.pk, stored.announced)
    await downloads.drain()
    return list((await downloads.store.attachments(stored.pk)).values())


async def archived(
    store: Store, attachments: list[dict[str, object]], message_id: str = "700"
) -> StoredMessage:
    return await accepted_mms(store, message_id, attachments)


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
    downloads = worker(store, fake, tmp_path / "data")
    records = await fetch_all(downloads, stored)
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
    # archiving and draining again is a no-op: nothing fetched twice
    assert await fetch_all(downloads, stored) == records
    assert fake.streamed == [png_uri, odd_uri]


async def test_a_partial_file_left_by_a_crash_is_replaced(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    uri = media_uri(EXT, "700", "1")
    fake.media[uri] = (200, PNG, "image/png")
    stored = await archived(store, [mms("1", uri)])
    folder = tmp_path / "data" / "attachments" / EXT / "700"
    folder.mkdir(parents=True)
    (folder / ".1.png.0123abcd.part").write_bytes(PNG[:100])  # the previous process died here
    (record,) = await fetch_all(worker(store, fake, tmp_path / "data"), stored)
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
    records = await fetch_all(worker(store, fake, tmp_path), stored)
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
    (record,) = await fetch_all(worker(store, fake, tmp_path / "data"), stored)
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
    records = await fetch_all(worker(store, fake, tmp_path / "data", max_bytes=1000), stored)
    assert [(r.state, r.reason) for r in records] == [
        ("refused", "too-large: declared 5000 bytes > 1000"),
        ("refused", "too-large: Content-Length 2000 > 1000"),
        ("refused", "too-large: more than 1000 bytes"),
    ]
    assert fake.streamed == [honest, sneaky]
    assert files_under(tmp_path / "data") == []  # no partial file left behind


async def test_gone_is_refused_a_server_error_is_retried_after_its_backoff(
    store: Store, tmp_path: Path
) -> None:
    fake = FakePlatform()
    gone, flaky = media_uri(EXT, "700", "1"), media_uri(EXT, "700", "2")
    fake.media[flaky] = (200, PNG, "image/png")
    fake.stream_errors[flaky] = [ServerError(503, "CMN-211", "Service temporarily unavailable")]
    stored = await archived(store, [mms("1", gone), mms("2", flaky)])
    downloads = worker(store, fake, tmp_path)
    records = await fetch_all(downloads, stored)
    assert [(r.attachment_id, r.state, r.reason, r.last_error) for r in records] == [
        ("1", "refused", "http-404: CMN-102", None),
        ("2", "pending", None, "ServerError: HTTP 503 CMN-211: Service temporarily unavailable"),
    ]
    assert await downloads.drain() == 0  # not due before its backoff (10 s)
    assert await store.downloads.next_due() == NOW + timedelta(seconds=10)
    clock = store.clock
    assert isinstance(clock, FakeClock)
    clock.advance(10)
    assert await downloads.drain() == 1
    again = await store.attachments(stored.pk)
    assert [(r.attachment_id, r.state, r.last_error) for r in again.values()] == [
        ("1", "refused", None),
        ("2", "stored", None),
    ]
    assert again["2"].sha256 == hashlib.sha256(PNG).hexdigest()
    assert fake.streamed == [gone, flaky, flaky]


async def test_a_download_that_never_works_is_parked_visibly(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakePlatform()
    uri = media_uri(EXT, "700", "1")
    fake.media[uri] = (200, PNG, "image/png")
    fake.stream_errors[uri] = [ServerError(503, "CMN-211", "unavailable")] * 3
    stored = await archived(store, [mms("1", uri)])
    downloads = worker(store, fake, tmp_path)
    clock = store.clock
    assert isinstance(clock, FakeClock)
    await fetch_all(downloads, stored)
    for _ in range(2):
        clock.advance(60)
        assert await downloads.drain() == 1
    (record,) = (await store.attachments(stored.pk)).values()
    reason = "gave up after 3 attempts: ServerError: HTTP 503 CMN-211: unavailable"
    assert (record.state, record.reason, record.last_error, record.path) == ("failed", reason, reason, None)
    assert await store.downloads.next_due() is None
    clock.advance(3600)
    assert await downloads.drain() == 0  # parked: never tried again
    assert fake.streamed == [uri] * 3
    assert f"attachment 1 of message 700 parked: {reason}" in caplog.messages


async def test_pending_downloads_resume_after_a_restart(tmp_path: Path, store_url: str) -> None:
    """The process stops with downloads queued (and the message decided): the next start's
    worker fetches them, without being woken."""
    fake = FakePlatform()
    uri = media_uri(EXT, "700", "1")
    fake.media[uri] = (200, PNG, "image/png")
    async with await Store.open(store_url) as first:
        stored = await archived(first, [mms("1", uri)])
        assert await first.downloads.archive(stored.pk, stored.announced) == 1
        # the process dies here: archived, its download queued, nothing fetched
    async with await Store.open(store_url) as store:
        downloads = worker(store, fake, tmp_path / "data")
        stop = asyncio.Event()
        running = asyncio.create_task(downloads.run(stop))

        async def stored_now() -> bool:
            return (await store.attachments(stored.pk))["1"].state == "stored"

        await downloads.changes.until(stored_now, 5)
        stop.set()
        await asyncio.wait_for(running, 5)
        record = (await store.attachments(stored.pk))["1"]
    assert (tmp_path / "data" / str(record.path)).read_bytes() == PNG
    assert record.sha256 == hashlib.sha256(PNG).hexdigest()
    assert fake.streamed == [uri]


def test_helpers() -> None:
    assert suffix_for("image/JPEG; foo=bar") == "jpg"
    assert suffix_for("image/svg+xml") == "bin"
    assert suffix_for("application/x-msdownload") == "bin"
    assert safe_name("675981076016") == "675981076016"
    hosts = frozenset({"127.0.0.1", "media.ringcentral.com"})
    assert host_allowed("http://127.0.0.1:8080/x", hosts)
    assert not host_allowed("http://127.0.0.1:bad/x", hosts)
    assert not host_allowed("//media.ringcentral.com/x", hosts)


async def test_downloads_take_at_most_half_the_medium_budget_and_leave_replies_room() -> None:
    """Medium 10 per 60 s: downloads start while fewer than half are counted; with 4 counted a
    fifth waits until the oldest leaves the window, while a reply still goes at once."""
    clock = FakeClock(NOW)
    pacer = Pacer(clock)
    st = pacer.state("Medium")
    st.limit, st.known = 10, True
    share = BudgetShare(pacer, 0.5)
    for k in range(4):
        assert share.delay() == 0
        assert (share.delay(in_flight=1) == 0) is (k < 3)  # a started download counts before it books
        pacer.release("Medium", await pacer.acquire("Medium"))
        clock.advance(1)
    assert share.delay() == pytest.approx(56.0)  # the first request is counted until t=60
    assert pacer.wait_time("Medium") == 0  # a reply is not held up: the budget is not even low
    waiting = asyncio.create_task(share.enter(None))
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.advance(56)
    assert await asyncio.wait_for(waiting, 1) is True
    stop = asyncio.Event()
    pacer.release("Medium", await pacer.acquire("Medium"))
    for _ in range(3):  # replies in flight, no answer yet
        await pacer.acquire("Medium")
    stopped = asyncio.create_task(share.enter(stop))
    await asyncio.sleep(0)
    stop.set()
    assert await asyncio.wait_for(stopped, 1) is False
    assert BudgetShare(None, 0.5).delay() == 0  # no pacer (tests): no limit
