"""The attachment downloads against the emulator: an MMS's bytes stored with their SHA-256 (the
scripted cases: tests/unit/test_attachments.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from pipeline_fakes import OWNER, PNG, emulator_client, emulator_envelope
from transport_kit import inject

from rcinbox.emulator.runner import Running
from rcinbox.events import InboundMessage
from rcinbox.service.downloads import Downloads
from rcinbox.store import Store


async def test_mms_bytes_and_sha256_from_the_emulator(
    emu: Running, http: httpx.AsyncClient, store: Store, tmp_path: Path
) -> None:
    photo = PNG + b"emulator"
    message_id = (await inject(http, OWNER, "", attachments=[("image/png", photo)]))["messageId"]
    msg = InboundMessage.from_notification(emulator_envelope(emu, message_id), "websocket")
    assert msg.text == "" and len(msg.attachments) == 1
    assert await store.accept(msg)
    stored = await store.find_message(msg.extension_id, message_id)
    assert stored is not None
    assert await store.downloads.archive(stored.pk, stored.announced) == 1  # queued, as the pipeline does
    async with emulator_client(emu, tmp_path) as client:
        assert await Downloads(store, client, tmp_path / "data", pacer=client.pacer).drain() == 1
    (record,) = (await store.attachments(stored.pk)).values()
    assert record.state == "stored", record.reason
    assert record.sha256 == hashlib.sha256(photo).hexdigest()
    assert (tmp_path / "data" / str(record.path)).read_bytes() == photo
    assert record.path == f"attachments/{msg.extension_id}/{message_id}/{msg.attachments[0].id}.png"
