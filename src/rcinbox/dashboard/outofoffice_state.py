"""The Out of office editor's state: what the form shows for the rules file, and what a posted
form changes in it.

The form shows the file as it is (for an extension: its own values, and empty fields where it
inherits the file's defaults). Only the fields the user changed are written (string comparison
with what was shown), so an untouched value keeps its exact spelling and comment and an inherited
one stays inherited. The vacation fields are parsed by :mod:`rcinbox.dashboard.outofoffice_form`;
the smart fields (``smart_enabled`` and ``reply_<intent>``) here. The whole file is then checked by
the service's own rules parser (:func:`field_for` maps its error back to a field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rcinbox.dashboard.outofoffice_form import FIELDS, field_of, parse_form
from rcinbox.dashboard.rules_file import Value, edit
from rcinbox.errors import RulesError
from rcinbox.rules.model import Rules
from rcinbox.rules.smart_config import REPLY_INTENTS

SMART_ENABLED = "smart_enabled"
REPLY = "reply_"
INTENT_LABELS = {
    "urgent": "Urgent",
    "appointment": "Appointment or meeting",
    "question": "Question",
    "thanks": "Thanks",
    "help": "Asking for help",
}
ALL_FIELDS = (*FIELDS, SMART_ENABLED, *(REPLY + i for i in REPLY_INTENTS))


def key_of(name: str) -> str:
    """The dotted rules key of a form field (``vacation.start``, ``smart.replies.urgent``)."""
    if name == SMART_ENABLED:
        return "smart.enabled"
    if name.startswith(REPLY):
        return "smart.replies." + name.removeprefix(REPLY)
    return "vacation." + name


def repeat_text(repeat: timedelta | None) -> str:
    """``7d``, ``12h``, ``90m`` or ``once``: as the rules file spells a repeat interval."""
    if repeat is None:
        return "once"
    seconds = int(repeat.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


def _local(moment: datetime | None, rules: Rules) -> str:
    return moment.astimezone(rules.vacation.timezone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def values_of(rules: Rules) -> dict[str, str]:
    """Every field's value in ``rules``, as the form's inputs hold it."""
    v, smart = rules.vacation, rules.smart
    shown = {
        "enabled": "on" if v.enabled else "",
        "start": _local(v.start, rules),
        "end": _local(v.end, rules),
        "timezone": str(v.timezone),
        "message": v.message,
        "audience": v.audience,
        "repeat_after": repeat_text(v.repeat_after),
        SMART_ENABLED: "on" if smart.enabled else "",
    }
    shown.update({REPLY + i: smart.replies.get(i, "") for i in REPLY_INTENTS})
    return shown


@dataclass(frozen=True)
class Editor:
    """The form of one rules file for the defaults (``ext`` None) or one extension's section."""

    ext: str | None
    rules: Rules  # in effect for ext (its section over the defaults), or the defaults
    defaults: dict[str, str]  # the file's defaults, as the inputs hold them
    shown: dict[str, str]  # what the form shows ("" where an extension inherits)
    overridden: frozenset[str] = frozenset()

    def inherited(self, name: str) -> bool:
        return self.ext is not None and key_of(name) not in self.overridden


def editor_for(file_rules: Rules, ext: str | None) -> Editor:
    defaults = values_of(file_rules)
    if ext is None:
        return Editor(None, file_rules, defaults, dict(defaults))
    rules = file_rules.for_extension(ext)
    overridden = file_rules.overridden(ext)
    effective = values_of(rules)
    shown = {
        name: value
        if key_of(name) in overridden or name in ("enabled", SMART_ENABLED)  # a checkbox shows the value
        else ""
        for name, value in effective.items()
    }
    return Editor(ext, rules, defaults, shown, overridden)


def posted(form: Mapping[str, object]) -> dict[str, str]:
    """The form's fields as strings (a textarea's CRLF as LF; an unchecked box as "")."""
    return {name: str(form.get(name) or "").replace("\r\n", "\n") for name in ALL_FIELDS}


@dataclass
class Changes:
    vacation: dict[str, Value | None] = field(default_factory=dict)
    smart: dict[str, Value | None] = field(default_factory=dict)
    replies: dict[str, Value | None] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def apply(self, text: str, ext: str | None) -> str:
        for table, values in (
            ("vacation", self.vacation),
            ("smart", self.smart),
            ("smart.replies", self.replies),
        ):
            if values:
                text = edit(text, table, values, ext)
        return text


def changes(editor: Editor, form: Mapping[str, str]) -> Changes:
    """What the posted ``form`` changes (only the fields that differ from what was shown)."""
    changed = {name for name in ALL_FIELDS if form.get(name, "") != editor.shown[name]}
    parsed = parse_form(form, extension=editor.ext is not None)
    out = Changes(errors=dict(parsed.errors))
    out.vacation = {n: parsed.values[n] for n in FIELDS if n in changed and n in parsed.values}
    if SMART_ENABLED in changed:
        out.smart["enabled"] = form.get(SMART_ENABLED) == "on"
    for intent in REPLY_INTENTS:
        name = REPLY + intent
        if name in changed:
            out.replies[intent] = form.get(name, "").strip() or None  # empty: the vacation message
    return out


def field_for(error: RulesError) -> str:
    """The form field a rules-parser error is about (``"form"`` when it names none)."""
    for intent in REPLY_INTENTS:
        if f"smart.replies.{intent}" in error.reason:
            return REPLY + intent
    if "smart.enabled" in error.reason:
        return SMART_ENABLED
    return field_of(error)
