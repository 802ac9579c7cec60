"""The archive as the dashboard reads it, filled through the store's own writes: texts in
(:func:`text_in`), decisions (:func:`decide`, :func:`replied`, :func:`suppressed`), replies sent
(:func:`send`), attachments' outcomes (:func:`stored_file`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pipeline_fakes import CHARLIE, EXT, OWNER, envelope

from rcinbox.clock import FakeClock
from rcinbox.events import InboundMessage
from rcinbox.store import AttachmentRecord, DecisionRecord, EscalationRecord, Store

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DANA = "+14155550111"
EXT2 = "62264425099"


@asynccontextmanager
async def opened(url: str, clock: FakeClock) -> AsyncIterator[Store]:
    """A fresh archive at ``url`` (``store_url``) on ``clock`` (each test module's ``store`` fixture)."""
    async with await Store.open(url, clock=clock) as store:
        yield store


async def text_in(
    store: Store,
    text: str = "Hi there",
    *,
    sender: str = CHARLIE,
    name: str | None = None,
    ext: str = EXT,
    at: datetime | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> int:
    """An inbound text archived at ``at`` (default: the store's clock); its message pk."""
    created = (at or store.clock.now()).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    body = envelope(
        text=text, sender=sender, sender_name=name, ext=ext, created=created, attachments=attachments
    )
    message = InboundMessage.from_notification(body, "webhook")
    assert await store.accept(message)
    found = await store.find_message(ext, message.message_id)
    assert found is not None
    return found.pk


async def decide(store: Store, pk: int, record: DecisionRecord) -> None:
    assert await store.conclude(pk, record)


def replied(
    to: str = CHARLIE, text: str = "Away until Monday", *, contact: str | None = None, last: str | None = None
) -> DecisionRecord:
    return DecisionRecord(
        action="reply",
        reason="replied",
        handle="vacation",
        facts={"contact_name": contact, "contact_last_name": last},
        reply_text=text,
        reply_from=OWNER,
        reply_to=to,
        reply_kind="vacation",
    )


def suppressed(reason: str, *, action: str = "suppress", **facts: Any) -> DecisionRecord:
    return DecisionRecord(action=action, reason=reason, handle="vacation", facts=facts)  # type: ignore[arg-type]


def escalated(about: str = CHARLIE, to: str = "+16505550199") -> DecisionRecord:
    escalation = EscalationRecord("Charlie texted: urgent", OWNER, to, "esc", about)
    return DecisionRecord(
        action="suppress", reason="already-replied", handle="vacation", facts={}, escalation=escalation
    )


async def send(store: Store, pk: int, kind: str = "reply") -> None:
    row = await store.outbox.for_message(pk, kind)  # type: ignore[arg-type]
    assert row is not None and await store.outbox.claim(row.id) is not None
    await store.outbox.mark_sent(row.id, f"sent-{row.id}")


async def stored_file(store: Store, pk: int, attachment_id: str, content_type: str = "image/jpeg") -> None:
    record = AttachmentRecord(
        message_pk=pk,
        attachment_id=attachment_id,
        content_type=content_type,
        uri=f"https://media.ringcentral.com/{attachment_id}",
        state="stored",
        size=3,
        sha256="ab" * 32,
        path=f"attachments/{attachment_id}.jpg",
    )
    assert await store.record_attachment(record)
