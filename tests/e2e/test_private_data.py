"""Privacy of what rcinbox keeps and shows (review of issue 3, findings 1, 7, 10 and 11): the data
directory, the database and the attachments are the user's only; ``/readyz`` never shows a
credential; attachment bytes are written off the event loop; secret flags say they are visible."""

from __future__ import annotations

import io
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest
from pipeline_fakes import EXT, FakePlatform, envelope, media_uri
from round_trip_kit import TUNING, exercise, settings_for
from typer.testing import CliRunner

from rcinbox.cli.main import app
from rcinbox.emulator.runner import Running
from rcinbox.events import InboundMessage
from rcinbox.service.app import Service
from rcinbox.service.downloads import Downloads
from rcinbox.settings import FIELDS
from rcinbox.store import Store

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """The usual 022 umask: without explicit modes, files would be world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): mode(p) for p in sorted(root.rglob("*"))}


async def test_a_service_run_leaves_only_private_directories_and_files(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    settings = settings_for(emu, tmp_path)
    async with httpx.AsyncClient(timeout=5) as client, Service.open(settings, TUNING) as service:
        await exercise(service, emu, http, client)
    found = modes_under(settings.data_dir)
    assert "rcinbox.db" in found
    assert mode(settings.data_dir) == 0o700
    loose = {name: oct(m) for name, m in found.items() if m & 0o077}
    assert loose == {}


async def test_store_open_creates_a_private_database_and_tightens_an_existing_one(tmp_path: Path) -> None:
    database = tmp_path / "deep" / "db" / "rcinbox.db"
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        await store.kv_put("webhook.verification_token", "s3cret-token")
    assert (mode(database), mode(database.parent), mode(database.parent.parent)) == (0o600, 0o700, 0o700)
    for path in (database, database.with_name("rcinbox.db-wal"), database.with_name("rcinbox.db-shm")):
        if path.exists():
            os.chmod(path, 0o644)
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        assert await store.kv_get("webhook.verification_token") == "s3cret-token"
        companions = [p for p in database.parent.iterdir() if p.name.startswith("rcinbox.db")]
        assert {p.name: mode(p) for p in companions} == {p.name: 0o600 for p in companions}


class LoopFileWrites:
    """Counts the file writes made on this thread (the event loop's) while it is active: a profile
    function sees every call of a built-in, so a write done on the loop cannot hide."""

    def __init__(self) -> None:
        self.writes = 0
        self._previous: Any = None

    def __enter__(self) -> LoopFileWrites:
        self._previous = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(self._previous)

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "c_call":
            return
        owner = getattr(arg, "__self__", None)
        if arg is os.write or (isinstance(owner, io.BufferedWriter | io.FileIO) and arg.__name__ == "write"):
            self.writes += 1


async def test_attachments_are_private_and_written_off_the_event_loop(tmp_path: Path) -> None:
    fake = FakePlatform()
    uri = media_uri(EXT, "700", "1")
    fake.media[uri] = (200, PNG, "image/png")
    item = {"id": "1", "type": "MmsAttachment", "uri": uri, "contentType": "image/png"}
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/data/rcinbox.db") as store:
        msg = InboundMessage.from_notification(envelope(message_id="700", attachments=[item]), "webhook")
        assert await store.accept(msg)
        stored = await store.find_message(EXT, "700")
        assert stored is not None
        await store.downloads.archive(stored.pk, stored.announced)
        with LoopFileWrites() as on_loop:
            assert await Downloads(store, fake, tmp_path / "data").drain() == 1
        [record] = (await store.attachments(stored.pk)).values()
    assert record.state == "stored"
    target = tmp_path / "data" / str(record.path)
    assert target.read_bytes() == PNG
    assert mode(target) == 0o600
    assert {name: oct(m) for name, m in modes_under(tmp_path / "data").items() if m & 0o077} == {}
    assert on_loop.writes == 0  # the bytes above were all written by worker threads


async def test_readyz_reasons_are_redacted(emu: Running, tmp_path: Path) -> None:
    async with Service.open(settings_for(emu, tmp_path), TUNING) as service:
        service.board.update(reason="InvalidURI: wss://ws.example/ws?access_token=U0pDMDFQMDFQQVMwMXxBQUFW")
        async with httpx.AsyncClient(timeout=5) as client:
            ready = await client.get(service.http.url + "/readyz")
    assert ready.status_code == 503
    assert "U0pDMDFQMDFQQVMwMXxBQUFW" not in ready.text
    assert ready.json() == {
        "ready": False,
        "reasons": ["websocket: InvalidURI: wss://ws.example/ws?access_token=***"],
    }


def test_secret_flags_warn_that_they_are_visible_in_ps() -> None:
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "400", "TERM": "dumb"})
    assert result.exit_code == 0
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
    secret_flags = [f.flag for f in FIELDS if f.secret]
    assert secret_flags == ["--client-secret", "--jwt", "--sender-jwts", "--admin-password"]
    for field in FIELDS:
        start = text.index(field.flag + " ")
        end = text.index(f"Env: {field.env}.", start)
        tail = text[end : end + 120]
        warned = "visible in `ps`" in tail.split(" --")[0]
        assert warned == field.secret, (field.flag, tail)
