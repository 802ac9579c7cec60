"""Per-extension rules: the ``[extensions."<extension id>"]`` sections of the rules file.

A super admin receiving for several extensions gives each user their own vacation::

    [vacation]                              # the file's defaults: every extension without its own
    enabled = false
    timezone = "America/New_York"
    [vacation.values]
    backup_number = "+16505550123"

    [extensions."62264426016".vacation]     # ext 102's own window and message
    enabled = true
    start = 2026-12-20T00:00:00
    end = 2027-01-04T08:00:00
    message = "Auto-reply: Blair is away until {return_date}. Urgent: {backup_number}."
    [extensions."62264426016".vacation.values]
    backup_number = "+16505550177"
    [extensions."62264426016".smart.replies]
    urgent = "Auto-reply: Blair is away until {return_date}. Urgent? Call {backup_number}."

**Key by key.** An extension's section may hold ``vacation`` and ``smart`` (with their sub-tables
``vacation.values``, ``smart.replies`` and ``smart.escalate``). Every key it sets replaces the
file's value of that key for that extension, and only that key: a sub-table is merged key by key
too (one placeholder value, one intent's reply). What it does not set is the file's
(:meth:`Section.over`). ``[contacts]`` and ``[safety]`` are file-wide (the blocklist and the loop
fuse protect a counterpart whichever user it texts), as are ``smart.classifier`` and
``smart.model`` (one classifier reads every text); setting them in a section is an error.

**Validation.** Each extension's effective rules are validated like the file's own, and an
error names the extension and the line in its section, e.g.
``rcinbox.toml:14: extensions."62264426016": vacation.end must be after vacation.start``; a key
the section does not know is an error like everywhere else in the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rcinbox.errors import RulesError
from rcinbox.rules.lines import find_line, first_header
from rcinbox.rules.model import KEYS

TABLES = ("smart", "vacation")  # what an extension's section may hold
FILE_WIDE = {
    "contacts": "the contacts lists hold for every extension",
    "safety": "the safety rules protect a counterpart whichever extension texts it",
    "smart.classifier": "one classifier reads every text",
    "smart.model": "one classifier reads every text",
}
_ID = re.compile(r"[0-9]+")
_EXAMPLE = '[extensions."62264426016".vacation]'


@dataclass(frozen=True)
class Section:
    """One extension's section, as written (validated by :func:`sections`)."""

    extension_id: str
    raw: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f'extensions."{self.extension_id}"'

    def over(self, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """The file's top-level tables (``defaults``) with this section's keys over them."""
        return _merge(defaults, self.raw)

    def overrides(self) -> frozenset[str]:
        """The dotted keys the section sets (``"vacation.message"``, ``"smart.replies.urgent"``)."""
        return frozenset(_leaves(self.raw, ""))

    def line(self, text: str, table: str, key: str | None, value: str | None = None) -> int | None:
        """Where an error about ``table.key`` of the extension's effective rules points: the key in
        this section when the section sets it, else the nearest table of the section."""
        parts = table.split(".") if table else []
        node: Any = self.raw
        for part in parts:
            node = node.get(part) if isinstance(node, Mapping) else None
        if key is not None and isinstance(node, Mapping) and key in node:
            found = find_line(text, self._table(parts), key, value)
            if found is not None:
                return found
        while parts:
            found = find_line(text, self._table(parts), None)
            if found is not None:
                return found
            parts.pop()
        return find_line(text, self._table([]), None) or first_header(text, self._table([]))

    def error(self, path: Path | str, text: str, table: str, key: str | None, reason: str) -> RulesError:
        return RulesError(path, self.line(text, table, key), f"{self.label}: {reason}")

    def _table(self, parts: list[str]) -> str:
        return ".".join(("extensions", self.extension_id, *parts))


def sections(doc: Mapping[str, Any], text: str, path: Path | str) -> list[Section]:
    """The ``[extensions."<id>"]`` sections of the parsed file, their layout checked: an extension
    id (digits), tables where tables belong, only known and per-extension keys."""
    table = doc.get("extensions", {})
    if not isinstance(table, Mapping):
        reason = f"extensions must be a table of extension ids, like {_EXAMPLE}"
        raise RulesError(path, find_line(text, "", "extensions"), reason)
    found = []
    for extension_id, raw in table.items():
        section = Section(extension_id, raw if isinstance(raw, Mapping) else {})
        if not _ID.fullmatch(extension_id):
            raise section.error(
                path, text, "", None, f"{extension_id!r} is not an extension id (digits, like {_EXAMPLE})"
            )
        if not isinstance(raw, Mapping):
            raise section.error(path, text, "", None, f"must be a table, like {_EXAMPLE}")
        _check_layout(section, text, path)
        found.append(section)
    return found


def _check_layout(section: Section, text: str, path: Path | str) -> None:
    label = section.label
    for name, value in section.raw.items():
        if name in FILE_WIDE:
            reason = f"[{name}] is file-wide ({FILE_WIDE[name]}): set it in [{name}], not in [{label}.{name}]"
            raise section.error(path, text, "", name, reason)
        if name not in TABLES:
            known = ", ".join(TABLES)
            raise section.error(path, text, "", name, f"unknown key {name!r} in [{label}] (known: {known})")
        if not isinstance(value, Mapping):
            raise section.error(path, text, "", name, f"{name} must be a table ([{label}.{name}])")
        for key in value:
            dotted = f"{name}.{key}"
            if dotted in FILE_WIDE:
                reason = f"{dotted} is file-wide ({FILE_WIDE[dotted]}): set it in [{name}]"
                raise section.error(path, text, name, key, reason)
            if key not in KEYS[name]:
                known = ", ".join(sorted(k for k in KEYS[name] if f"{name}.{k}" not in FILE_WIDE))
                reason = f"unknown key {dotted!r} in [{label}.{name}] (known: {known})"
                raise section.error(path, text, name, key, reason)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merge(below, value)
        else:
            merged[key] = value
    return merged


def _leaves(table: Mapping[str, Any], prefix: str) -> list[str]:
    keys: list[str] = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        keys.extend(_leaves(value, f"{dotted}.") if isinstance(value, Mapping) else [dotted])
    return keys
