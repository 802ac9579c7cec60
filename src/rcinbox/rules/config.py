"""The reply rules: the TOML file, its validation (with line numbers) and its reloading.

File format (every table and key is optional; a missing file means "vacation off")::

    [vacation]
    enabled = true
    start = 2026-12-20T00:00:00          # local time in `timezone` (TOML local date-time or date)
    end = 2027-01-04T08:00:00            # exclusive: the first moment you are back
    timezone = "America/New_York"        # IANA name; required when start/end are local
    message = "Auto-reply: Hi {first_name}, I'm away until {return_date}."
    audience = "contacts"                # "contacts" (address book + allowlist) or "everyone"
    repeat_after = "7d"                  # per sender: "<n>w|d|h|m" (at least 1h) or "once" per window
    [vacation.values]                    # extra {placeholders} for the message
    backup_number = "+16505550123"
    [contacts]
    allowlist = ["+14155550111"]         # count as contacts (audience "contacts")
    blocklist = []                       # never get an automated text
    company_numbers = ["+16505550199"]   # colleagues' and company numbers the platform cannot list
    [safety]
    loop_fuse = "3/24h"                  # at most 3 automated texts per counterpart per 24 h (max 10)
    max_age = "1h"                       # a text older than this when rcinbox gets it is not answered
    [extensions."62264426016".vacation]  # one extension's own: its keys over the defaults above
    message = "Auto-reply: Blair is away until {return_date}."

The tables above are the file's defaults; an ``[extensions."<extension id>"]`` section gives one
extension its own ``vacation`` and ``smart`` keys, key by key (:mod:`rcinbox.rules.extensions`);
:meth:`Rules.for_extension` is what holds for an extension.

Validation is strict because a typo must never silently disable a safety rule: unknown tables and
keys, wrong types, an end not after its start, a local time that does not exist (DST gap), an unknown
placeholder, a stray brace, a number that is not a valid phone number, a repeat interval under one
hour (RFC 3834 asks for days; an interval of 0 is refused outright) all raise :class:`RulesError`
with the file, the line of the offending key (or value) and the reason, e.g.
``rcinbox.toml:7: vacation.end must be after vacation.start``.

Lines are found by :mod:`rcinbox.rules.lines`; reloading is
:class:`rcinbox.rules.watcher.RulesWatcher`; segment-budget warnings are
:func:`rcinbox.rules.budget.budget_warnings`.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rcinbox.errors import RulesError
from rcinbox.numbers import to_e164
from rcinbox.rules.extensions import Section, sections
from rcinbox.rules.lines import find_line, syntax_error
from rcinbox.rules.model import KEYS, ContactsRules, ExtensionRules, LoopFuse, Rules, Vacation
from rcinbox.rules.smart_config import Smart, parse_smart
from rcinbox.rules.template import TemplateError, placeholders
from rcinbox.rules.values import worst_case_values

__all__ = [
    "ContactsRules",
    "ExtensionRules",
    "LoopFuse",
    "Rules",
    "Smart",
    "Vacation",
    "load_rules",
    "parse_rules",
]

BUILTIN_PLACEHOLDERS = ("first_name", "last_name", "name", "return_date", "return_time")
MIN_REPEAT = timedelta(hours=1)
MAX_FUSE_COUNT = 10
MIN_MAX_AGE = timedelta(minutes=5)  # below this, a normal WebSocket recovery replay would count as late
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_INTERVAL = re.compile(r"(\d+)\s*([wdhm])")
_FUSE = re.compile(r"(\d+)\s*/\s*(\d+)\s*([wdhm])")


def load_rules(path: Path | str) -> Rules:
    """Read and validate the rules file; a missing file gives the defaults (vacation off)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Rules()
    except OSError as exc:
        raise RulesError(path, None, f"cannot read the rules file: {exc.strerror or exc}") from exc
    return parse_rules(data, path)


def parse_rules(data: bytes | str, path: Path | str = "rcinbox.toml") -> Rules:
    """Validate rules given as TOML text; :class:`RulesError` names the line and the reason."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RulesError(path, None, f"the file is not UTF-8 (byte {exc.start})") from None
    try:
        doc = tomllib.loads(data)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(path, str(exc)) from None
    return _Parser(data, Path(path)).rules(doc)


class _Parser:
    """Validation of a parsed document, with the text at hand to find lines."""

    def __init__(self, text: str, path: Path, section: Section | None = None) -> None:
        self.text = text
        self.path = path
        self.section = section  # validating an extension's effective rules: errors name it

    def fail(self, table: str, key: str | None, reason: str, value: str | None = None) -> RulesError:
        if self.section is not None:
            line = self.section.line(self.text, table, key, value)
            return RulesError(self.path, line, f"{self.section.label}: {reason}")
        return RulesError(self.path, find_line(self.text, table, key, value), reason)

    def rules(self, doc: Mapping[str, Any]) -> Rules:
        """The file's defaults, and each ``[extensions."<id>"]`` section over them (validated alike)."""
        self.check_keys("", doc)
        defaults = {name: value for name, value in doc.items() if name != "extensions"}
        rules = self.defaults(defaults)
        extensions = {
            section.extension_id: ExtensionRules(
                _Parser(self.text, self.path, section).defaults(section.over(defaults)), section.overrides()
            )
            for section in sections(doc, self.text, self.path)
        }
        return dataclasses.replace(rules, extensions=MappingProxyType(extensions)) if extensions else rules

    def defaults(self, doc: Mapping[str, Any]) -> Rules:
        vacation = self.table(doc, "vacation")
        contacts = self.table(doc, "contacts")
        safety = self.table(doc, "safety")
        smart = self.table(doc, "smart")
        parsed = self.vacation(vacation)
        lists = ContactsRules(
            allowlist=self.numbers(contacts, "allowlist"),
            blocklist=self.numbers(contacts, "blocklist"),
            company_numbers=self.numbers(contacts, "company_numbers"),
        )
        sample = worst_case_values(parsed.values, parsed.end, parsed.timezone)
        return Rules(
            vacation=parsed,
            smart=parse_smart(
                smart, self.fail, self.template_checker(parsed.values), sample, lists.blocklist
            ),
            contacts=lists,
            loop_fuse=self.loop_fuse(safety),
            max_age=self.max_age(safety),
        )

    def table(self, doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail("", name, f"{name} must be a table ([{name}])")
        self.check_keys(name, value)
        return value

    def check_keys(self, table: str, value: Mapping[str, Any]) -> None:
        for key in value:
            if key not in KEYS[table]:
                known = ", ".join(sorted(KEYS[table]))
                where = f"[{table}]" if table else "the top level"
                name = f"{table}.{key}" if table else key
                raise self.fail(table, key, f"unknown key {name!r} in {where} (known: {known})")

    def vacation(self, raw: Mapping[str, Any]) -> Vacation:
        enabled = self.typed(raw, "enabled", bool, False)
        tz = self.timezone(raw)
        start, end = self.moment(raw, "start", tz), self.moment(raw, "end", tz)
        if enabled and (start is None or end is None):
            missing = "start" if start is None else "end"
            raise self.fail(
                "vacation",
                "enabled",
                f"vacation.{missing} is required when vacation.enabled = true (replies only run in a window)",
            )
        if start is not None and end is not None and end <= start:
            raise self.fail("vacation", "end", "vacation.end must be after vacation.start")
        values = self.values(raw)
        message = self.typed(raw, "message", str, "")
        if enabled and not message.strip():
            raise self.fail("vacation", "message", "vacation.message is empty")
        self.check_template(message, values)
        audience = self.typed(raw, "audience", str, "contacts")
        if audience not in ("contacts", "everyone"):
            raise self.fail(
                "vacation",
                "audience",
                f'vacation.audience must be "contacts" or "everyone", not {audience!r}',
            )
        return Vacation(
            enabled=enabled,
            start=start,
            end=end,
            timezone=tz or ZoneInfo("UTC"),
            message=message,
            audience="contacts" if audience == "contacts" else "everyone",
            repeat_after=self.repeat_after(raw),
            values=MappingProxyType(values),
        )

    def typed(self, raw: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
        value = raw.get(key, default)
        if not isinstance(value, kind):
            names = {bool: "true or false", str: "a string"}
            raise self.fail("vacation", key, f"vacation.{key} must be {names.get(kind, kind.__name__)}")
        return value

    def timezone(self, raw: Mapping[str, Any]) -> ZoneInfo | None:
        name = raw.get("timezone")
        if name is None:
            return None
        if not isinstance(name, str):
            raise self.fail(
                "vacation", "timezone", 'vacation.timezone must be a string like "America/New_York"'
            )
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                "vacation",
                "timezone",
                f'unknown time zone {name!r} (use an IANA name like "America/New_York")',
            ) from None

    def moment(self, raw: Mapping[str, Any], key: str, tz: tzinfo | None) -> datetime | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise self.fail(
                    "vacation", key, f"vacation.{key} must be a date-time like 2026-12-20T00:00:00"
                ) from None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time())
        if not isinstance(value, datetime):
            raise self.fail("vacation", key, f"vacation.{key} must be a date-time like 2026-12-20T00:00:00")
        if value.tzinfo is not None:
            return value.astimezone(tz) if tz is not None else value
        if tz is None:
            raise self.fail("vacation", key, f"vacation.{key} is a local time: set vacation.timezone")
        return self.localize(value, tz, key)

    def localize(self, naive: datetime, tz: tzinfo, key: str) -> datetime:
        aware = naive.replace(tzinfo=tz)
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
            raise self.fail(
                "vacation",
                key,
                f"vacation.{key} {naive.isoformat()} does not exist in {tz} (the clocks skip it)",
            )
        return aware

    def repeat_after(self, raw: Mapping[str, Any]) -> timedelta | None:
        value = raw.get("repeat_after", "7d")
        if not isinstance(value, str):
            raise self.fail(
                "vacation", "repeat_after", 'vacation.repeat_after must be a string like "7d" or "once"'
            )
        text = value.strip().lower()
        if text == "once":
            return None
        interval = parse_interval(text)
        if interval is None:
            raise self.fail(
                "vacation",
                "repeat_after",
                f'vacation.repeat_after {value!r} is not like "7d", "12h", "90m" or "once"',
            )
        if interval < MIN_REPEAT:
            raise self.fail(
                "vacation",
                "repeat_after",
                f"vacation.repeat_after {value!r} is below the 1h minimum (a short interval lets two "
                'auto-responders ping-pong; 7d is recommended, "once" answers once per vacation)',
            )
        return interval

    def values(self, raw: Mapping[str, Any]) -> dict[str, str]:
        table = raw.get("values", {})
        if not isinstance(table, Mapping):
            raise self.fail("vacation", "values", "vacation.values must be a table ([vacation.values])")
        values: dict[str, str] = {}
        for key, value in table.items():
            if key in BUILTIN_PLACEHOLDERS:
                raise self.fail(
                    "vacation.values", key, f"vacation.values.{key} is built in and cannot be set"
                )
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise self.fail("vacation.values", key, f"vacation.values key {key!r} is not a plain name")
            if not isinstance(value, str):
                raise self.fail("vacation.values", key, f"vacation.values.{key} must be a string")
            values[key] = value
        return values

    def check_template(
        self, message: str, values: Mapping[str, str], table: str = "vacation", key: str = "message"
    ) -> None:
        try:
            names = placeholders(message)
        except TemplateError as exc:
            raise self.fail(table, key, f"{table}.{key}: {exc}") from None
        allowed = (*BUILTIN_PLACEHOLDERS, *values)
        for name in names:
            if name not in allowed:
                raise self.fail(
                    table,
                    key,
                    f"{table}.{key} uses {{{name}}}, which has no value (use {', '.join(allowed)} "
                    "or add it to [vacation.values])",
                )

    def template_checker(self, values: Mapping[str, str]) -> Callable[[str, str, str], None]:
        return lambda table, key, text: self.check_template(text, values, table, key)

    def numbers(self, raw: Mapping[str, Any], key: str) -> frozenset[str]:
        items = raw.get(key, [])
        if not isinstance(items, list):
            raise self.fail(
                "contacts", key, f'contacts.{key} must be a list of numbers like ["+14155550111"]'
            )
        numbers: set[str] = set()
        for item in items:
            e164 = to_e164(item) if isinstance(item, str) else None
            if e164 is None:
                shown = item if isinstance(item, str) else repr(item)
                raise self.fail(
                    "contacts", key, f"contacts.{key}: {item!r} is not a valid phone number", shown
                )
            numbers.add(e164)
        return frozenset(numbers)

    def loop_fuse(self, raw: Mapping[str, Any]) -> LoopFuse:
        value = raw.get("loop_fuse", "3/24h")
        match = _FUSE.fullmatch(value.strip().lower()) if isinstance(value, str) else None
        if match is None:
            raise self.fail("safety", "loop_fuse", f'safety.loop_fuse must be like "3/24h", not {value!r}')
        count, per = int(match.group(1)), int(match.group(2)) * _UNITS[match.group(3)]
        if not 1 <= count <= MAX_FUSE_COUNT or per < MIN_REPEAT:
            raise self.fail(
                "safety",
                "loop_fuse",
                f"safety.loop_fuse {value!r} is out of range (1 to {MAX_FUSE_COUNT} texts per at least 1h)",
            )
        return LoopFuse(count=count, per=per)

    def max_age(self, raw: Mapping[str, Any]) -> timedelta:
        value = raw.get("max_age", "1h")
        age = parse_interval(value) if isinstance(value, str) else None
        if age is None or age < MIN_MAX_AGE:
            raise self.fail(
                "safety", "max_age", f'safety.max_age must be like "1h" (at least 5m), not {value!r}'
            )
        return age


def parse_interval(text: str) -> timedelta | None:
    """``"7d"`` → 7 days; ``"0"`` → 0; ``None`` when malformed."""
    text = text.strip().lower()
    if text == "0":
        return timedelta(0)
    match = _INTERVAL.fullmatch(text)
    return int(match.group(1)) * _UNITS[match.group(2)] if match else None
