"""The repeat-tracking handle (review of issue 3, finding 12): derived from the vacation message and
window, so editing the message starts repeat tracking afresh (Sieve's ``:handle`` per response)."""

from __future__ import annotations

from pathlib import Path

from pipeline_fakes import CHARLIE, EXT, VACATION_TOML, FakeBook, FakePlatform, envelope

from rcinbox.events import InboundMessage
from rcinbox.rules.config import Rules, parse_rules
from rcinbox.rules.decide import handle_for
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline
from rcinbox.store import Store

EDITED = VACATION_TOML.replace("I'm away. Back soon.", "I'm away until Monday.")
MOVED = VACATION_TOML.replace("end = 2099-01-01T00:00:00", "end = 2098-01-01T00:00:00")


def test_the_handle_follows_the_message_and_the_window() -> None:
    base = handle_for(parse_rules(VACATION_TOML).vacation)
    assert base.startswith("vacation:") and len(base) == len("vacation:") + 16
    assert handle_for(parse_rules(VACATION_TOML).vacation) == base
    same_text_other_audience = VACATION_TOML.replace('audience = "everyone"', 'audience = "contacts"')
    assert handle_for(parse_rules(same_text_other_audience).vacation) == base
    assert len({base, handle_for(parse_rules(EDITED).vacation), handle_for(parse_rules(MOVED).vacation)}) == 3


async def test_editing_the_message_lets_the_sender_get_the_new_one(tmp_path: Path) -> None:
    current: list[Rules] = [parse_rules(VACATION_TOML)]
    fake = FakePlatform()
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        outbox = Outbox(store, fake)
        pipeline = Pipeline(store, fake, lambda: current[0], {EXT: FakeBook()}, tmp_path, outbox=outbox)

        async def text(message_id: str) -> str | None:
            msg = InboundMessage.from_notification(envelope(message_id=message_id, sender=CHARLIE), "webhook")
            await pipeline.accept(msg)
            await pipeline.drain()
            await outbox.drain()
            stored = await store.find_message(EXT, message_id)
            assert stored is not None
            decision = await store.decision(stored.pk)
            return None if decision is None else decision.reason

        first, repeat = await text("800"), await text("801")
        current[0] = parse_rules(EDITED)
        after_edit, again = await text("802"), await text("803")
    assert (first, repeat, after_edit, again) == ("replied", "already-replied", "replied", "already-replied")
    assert [r["subject"] for r in fake.sent] == [
        "Hi Charlie, I'm away. Back soon.",
        "Hi Charlie, I'm away until Monday.",
    ]
