"""The pipeline against the emulator: an MMS archived with its attachment and answered once though
announced twice, and the allowlist with the real address book (the scripted cases:
tests/unit/test_pipeline.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
from pipeline_fakes import OWNER, VACATION_TOML, emulator_client, emulator_envelope, vacation_rules
from transport_kit import inject

from rcinbox.emulator.runner import Running
from rcinbox.events import InboundMessage
from rcinbox.rules import parse_rules
from rcinbox.service.contacts import ContactBook
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline
from rcinbox.store import Store


async def test_end_to_end_with_the_emulator(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path, store_url: str
) -> None:
    photo = b"\xff\xd8\xff\xe0" + b"jpeg" * 500
    injected = await inject(http, OWNER, "Are you in the office?", attachments=[("image/jpeg", photo)])
    message_id = injected["messageId"]
    notification = emulator_envelope(emu, message_id)
    msg = InboundMessage.from_notification(notification, "webhook")
    async with await Store.open(store_url) as store, emulator_client(emu, tmp_path) as client:
        book = ContactBook(client, msg.extension_id)
        outbox = Outbox(store, client)
        pipeline = Pipeline(
            store, client, vacation_rules, {msg.extension_id: book}, tmp_path / "data", outbox=outbox
        )
        assert await pipeline.accept(msg) is True
        assert await pipeline.accept(InboundMessage.from_notification(notification, "websocket")) is False
        assert await pipeline.drain() == 1
        assert await outbox.drain() == 1
        assert await pipeline.downloads.drain() == 1  # after the decision, on its own queue
        (entry,) = await store.recent()
        (attachment,) = (await store.attachments(entry.pk)).values()
    assert (entry.action, entry.reason, entry.reply_state, entry.attachments) == (
        "reply",
        "replied",
        "sent",
        1,
    )
    assert (tmp_path / "data" / str(attachment.path)).read_bytes() == photo
    outbound = (await http.get("/_emulator/outbound")).json()["records"]
    assert [(r["from"], r["to"], r["text"]) for r in outbound] == [
        ("+16505550100", ["+14155550100"], "Hi Charlie, I'm away. Back soon.")
    ]


async def test_an_allowlisted_stranger_gets_the_reply_the_address_book_knows_nothing_of(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path, store_url: str
) -> None:
    """The allowlist is applied by the rules, not by the address book: with the real book (synced
    from the emulator) and audience "contacts", the allowlisted stranger is answered, the other not."""
    contacts_only = VACATION_TOML.replace('audience = "everyone"', 'audience = "contacts"')
    rules = parse_rules(contacts_only + '[contacts]\nallowlist = ["(415) 555-0199"]\n')
    ids = []
    for sender in ("+14155550199", "+14155550198"):  # nobody's contacts
        response = await http.post(
            "/_emulator/inbound", json={"from": sender, "to": OWNER, "text": "Hi, it's me"}
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["messageId"])
    messages = [InboundMessage.from_notification(emulator_envelope(emu, mid), "webhook") for mid in ids]
    ext = messages[0].extension_id
    async with await Store.open(store_url) as store, emulator_client(emu, tmp_path) as client:
        book = ContactBook(client, ext)
        outbox = Outbox(store, client, rules=lambda: rules)
        pipeline = Pipeline(store, client, lambda: rules, {ext: book}, tmp_path / "data", outbox=outbox)
        for msg in messages:
            assert await pipeline.accept(msg) is True
        assert await pipeline.drain() == 2
        assert await outbox.drain() == 1
        entries = sorted(await store.recent(), key=lambda e: e.sender)
        decisions = [await store.decision(e.pk) for e in entries]
        assert book.loaded and book.lookup("+14155550199") is None
    assert [(e.sender, e.reason, e.reply_state) for e in entries] == [
        ("+14155550198", "not-a-contact", None),
        ("+14155550199", "replied", "sent"),
    ]
    assert [d.facts["is_contact"] if d else None for d in decisions] == [False, True]
    outbound = (await http.get("/_emulator/outbound")).json()["records"]
    assert [(r["to"], r["text"]) for r in outbound] == [(["+14155550199"], "Hi, I'm away. Back soon.")]
