"""The Out of office form: posted fields to rules-file values, with one error line per field.

Field names are the rules keys (``enabled``, ``start``, ``end``, ``timezone``, ``message``,
``audience``, ``repeat_after``). A field posted empty on an extension's form means "inherit the
file's default" (the key is removed from the extension's section). Whole-file checks are left to
the service's rules parser (:func:`field_of` maps its error back to a field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rcinbox.dashboard.rules_file import Value
from rcinbox.errors import RulesError

FIELDS = ("enabled", "start", "end", "timezone", "message", "audience", "repeat_after")
AUDIENCES = ("contacts", "everyone")


@dataclass
class Parsed:
    values: dict[str, Value | None] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_form(form: Mapping[str, str], *, extension: bool) -> Parsed:
    """The posted form as values for the ``vacation`` table, or per-field errors."""
    out = Parsed()
    out.values["enabled"] = form.get("enabled") == "on"
    for name in ("start", "end"):
        raw = form.get(name, "").strip()
        if not raw:
            out.values[name] = None
            continue
        try:
            out.values[name] = datetime.fromisoformat(raw).replace(second=0, microsecond=0, tzinfo=None)
        except ValueError:
            out.errors[name] = "Use a date and time, e.g. 2026-12-20T09:00."
    zone = form.get("timezone", "").strip()
    if zone:
        if zone not in available_timezones():
            out.errors["timezone"] = f"Unknown time zone {zone!r}."
        else:
            out.values["timezone"] = zone
    else:
        out.values["timezone"] = None
    message = form.get("message", "")
    out.values["message"] = message if message.strip() or not extension else None
    audience = form.get("audience", "")
    if audience and audience not in AUDIENCES:
        out.errors["audience"] = "Choose contacts or everyone."
    out.values["audience"] = audience or None
    out.values["repeat_after"] = form.get("repeat_after", "").strip() or None
    start, end = out.values.get("start"), out.values.get("end")
    if isinstance(start, datetime) and isinstance(end, datetime) and end <= start:
        out.errors["end"] = "The end must be after the start."
    return out


def field_of(error: RulesError) -> str:
    """The form field a rules-parser error is about (``"form"`` when it names none)."""
    found = [(error.reason.find(f"vacation.{name}"), name) for name in FIELDS]
    named = sorted((at, name) for at, name in found if at >= 0)
    return named[0][1] if named else "form"


def zone_choices(current: str | None) -> list[str]:
    """IANA zones for the select, the current one first."""
    zones = sorted(available_timezones())
    try:
        ZoneInfo(current or "")
    except (ZoneInfoNotFoundError, ValueError):
        return zones
    return [current or "", *[z for z in zones if z != current]]
