"""The rules as the rest of rcinbox reads them: frozen records built by :mod:`rcinbox.rules.config`
from the rules file, the file's defaults and each extension's effective rules
(:meth:`Rules.for_extension`, the ``[extensions."<id>"]`` sections of :mod:`rcinbox.rules.extensions`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from rcinbox.rules.smart_config import KEYS as SMART_KEYS
from rcinbox.rules.smart_config import Smart

Audience = Literal["contacts", "everyone"]
DEFAULT_REPEAT = timedelta(days=7)
DEFAULT_MAX_AGE = timedelta(hours=1)
# The tables of the rules file and their keys ("": the top level).
KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"vacation", "contacts", "safety", "smart", "extensions"}),
    "vacation": frozenset(
        {"enabled", "start", "end", "timezone", "message", "audience", "repeat_after", "values"}
    ),
    "contacts": frozenset({"allowlist", "blocklist", "company_numbers"}),
    "safety": frozenset({"loop_fuse", "max_age"}),
    **SMART_KEYS,
}


@dataclass(frozen=True)
class Vacation:
    enabled: bool = False
    start: datetime | None = None  # aware
    end: datetime | None = None  # aware, exclusive
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    message: str = ""
    audience: Audience = "contacts"
    repeat_after: timedelta | None = DEFAULT_REPEAT  # None = once per vacation window
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def active(self, now: datetime) -> bool:
        """Enabled and ``start <= now < end``."""
        if not self.enabled or self.start is None or self.end is None:
            return False
        return self.start <= now < self.end


@dataclass(frozen=True)
class ContactsRules:
    allowlist: frozenset[str] = frozenset()  # E.164
    blocklist: frozenset[str] = frozenset()  # E.164
    company_numbers: frozenset[str] = frozenset()  # E.164: colleagues, the main number… never answered


@dataclass(frozen=True)
class LoopFuse:
    count: int = 3
    per: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class ExtensionRules:
    """One ``[extensions."<id>"]`` section: the extension's effective rules (the file's defaults
    with the section's keys over them) and the keys the section sets (``"vacation.message"``,
    ``"vacation.values.backup_number"``, ``"smart.replies.urgent"``: dotted, as in the file)."""

    rules: Rules
    overrides: frozenset[str]


@dataclass(frozen=True)
class Rules:
    """The file's rules: its defaults (the fields) and the extensions' own (:attr:`extensions`)."""

    vacation: Vacation = field(default_factory=Vacation)
    smart: Smart = field(default_factory=Smart)
    contacts: ContactsRules = field(default_factory=ContactsRules)
    loop_fuse: LoopFuse = field(default_factory=LoopFuse)
    max_age: timedelta = DEFAULT_MAX_AGE  # older when it reached rcinbox (e.g. caught up): "too-old"
    # extension id → its section (only the extensions the file names; the others get the defaults)
    extensions: Mapping[str, ExtensionRules] = field(default_factory=lambda: MappingProxyType({}))

    def for_extension(self, extension_id: str) -> Rules:
        """The rules that hold for ``extension_id``: its section over the file's defaults, or the
        defaults when the file has no section for it (either way without :attr:`extensions`)."""
        section = self.extensions.get(extension_id)
        if section is not None:
            return section.rules
        return self if not self.extensions else dataclasses.replace(self, extensions=MappingProxyType({}))

    def overridden(self, extension_id: str) -> frozenset[str]:
        """The dotted keys ``extension_id``'s section sets (empty: it follows the defaults)."""
        section = self.extensions.get(extension_id)
        return section.overrides if section is not None else frozenset()
