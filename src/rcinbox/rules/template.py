"""Reply templates: ``{name}`` placeholders that vanish cleanly when they have no value.

Syntax: ``{identifier}`` is a placeholder, ``{{`` and ``}}`` are literal braces, any other brace is
an error (:class:`TemplateError`, raised by :func:`placeholders`; the rules loader reports it with
the line). A value that is missing, empty or only whitespace removes the placeholder *and* the
separator it leaves behind, so the text reads as if it had been written without it:

    "Hi {first_name}, thanks"   → "Hi, thanks"
    "Hi {first_name}. Thanks"   → "Hi. Thanks"
    "{first_name}, call me"     → "Call me"          (leading separator dropped, sentence capitalised)
    "Thanks, {first_name}."     → "Thanks."
    "Call me ({phone}) today"   → "Call me today"    (empty brackets go too)

Only the seams around a removed placeholder are touched; the rest of the template is kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
_GAP = "\x00"  # marks where a placeholder without a value was
_HSPACE = " \t"
_SEPARATORS = ",;:"
_ENDERS = ".!?"


class TemplateError(ValueError):
    """The template has a stray brace or a malformed placeholder."""


def placeholders(template: str) -> list[str]:
    """The placeholder names in order of appearance (duplicates kept); ``TemplateError`` on stray braces."""
    names: list[str] = []
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if match.group(1):
            names.append(match.group(1))
        elif token in ("{", "}"):
            col = match.start() + 1
            raise TemplateError(
                f"stray {token!r} at character {col} "
                f"(write {{name}} for a placeholder, {token * 2} for a brace)"
            )
    return names


def render(template: str, values: Mapping[str, str | None]) -> str:
    """Fill ``{name}`` placeholders from ``values``; placeholders without a value vanish cleanly."""
    placeholders(template)  # validate

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        value = values.get(match.group(1))
        value = value.replace(_GAP, "").strip() if value else ""
        return value or _GAP

    return _close_gaps(_TOKEN.sub(substitute, template))


def _close_gaps(text: str) -> str:
    while (index := text.find(_GAP)) >= 0:
        left, right = text[:index].rstrip(_HSPACE), text[index + 1 :].lstrip(_HSPACE)
        spaced = len(left) + len(right) + 1 < len(text)
        if left.endswith("(") and right.startswith(")"):
            text = left[:-1].rstrip(_HSPACE) + _GAP + right[1:]
            continue
        text = _join(left, right, spaced)
    return text


def _join(left: str, right: str, spaced: bool) -> str:
    last = left[-1:] or "\n"
    first = right[:1] or "\n"
    punct = _SEPARATORS + _ENDERS
    if last == "\n" or last in _ENDERS:  # the gap starts a sentence (or the text)
        if first in punct:
            right = right[1:].lstrip(_HSPACE)
        right = right[:1].upper() + right[1:]
        glue = "" if last == "\n" or not right or right[0] == "\n" else " "
        return left + glue + right
    if last in _SEPARATORS and (first in punct or first == "\n"):
        return left[:-1] + right
    if first in punct or first in ")\n" or (first == _GAP and not spaced):
        return left + right
    return left + (" " if spaced else "") + right
