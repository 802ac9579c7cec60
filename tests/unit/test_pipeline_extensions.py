"""The pipeline and the outbox with rules per extension: a message is decided with its extension's
rules and re-checked with them before it is sent; "already replied" is per (extension, sender);
the loop fuse counts the automated texts of every extension."""

from __future__ import annotations

from pathlib import Path

from pipeline_fakes import CHARLIE, EXT, OWNER, FakeBook, FakePlatform, envelope

from rcinbox.events import InboundMessage
from rcinbox.rules import Rules, parse_rules
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline
from rcinbox.store import Store

BLAIR_EXT, BLAIR = "62264426016", "+16505550102"
THIRD_EXT, THIRD = "62264427016", "+16505550103"
# The file's vacation is off; Alex (EXT), Blair and a third user each switch their own on.
RULES = f"""
[vacation]
enabled = false
start = 2020-01-01T00:00:00
end = 2099-01-01T00:00:00
timezone = "UTC"
message = "Auto-reply: the office is closed."
audience = "everyone"
[safety]
loop_fuse = "2/24h"
[extensions."{EXT}".vacation]
enabled = true
message = "Auto-reply: Hi {{first_name}}, Alex is away."
[extensions."{BLAIR_EXT}".vacation]
enabled = true
message = "Auto-reply: Hi {{first_name}}, Blair is away."
[extensions."{THIRD_EXT}".vacation]
enabled = true
"""


def rules() -> Rules:
    return parse_rules(RULES)


def to(ext: str, number: str, mid: str, text: str = "Hi") -> InboundMessage:
    notification = envelope(message_id=mid, ext=ext, to=(number,), text=text)
    return InboundMessage.from_notification(notification, "webhook")


def make(store: Store, fake: FakePlatform, tmp_path: Path) -> tuple[Pipeline, Outbox]:
    fake.numbers[BLAIR_EXT] = [{"phoneNumber": BLAIR, "usageType": "DirectNumber"}]
    fake.numbers[THIRD_EXT] = [{"phoneNumber": THIRD, "usageType": "DirectNumber"}]
    outbox = Outbox(store, fake, rules=rules)
    books = {EXT: FakeBook(), BLAIR_EXT: FakeBook(), THIRD_EXT: FakeBook()}
    return Pipeline(store, fake, rules, books, tmp_path / "data", outbox=outbox), outbox


async def reasons(store: Store) -> dict[str, str | None]:
    return {e.message_id: e.reason for e in await store.recent()}


async def test_each_user_answers_with_their_own_rules_once_per_sender(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    pipeline, outbox = make(store, fake, tmp_path)
    await pipeline.accept(to(EXT, OWNER, "1"))
    await pipeline.accept(to(BLAIR_EXT, BLAIR, "2"))
    await pipeline.drain()
    assert await outbox.drain() == 2  # re-checked with each extension's rules: both go out
    await pipeline.accept(to(BLAIR_EXT, BLAIR, "3", "Hi again"))
    await pipeline.drain()
    assert await reasons(store) == {"1": "replied", "2": "replied", "3": "already-replied"}
    sent = [(r["from"]["phoneNumber"], r["to"][0]["phoneNumber"], r["subject"]) for r in fake.sent]
    assert sent == [
        (OWNER, CHARLIE, "Auto-reply: Hi Charlie, Alex is away."),
        (BLAIR, CHARLIE, "Auto-reply: Hi Charlie, Blair is away."),
    ]


async def test_two_users_on_the_files_one_vacation_each_answer_the_same_sender(
    store: Store, tmp_path: Path
) -> None:
    fake = FakePlatform()
    shared = RULES.split("[safety]")[0].replace("enabled = false", "enabled = true")  # no sections
    pipeline, outbox = make(store, fake, tmp_path)
    pipeline.rules = outbox.rules = lambda: parse_rules(shared)
    await pipeline.accept(to(EXT, OWNER, "1"))
    await pipeline.drain()
    await pipeline.accept(to(BLAIR_EXT, BLAIR, "2"))
    await pipeline.accept(to(EXT, OWNER, "3", "Hi again"))
    await pipeline.drain()
    await outbox.drain()
    # the same message, the same handle: Blair's reply is still Blair's first to Charlie
    assert await reasons(store) == {"1": "replied", "2": "replied", "3": "already-replied"}
    assert [(r["from"]["phoneNumber"], r["subject"]) for r in fake.sent] == [
        (OWNER, "Auto-reply: the office is closed."),
        (BLAIR, "Auto-reply: the office is closed."),
    ]


async def test_the_loop_fuse_counts_every_extensions_texts(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    pipeline, outbox = make(store, fake, tmp_path)
    for ext, number, mid in ((EXT, OWNER, "1"), (BLAIR_EXT, BLAIR, "2"), (THIRD_EXT, THIRD, "3")):
        await pipeline.accept(to(ext, number, mid))
        await pipeline.drain()
    await outbox.drain()
    # two automated texts went to Charlie (2/24h): the third user's reply is held back
    assert await reasons(store) == {"1": "replied", "2": "replied", "3": "loop-fuse"}
    assert len(fake.sent) == 2


async def test_an_extension_without_its_own_vacation_follows_the_file(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    pipeline, outbox = make(store, fake, tmp_path)
    other = "62264428016"
    fake.numbers[other] = [{"phoneNumber": "+16505550104", "usageType": "DirectNumber"}]
    pipeline.contact_books = {**pipeline.contact_books, other: FakeBook()}
    await pipeline.accept(to(other, "+16505550104", "1"))
    await pipeline.drain()
    assert await reasons(store) == {"1": "vacation-off"}
    assert await outbox.drain() == 0
