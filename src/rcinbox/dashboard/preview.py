"""The Out of office preview: a message rendered for one contact, with its SMS cost.

It uses the service's own personalisation (:func:`rcinbox.rules.reply.compose`) and GSM-7 logic
(:mod:`rcinbox.rules.sms`), so what the owner sees is what a sender would be sent. The counter
describes the text as typed and rendered; ``sent`` is what actually goes out (``fit`` may swap a
curly apostrophe for a straight one), and ``breakers`` are the characters that force UCS-2.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from rcinbox.rules import sms
from rcinbox.rules.model import Rules
from rcinbox.rules.reply import compose, reply_values
from rcinbox.rules.template import render


@dataclass(frozen=True)
class Preview:
    rendered: str  # the template filled in for the contact, as typed
    sent: str  # what the service sends
    encoding: str
    segments: int
    characters: int
    breakers: list[str]

    @property
    def sent_encoding(self) -> str:
        return sms.encoding(self.sent)

    @property
    def sent_segments(self) -> int:
        return sms.segments(self.sent)

    def highlighted(self) -> Markup:
        """``rendered`` as HTML with each GSM-7 breaker wrapped in ``<mark>``."""
        bad = set(self.breakers)
        parts = [
            Markup('<mark class="gsm-breaker" title="not GSM-7: {}">{}</mark>').format(f"U+{ord(c):04X}", c)
            if c in bad
            else escape(c)
            for c in self.rendered
        ]
        return Markup("").join(parts)


def preview(rules: Rules, template: str, first_name: str | None, last_name: str | None = None) -> Preview:
    rendered = render(template, reply_values(rules, first_name, last_name))
    return Preview(
        rendered=rendered,
        sent=compose(rules, first_name, last_name, template=template),
        encoding=sms.encoding(rendered),
        segments=sms.segments(rendered),
        characters=sms.units(rendered),
        breakers=sms.non_gsm_chars(rendered),
    )
