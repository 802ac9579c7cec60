"""The attachment storage seam (service/attachment_storage.py) on both databases: ``files`` (the
layout as it always was) and ``database`` (content-addressed rows of ``attachment_bodies``, path
NULL); identical bytes stored once; a refused or too large download leaves nothing behind in
either. And the claims that keep two download workers on one PostgreSQL database (replicas) from
fetching one attachment twice, with a gone replica's claims due again at once."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pipeline_fakes import EXT, PNG, FakePlatform, accepted_mms, files_under, media_uri

from rcinbox.clock import FakeClock
from rcinbox.service.attachment_storage import DatabaseStorage, FileStorage, Storage, StorageName
from rcinbox.service.downloads import DownloadOptions, Downloads
from rcinbox.service.membership import Membership
from rcinbox.store import AttachmentRecord, Store, StoredMessage

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 30


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    async with await Store.open(store_url, clock=FakeClock(NOW)) as opened:
        yield opened


def storage(name: StorageName, store: Store, data_dir: Path) -> Storage:
    return DatabaseStorage(store) if name == "database" else FileStorage(data_dir)


async def archived(store: Store, message_id: str, *refs: tuple[str, str, str]) -> StoredMessage:
    """An MMS with attachments (id, uri, content type), archived: its downloads queued."""
    attachments = [{"id": i, "type": "MmsAttachment", "uri": u, "contentType": t} for i, u, t in refs]
    stored = await accepted_mms(store, message_id, attachments)
    await store.downloads.archive(stored.pk, stored.announced)
    return stored


async def records(store: Store, stored: StoredMessage) -> list[AttachmentRecord]:
    return list((await store.attachments(stored.pk)).values())


async def test_database_storage_keeps_the_bytes_in_the_database(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    png, jpeg = media_uri(EXT, "700", "1"), media_uri(EXT, "700", "2")
    fake.media[png] = (200, PNG, "image/png")
    fake.media[jpeg] = (200, JPEG, "image/jpeg")
    fake.chunked.add(jpeg)  # streamed in pieces, no Content-Length
    stored = await archived(store, "700", ("1", png, "image/png"), ("2", jpeg, "image/jpeg"))
    downloads = Downloads(store, fake, tmp_path / "data", storage=DatabaseStorage(store))
    assert await downloads.drain() == 2
    first, second = await records(store, stored)
    assert [(r.state, r.path, r.storage, r.size) for r in (first, second)] == [
        ("stored", None, "database", len(PNG)),
        ("stored", None, "database", len(JPEG)),
    ]
    assert (first.sha256, second.sha256) == (
        hashlib.sha256(PNG).hexdigest(),
        hashlib.sha256(JPEG).hexdigest(),
    )
    assert await store.bodies.get(hashlib.sha256(PNG).hexdigest()) == PNG
    assert await store.bodies.get(hashlib.sha256(JPEG).hexdigest()) == JPEG
    assert await store.bodies.get("00" * 32) is None
    assert files_under(tmp_path / "data") == []  # nothing on this machine's disk


async def test_identical_bytes_are_stored_once(store: Store, tmp_path: Path) -> None:
    """The same picture in two messages (and one download repeated) adds one body."""
    fake = FakePlatform()
    one, two = media_uri(EXT, "701", "1"), media_uri(EXT, "702", "1")
    fake.media[one] = fake.media[two] = (200, PNG, "image/png")
    first = await archived(store, "701", ("1", one, "image/png"))
    second = await archived(store, "702", ("1", two, "image/png"))
    downloads = Downloads(store, fake, tmp_path / "data", storage=DatabaseStorage(store))
    assert await downloads.drain() == 2
    (a,), (b,) = await records(store, first), await records(store, second)
    assert a.sha256 == b.sha256 == hashlib.sha256(PNG).hexdigest() and a.storage == b.storage == "database"
    assert await store.bodies.count() == 1
    assert not await store.bodies.put(hashlib.sha256(PNG).hexdigest(), PNG)  # a repeat adds nothing
    assert await store.bodies.count() == 1 and await store.bodies.get(a.sha256 or "") == PNG


async def test_files_storage_keeps_the_layout(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    uri = media_uri(EXT, "703", "9")
    fake.media[uri] = (200, JPEG, "image/jpeg")
    stored = await archived(store, "703", ("9", uri, "image/jpeg"))
    downloads = Downloads(store, fake, tmp_path / "data", storage=FileStorage(tmp_path / "data"))
    assert await downloads.drain() == 1
    (record,) = await records(store, stored)
    assert (record.path, record.storage) == (f"attachments/{EXT}/703/9.jpg", "files")
    assert (tmp_path / "data" / f"attachments/{EXT}/703/9.jpg").read_bytes() == JPEG
    assert record.sha256 == hashlib.sha256(JPEG).hexdigest() and await store.bodies.count() == 0


@pytest.mark.parametrize("name", ["files", "database"])
async def test_refused_and_too_large_leave_nothing_behind(
    store: Store, tmp_path: Path, name: StorageName
) -> None:
    fake = FakePlatform()
    big, gone = media_uri(EXT, "704", "1"), media_uri(EXT, "704", "2")
    fake.media[big] = (200, JPEG, "image/jpeg")
    fake.chunked.add(big)  # the size is only known while streaming: bytes were written by then
    stored = await archived(store, "704", ("1", big, "image/jpeg"), ("2", gone, "image/png"))
    options = DownloadOptions(max_bytes=len(JPEG) - 1)
    downloads = Downloads(
        store, fake, tmp_path / "data", options=options, storage=storage(name, store, tmp_path / "data")
    )
    assert await downloads.drain() == 2
    too_large, missing = await records(store, stored)
    assert (too_large.state, too_large.storage) == ("refused", None)
    assert (too_large.reason or "").startswith("too-large: more than")
    assert (missing.state, missing.reason) == ("refused", "http-404: CMN-102")
    assert files_under(tmp_path / "data") == [] and await store.bodies.count() == 0


class SlowPlatform(FakePlatform):
    """Every download waits for ``release``: the test sees what both workers started meanwhile."""

    def __init__(
        self, started: list[str], release: asyncio.Event, everyone_started: asyncio.Event, n: int
    ) -> None:
        super().__init__()
        self.started, self.release, self.everyone, self.n = started, release, everyone_started, n

    async def _open(self, uri: str) -> None:
        self.started.append(uri)
        if len(self.started) >= self.n:
            self.everyone.set()
        await self.release.wait()

    def stream(self, uri: str):  # type: ignore[no-untyped-def]
        inner = super().stream(uri)
        platform = self

        class Slow:
            async def __aenter__(self) -> httpx.Response:
                await platform._open(uri)
                return await inner.__aenter__()

            async def __aexit__(self, *exc: object) -> bool | None:
                return await inner.__aexit__(*exc)  # type: ignore[arg-type]

        return Slow()


async def test_two_workers_on_one_postgres_never_fetch_one_attachment_twice(pg_database: str) -> None:
    """Two replicas' download workers on one database, the downloads slow: each attachment is
    claimed by one of them (without the claim both read every due row and fetch them all)."""
    count = 6
    uris = [media_uri(EXT, "800", str(i)) for i in range(count)]
    started: list[str] = []
    release, everyone = asyncio.Event(), asyncio.Event()
    async with (
        await Store.open(pg_database, clock=FakeClock(NOW)) as one,
        await Store.open(pg_database, clock=FakeClock(NOW)) as two,
    ):
        stored = await archived(one, "800", *((str(i), uri, "image/png") for i, uri in enumerate(uris)))
        workers = []
        for store, replica in ((one, "replica-one"), (two, "replica-two")):
            fake = SlowPlatform(started, release, everyone, count)
            for uri in uris:
                fake.media[uri] = (200, PNG, "image/png")
            worker = Downloads(store, fake, Path("/nonexistent"), storage=DatabaseStorage(store))
            worker.claimant = replica
            workers.append(worker)
        draining = [asyncio.create_task(worker.drain()) for worker in workers]
        await asyncio.wait_for(everyone.wait(), 10)  # every download started (or more: the bug)
        release.set()
        attempted = await asyncio.wait_for(asyncio.gather(*draining), 10)
        stored_records = await records(one, stored)
        bodies = await one.bodies.count()
    assert sorted(started) == sorted(uris)  # each fetched exactly once
    assert sum(attempted) == count and all(attempted)  # both workers took a share
    assert {(r.state, r.storage, r.sha256) for r in stored_records} == {
        ("stored", "database", hashlib.sha256(PNG).hexdigest())
    }
    assert len(stored_records) == count and bodies == 1


async def test_a_gone_replicas_downloads_are_due_again_at_once(pg_database: str) -> None:
    """A replica that died mid-download: its claims end when its heartbeat is gone, not after the
    lease; a live replica's claims stay."""
    clock = FakeClock(NOW)
    async with await Store.open(pg_database, clock=clock) as store:
        uris = [media_uri(EXT, "900", str(i)) for i in range(2)]
        await archived(store, "900", *((str(i), uri, "image/png") for i, uri in enumerate(uris)))
        options = DownloadOptions().lease
        (dead,) = await store.downloads.due(1, lease=options, claimant="dead")
        await store.replica_beat("alive", "test", 15)
        (alive,) = await store.downloads.due(1, lease=options, claimant="alive")
        assert await store.downloads.due(5, lease=options, claimant="other") == []  # both claimed
        assert await store.downloads.end_orphan_claims(15) == 1
        await store.replica_beat("other", "test", 15)
        (again,) = await store.downloads.due(5, lease=options, claimant="other")
        assert again.id == dead.id != alive.id
        assert await store.downloads.end_orphan_claims(15) == 0  # held by live replicas
        clock.advance(options.total_seconds() + 1)  # no heartbeat since: every claim is over
        assert await store.downloads.end_orphan_claims(15) == 0  # (their leases ran out anyway)
        assert len(await store.downloads.due(5, lease=options, claimant="third")) == 2


async def test_the_heartbeat_frees_a_gone_replicas_downloads_and_wakes_the_worker(pg_database: str) -> None:
    """The membership's heartbeat is what ends a dead replica's download claims in a running
    service: the row is due again at once and this replica's download worker is woken."""
    clock = FakeClock(NOW)
    async with await Store.open(pg_database, clock=clock) as store:
        await archived(store, "950", ("0", media_uri(EXT, "950", "0"), "image/png"))
        (claimed,) = await store.downloads.due(1, lease=DownloadOptions().lease, claimant="dead")
        woken: list[str] = []
        member = Membership(store, [], replica="alive", orphan_downloads=lambda: woken.append("downloads"))
        await member.beat()
        (again,) = await store.downloads.due(1, lease=DownloadOptions().lease, claimant="alive")
    assert woken == ["downloads"]
    assert again.id == claimed.id


async def test_a_download_another_replica_queued_is_fetched_by_the_sweep(pg_database: str) -> None:
    """A replica that queued downloads and died (or stopped) before claiming them told nobody: a
    live replica's worker, asleep with nothing due, looks again within its sweep and fetches them."""
    clock = FakeClock(NOW)
    uri = media_uri(EXT, "970", "0")
    async with await Store.open(pg_database, clock=clock) as one, await Store.open(pg_database) as gone:
        fake = FakePlatform()
        fake.media[uri] = (200, PNG, "image/png")
        options = DownloadOptions(sweep=5.0)
        worker = Downloads(one, fake, Path("/nonexistent"), storage=DatabaseStorage(one), options=options)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        try:
            await clock.until_asleep()  # idle: nothing due, nothing scheduled but the sweep
            assert clock.next_wake() == 5.0
            stored = await archived(gone, "970", ("0", uri, "image/png"))
            clock.advance(5.0)

            async def fetched() -> bool:
                return [r.state for r in await records(one, stored)] == ["stored"]

            await worker.changes.until(fetched, 10)
            body = await one.bodies.get(hashlib.sha256(PNG).hexdigest())
        finally:
            stop.set()
            await running
    assert body == PNG
