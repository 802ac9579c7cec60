"""Segment budget: warnings about the vacation message (the file's and each extension's own), shown
at start and on every reload.

The message is rendered with worst-case realistic values (a long first and last name, the real
return date) and checked the way it will be sent: typographic quotes and dashes are transliterated
to GSM-7 when that makes the whole text GSM-7 (a note says which characters were replaced); a text
that still needs UCS-2 is reported with the offending characters; more than one segment is reported
with the length. A message that does not start with an "Auto-reply:" style tag is reported too
(people and other bots must be able to recognise an automatic answer).
"""

from __future__ import annotations

import re

from rcinbox.rules.config import Rules
from rcinbox.rules.reply import reply_values
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

__all__ = ["LONG_FIRST_NAME", "LONG_LAST_NAME", "budget_warnings"]
_TAG = re.compile(r"^\W*(?:auto(?:matic|mated)?[\s-]?(?:reply|response|message)|auto)\b", re.IGNORECASE)


def budget_warnings(rules: Rules) -> list[str]:
    """Human-readable warnings about the vacation message (empty when it is fine or disabled), the
    file's and then each extension's whose own differ (``extensions."<id>": …``)."""
    defaults = _warnings(rules)
    warnings = list(defaults)
    for extension_id in sorted(rules.extensions):
        own = _warnings(rules.for_extension(extension_id))
        if own != defaults:
            warnings += [f'extensions."{extension_id}": {warning}' for warning in own]
    return warnings


def _warnings(rules: Rules) -> list[str]:
    vacation = rules.vacation
    if not vacation.enabled or not vacation.message.strip():
        return []
    rendered = render(vacation.message, reply_values(rules, LONG_FIRST_NAME, LONG_LAST_NAME))
    sent = fit(rendered)
    warnings: list[str] = []
    if sent != rendered:
        replaced = non_gsm_chars(rendered)
        warnings.append(
            f"vacation.message: {describe(replaced)} will be sent as GSM-7 look-alikes "
            "(straight quotes, hyphens, ...) so the reply stays in GSM-7"
        )
    if encoding(sent) == "UCS-2":
        warnings.append(
            f"vacation.message needs UCS-2 because of {describe(non_gsm_chars(sent))}: "
            f"one segment then holds only {UCS2_SINGLE} characters"
        )
    count = segments(sent)
    if count > 1:
        limit = GSM7_SINGLE if encoding(sent) == "GSM-7" else UCS2_SINGLE
        warnings.append(
            f"vacation.message is {units(sent)} characters ({encoding(sent)}) with a long name "
            f"({LONG_FIRST_NAME} {LONG_LAST_NAME}): {count} segments per reply; keep it within {limit} "
            "to send one"
        )
    if not _TAG.match(vacation.message):
        warnings.append('vacation.message does not start with "Auto-reply:"; an automatic text should say so')
    return warnings
