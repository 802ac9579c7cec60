"""Rules reloading: the last good rules, swapped when the file changes; a bad edit is ignored.

A reload logs the new budget warnings; an invalid edit logs the file, line and reason once and keeps
the previous rules until the file is fixed.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from rcinbox.errors import RulesError
from rcinbox.rules.budget import budget_warnings
from rcinbox.rules.config import Rules, load_rules, parse_rules

log = logging.getLogger("rcinbox.rules")


class RulesWatcher:
    """The current rules, reloaded when the file changes; a bad edit keeps the last good rules.

    The constructor loads the file and raises :class:`RulesError` when it is invalid (the service
    refuses to start). :meth:`check` is called from the service's loop; it stats the file and, when
    the modification time or size changed, reads it and compares a SHA-256 of the bytes. A missing
    file after start (an editor's atomic save, or a deletion) keeps the last good rules.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._rules = load_rules(self.path)
        self._stat = self._stat_key()
        self._digest = self._read_digest()
        self.last_error: RulesError | None = None
        self._warn_budget()

    def current(self) -> Rules:
        return self._rules

    def check(self) -> bool:
        """Reload if the file changed; True when new rules were installed."""
        stat = self._stat_key()
        if stat is None or stat == self._stat:
            return False
        self._stat = stat
        try:
            data = self.path.read_bytes()
        except OSError:
            return False
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._digest:
            return False
        self._digest = digest
        try:
            rules = parse_rules(data, self.path)
        except RulesError as exc:
            self.last_error = exc
            log.error(
                "rules file not reloaded, keeping the previous rules: %s",
                exc,
                extra={"action": "rules.invalid"},
            )
            return False
        self._rules, self.last_error = rules, None
        log.info("rules reloaded from %s", self.path, extra={"action": "rules.reloaded"})
        self._warn_budget()
        return True

    def _warn_budget(self) -> None:
        """Warn (at start and on every reload) when the reply needs UCS-2 or more than one segment."""
        for warning in budget_warnings(self._rules):
            log.warning("%s", warning, extra={"action": "rules.budget"})

    def _stat_key(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None
