"""The pipeline's part in smart replies, with a fake classifier (tests/kits/smart_kit.py): the
text is classified (the classifier built off the event loop, rebuilt when the rules change its
backend, an unloadable backend falling back to builtin), the classification and the ledger's
history reach the facts, the decision is recorded with the intent, confidence, backend and reply
kind, a fuzzy opt-out with its words and confidence, and an escalation is queued and sent once,
to the escalation number, without quoting the text."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pipeline_fakes import CHARLIE, EXT, OWNER, VACATION_TOML, FakeBook, FakePlatform, envelope
from smart_kit import FakeClassifier, fake_factory
from sqlalchemy import select

from rcinbox.events import InboundMessage
from rcinbox.intent import Backend
from rcinbox.rules import parse_rules
from rcinbox.rules.config import Rules
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline
from rcinbox.service.understanding import Understanding
from rcinbox.store import Store
from rcinbox.store.schema import opt_outs

BACKUP = "+16505550123"
SMART_TOML = (
    VACATION_TOML
    + f"""
[smart]
enabled = true
[smart.replies]
urgent = "Hi {{first_name}}, I'm away. Urgent? Call Sam."
appointment = "Hi {{first_name}}, I'm away. Book: https://cal.example/alex"
thanks = ""
[smart.escalate]
to = "{BACKUP}"
"""
)


class Rulebook:
    def __init__(self, text: str = SMART_TOML) -> None:
        self.rules = parse_rules(text)

    def __call__(self) -> Rules:
        return self.rules


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as opened:
        yield opened


def wired(
    store: Store, tmp_path: Path, rules: Rulebook | None = None
) -> tuple[Pipeline, Outbox, FakePlatform]:
    fake = FakePlatform()
    rulebook = rules or Rulebook()
    outbox = Outbox(store, fake, rules=rulebook)
    pipeline = Pipeline(
        store,
        fake,
        rulebook,
        {EXT: FakeBook()},
        tmp_path / "data",
        outbox=outbox,
        understanding=Understanding(fake_factory),
    )
    return pipeline, outbox, fake


async def text(pipeline: Pipeline, message_id: str, body: str) -> int:
    await pipeline.accept(
        InboundMessage.from_notification(envelope(message_id=message_id, text=body), "webhook")
    )  # type: ignore[arg-type]
    await pipeline.drain()
    found = await pipeline.store.find_message(EXT, message_id)
    assert found is not None
    return found.pk


async def test_the_classification_is_recorded_with_the_decision(store: Store, tmp_path: Path) -> None:
    pipeline, _, _ = wired(store, tmp_path)
    pk = await text(pipeline, "1", "URGENT: my card was stolen")
    decision = await store.decision(pk)
    assert decision is not None and decision.action == "reply"
    assert (decision.intent, decision.confidence, decision.backend) == ("urgent", 0.9, "builtin")
    assert decision.facts["classification"] == {"intent": "urgent", "confidence": 0.9, "backend": "builtin"}
    low = await text(pipeline, "2", "hmm")  # below min_confidence: acted on as "other"
    recorded = await store.decision(low)
    assert recorded is not None and (recorded.intent, recorded.confidence) == ("other", 0.3)
    assert (await store.verify_decisions()).ok


async def test_an_urgent_text_is_answered_and_escalated_once(store: Store, tmp_path: Path) -> None:
    pipeline, outbox, fake = wired(store, tmp_path)
    first = await text(pipeline, "1", "urgent!! my card was stolen, call me at 555-0100")
    assert await outbox.drain() == 2
    decision = await store.decision(first)
    assert decision is not None and (decision.reason, decision.intent, decision.reply_kind) == (
        "replied",
        "urgent",
        "urgent",
    )
    sent = [(r["from"]["phoneNumber"], r["to"][0]["phoneNumber"], r["subject"]) for r in fake.sent]
    assert sent[0] == (OWNER, CHARLIE, "Hi Charlie, I'm away. Urgent? Call Sam.")
    assert sent[1][:2] == (OWNER, BACKUP) and CHARLIE in sent[1][2] and "stolen" not in sent[1][2]
    assert (await store.message(first)).state == "done"
    second = await text(pipeline, "2", "urgent, still waiting")  # the same sender, same window
    assert await outbox.drain() == 0 and len(fake.sent) == 2
    again = await store.decision(second)
    assert again is not None and again.reason == "already-replied"
    assert again.facts["escalated_at"] is not None and list(again.facts["last_replies"])  # what it saw
    assert await store.outbox.for_message(second, "escalation") is None
    (entry, _) = await store.recent()
    assert (entry.intent, entry.escalation_to) == ("urgent", None)


async def test_a_vacation_replied_sender_still_gets_the_urgent_reply_once(
    store: Store, tmp_path: Path
) -> None:
    pipeline, outbox, fake = wired(store, tmp_path)
    reasons = []
    for i, body in enumerate(["hello there", "URGENT please call", "urgent!!"]):
        reasons.append((await store.decision(await text(pipeline, str(i), body))).reason)  # type: ignore[union-attr]
        await outbox.drain()
    assert reasons == ["replied", "replied", "already-replied"]
    assert [r["subject"] for r in fake.sent if r["to"][0]["phoneNumber"] == CHARLIE] == [
        "Hi Charlie, I'm away. Back soon.",
        "Hi Charlie, I'm away. Urgent? Call Sam.",
    ]


async def test_a_fuzzy_opt_out_is_recorded_with_its_words_and_confidence(
    store: Store, tmp_path: Path
) -> None:
    pipeline, outbox, fake = wired(store, tmp_path)
    borderline = await text(pipeline, "1", "maybe stop these?")
    review = await store.decision(borderline)
    assert review is not None and (review.action, review.reason) == ("suppress", "possible-opt-out")
    assert await store.opted_out(CHARLIE) is False
    words = "pls stop texting me"
    pk = await text(pipeline, "2", words)
    decision = await store.decision(pk)
    assert decision is not None and (decision.action, decision.intent, decision.confidence) == (
        "opt-out",
        "opt_out",
        0.95,
    )
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(opt_outs))).mappings().one()
    assert (row["state"], row["words"], row["confidence"]) == ("opted_out", words, 0.95)
    after = await store.decision(await text(pipeline, "3", "hello?"))
    assert after is not None and after.reason == "opted-out"
    keyword = await text(pipeline, "4", "STOP")  # an exact keyword: no confidence
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(opt_outs))).mappings().one()
    assert (row["words"], row["confidence"], (await store.decision(keyword)).action) == (
        "STOP",
        None,
        "opt-out",
    )  # type: ignore[union-attr]
    assert await outbox.drain() == 0 and fake.sent == []


async def test_a_queued_escalation_is_not_sent_once_the_window_closed(store: Store, tmp_path: Path) -> None:
    rulebook = Rulebook()
    pipeline, outbox, fake = wired(store, tmp_path, rulebook)
    pk = await text(pipeline, "1", "urgent")
    rulebook.rules = parse_rules(SMART_TOML.replace("enabled = true\nstart", "enabled = false\nstart", 1))
    await outbox.drain()
    escalation = await store.outbox.for_message(pk, "escalation")
    assert escalation is not None and escalation.state == "failed"
    assert escalation.last_error is not None and escalation.last_error.startswith("vacation-off:")
    assert fake.sent == []


class Recording:
    """A factory that records where it ran and can fail for one backend."""

    def __init__(self, failing: Backend | None = None) -> None:
        self.failing = failing
        self.loads: list[tuple[Backend, str]] = []

    def __call__(self, backend: Backend, model: Path | None) -> FakeClassifier:
        self.loads.append((backend, threading.current_thread().name))
        if backend == self.failing:
            raise ImportError("No module named 'onnxruntime'")
        return FakeClassifier(backend)


async def test_the_classifier_loads_off_the_loop_and_again_when_the_backend_changes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = Recording(failing="embeddings")
    understanding = Understanding(factory)
    builtin = parse_rules(SMART_TOML).smart
    embeddings = parse_rules(
        SMART_TOML.replace(
            "enabled = true\n[smart.replies]", 'enabled = true\nclassifier = "embeddings"\n[smart.replies]'
        )
    ).smart
    await understanding.ensure(builtin)
    await understanding.ensure(builtin)  # unchanged: not loaded again
    with caplog.at_level(logging.INFO, logger="rcinbox.service"):
        classified = await understanding.classify(embeddings, "urgent")
    assert classified is not None and classified.backend == "builtin"  # fell back
    assert [backend for backend, _ in factory.loads] == ["builtin", "embeddings", "builtin"]
    assert all(thread != threading.main_thread().name for _, thread in factory.loads)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "smart replies: the embeddings classifier could not be loaded (ImportError: No module named"
        " 'onnxruntime'); using builtin instead"
    ]
    await understanding.classify(embeddings, "again")  # the same rules: no second attempt, no second line
    assert len(factory.loads) == 3


async def test_without_a_classifier_texts_are_decided_unclassified(store: Store, tmp_path: Path) -> None:
    def none(backend: Backend, model: Path | None) -> FakeClassifier:
        raise RuntimeError("no classifiers in this build")

    pipeline, _, _ = wired(store, tmp_path)
    pipeline.understanding = Understanding(none)
    decision = await store.decision(await text(pipeline, "1", "urgent"))
    assert decision is not None and (decision.action, decision.intent, decision.reply_kind) == (
        "reply",
        None,
        None,
    )
