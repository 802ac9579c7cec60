"""Reply rules: configuration, templates, SMS encoding, keywords, robot detection and the decision.

Everything here is pure (no network, no database); the only I/O is reading the rules file.
"""

from __future__ import annotations

from rcinbox.numbers import to_e164
from rcinbox.rules.budget import budget_warnings
from rcinbox.rules.config import ContactsRules, LoopFuse, Rules, Vacation, load_rules, parse_rules
from rcinbox.rules.decide import Decision, Facts, decide
from rcinbox.rules.optout import classify_keyword
from rcinbox.rules.robots import looks_automated, sender_kind
from rcinbox.rules.template import render
from rcinbox.rules.watcher import RulesWatcher

__all__ = [
    "ContactsRules",
    "Decision",
    "Facts",
    "LoopFuse",
    "Rules",
    "RulesWatcher",
    "Vacation",
    "budget_warnings",
    "classify_keyword",
    "decide",
    "load_rules",
    "looks_automated",
    "parse_rules",
    "render",
    "sender_kind",
    "to_e164",
]
