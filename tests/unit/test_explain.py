"""A stored decision in words (:func:`rcinbox.store.explain.explain`): every reason the decider can
give has its sentence (read from the decider's source, so a new reason without one fails here),
and each sentence says what the facts say, its times relative to ``now``."""

from __future__ import annotations

import ast
import importlib
import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rcinbox.rules import recheck as recheck_module
from rcinbox.store import DecisionRecord
from rcinbox.store.explain import SENTENCES, explain, relative

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
decide_module = importlib.import_module("rcinbox.rules.decide")  # (rcinbox.rules.decide: the function)


def reasons_the_decider_gives() -> set[str]:
    """Every reason string in rules/decide.py (``Decision(action, reason)``, ``_suppress(reason)``,
    ``_KIND_REASONS``) and the shared checks of rules/recheck.py it asks (``return "reason"``)."""
    found: set[str] = set(decide_module._KIND_REASONS.values())
    for node in ast.walk(ast.parse(inspect.getsource(decide_module))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = node.args
            if node.func.id == "Decision" and len(args) >= 2 and isinstance(args[1], ast.Constant):
                found.add(args[1].value)
            if node.func.id == "_suppress" and args and isinstance(args[0], ast.Constant):
                found.add(args[0].value)
    for function in (recheck_module.consent, recheck_module.window, recheck_module.audience):
        returns = [
            node for node in ast.walk(ast.parse(inspect.getsource(function))) if isinstance(node, ast.Return)
        ]
        for node in (inner for returned in returns for inner in ast.walk(returned)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_reason_of_the_decider_has_a_sentence() -> None:
    reasons = reasons_the_decider_gives()
    assert len(reasons) == 25 and {"replied", "loop-fuse", "not-a-contact", "opted-out"} <= reasons
    assert reasons == set(SENTENCES)


def record(reason: str, action: str = "suppress", **fields: Any) -> DecisionRecord:
    facts = fields.pop("facts", {})
    return DecisionRecord(
        action=action, reason=reason, handle=fields.pop("handle", "h1"), facts=facts, **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("decision", "sentence"),
    [
        (record("replied", "reply", reply_kind="vacation"), "replied with the vacation message"),
        (record("replied", "reply", reply_kind="urgent"), "replied with the urgent reply"),
        (record("replied", "reply"), "replied with the vacation message"),
        (record("opt-out", "opt-out"), "opted out: texted a stop keyword"),
        (
            record("opt-out-phrase", "opt-out", confidence=0.934),
            "opted out: asked to stop in their own words (93% sure)",
        ),
        (record("opt-in", "opt-in"), "opted back in: texted START"),
        (record("help-keyword"), "no reply: asked for help (HELP/INFO)"),
        (record("own-number"), "no reply: sent from one of your own numbers"),
        (record("company-number"), "no reply: sent from a number of your company"),
        (record("short-code"), "no reply: sent from a short code (an automated service)"),
        (record("alphanumeric-sender"), "no reply: the sender is a name, not a number"),
        (record("invalid-sender"), "no reply: the sender's number is hidden or invalid"),
        (record("group-message"), "no reply: a group text"),
        (record("no-receiving-number"), "no reply: no number of yours to answer from"),
        (record("opted-out"), "no reply: they had opted out"),
        (record("automated-sender"), "no reply: the text looks automated"),
        (
            record("possible-opt-out", confidence=0.71),
            "no reply: may be asking to stop (71% sure); worth a look",
        ),
        (
            record("too-old", facts={"age_s": 3 * 3600 + 5, "max_age_s": 3600.0}),
            "no reply: it was 3 hours old when it arrived (the limit is 1 hour)",
        ),
        (record("too-old"), "no reply: it was too old when it arrived"),
        (record("before-first-start"), "no reply: sent before rcinbox first started"),
        (record("vacation-off"), "no reply: the vacation auto-reply was off"),
        (
            record(
                "outside-window",
                decided_at=NOW - timedelta(days=3),
                facts={
                    "vacation": {"start": "2026-12-04T00:00:00+00:00", "end": "2026-12-10T00:00:00+00:00"}
                },
            ),
            "no reply: before the vacation window (it starts 1 day ago)",
        ),
        (
            record(
                "outside-window",
                decided_at=NOW,
                facts={
                    "vacation": {"start": "2026-11-20T00:00:00+00:00", "end": "2026-12-03T12:00:00+00:00"}
                },
            ),
            "no reply: after the vacation window (it ended 2 days ago)",
        ),
        (record("outside-window"), "no reply: outside the vacation window"),
        (record("blocklisted"), "no reply: the sender is on your blocklist"),
        (record("not-a-contact"), "no reply: not in your contacts (replies go to contacts only)"),
        (record("no-reply-needed", intent="thanks"), "no reply: none needed for a thank-you"),
        (record("no-reply-needed"), "no reply: none needed for this kind of text"),
        (
            record(
                "already-replied", facts={"last_replies": {"h1": "2026-12-03T09:00:00+00:00", "h2": None}}
            ),
            "no reply: already answered 2 days ago",
        ),
        (
            record(
                "already-replied", handle="h2", facts={"last_replies": {"h1": "2026-12-05T11:15:00+00:00"}}
            ),
            "no reply: already answered",
        ),
        (
            record("already-replied", facts={"replied_to_message": True}),
            "no reply: this text was already answered",
        ),
        (
            record("loop-fuse", facts={"automated_count": 5, "loop_fuse": {"count": 5, "per_s": 86400.0}}),
            "no reply: 5 automated texts to them within 1 day (the loop fuse)",
        ),
        (record("loop-fuse"), "no reply: too many automated texts to them lately (the loop fuse)"),
        (
            record("no-sender-credential"),
            "no reply: nothing may send for this extension (it would have replied)",
        ),
        (record("something-new", "suppress"), "suppress: something-new"),  # a newer rcinbox's reason
    ],
)
def test_each_decision_in_words(decision: DecisionRecord, sentence: str) -> None:
    assert explain(decision, NOW) == sentence


def test_times_relative_to_now() -> None:
    assert relative(NOW - timedelta(seconds=20), NOW) == "just now"
    assert relative(NOW - timedelta(minutes=1, seconds=5), NOW) == "1 minute ago"
    assert relative(NOW - timedelta(hours=5, minutes=59), NOW) == "5 hours ago"
    assert relative(NOW + timedelta(days=3, hours=1), NOW) == "in 3 days"
