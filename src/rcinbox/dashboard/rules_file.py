"""The rules file as the dashboard writes it: comment-keeping edits, checked and atomic.

The form carries the digest of the text it was loaded from; :func:`save` writes only if the
file still has that digest, otherwise :class:`RulesFileChanged` carries a unified diff between
the file now and what saving would write. Every write is validated by the service's own rules
parser first, then goes through a temp file in the same directory (fsync, ``os.replace``) keeping
the file's mode, so the rules watcher sees one complete file and picks it up without a restart.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import tomlkit
from tomlkit.items import KeyType, SingleKey, Table

from rcinbox.errors import RcinboxError
from rcinbox.rules.config import parse_rules

Value = str | bool | int | datetime


@dataclass(frozen=True)
class Loaded:
    """The rules file's text and the digest the form carries back."""

    text: str
    digest: str


class RulesFileChanged(RcinboxError):
    """The file changed since the form was loaded: nothing was written."""

    def __init__(self, path: Path, diff: str) -> None:
        self.path = path
        self.diff = diff
        super().__init__(f"{path} changed since it was loaded; nothing was written")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load(path: Path) -> Loaded:
    """The file's text (empty when it does not exist yet) and its digest."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    return Loaded(text, digest(text))


def edit(text: str, table: str, values: Mapping[str, Value | None], extension: str | None = None) -> str:
    """``text`` with ``[table]`` (or ``[extensions."<id>".table]``; dotted for a sub-table, e.g.
    ``smart.replies``) keys set; None removes a key.

    Comments, order and layout of everything else stay as they were (tomlkit round trip)."""
    doc = tomlkit.parse(text)
    parent: tomlkit.TOMLDocument | Table = doc
    if extension is not None:
        extensions = _table(doc, "extensions", super_table=True)
        parent = _table(extensions, extension, super_table=True, quoted=True)
    *outer, last = table.split(".")  # "smart.replies": [smart.replies], [smart] only a header's part
    for name in outer:
        parent = _table(parent, name, super_table=True)
    target = _table(parent, last)
    for key, value in values.items():
        if value is None:
            if key in target:
                del target[key]
        else:
            target[key] = value
    return tomlkit.dumps(doc)


def _table(
    parent: tomlkit.TOMLDocument | Table, name: str, *, super_table: bool = False, quoted: bool = False
) -> Table:
    found = parent.get(name)
    if isinstance(found, Table):
        return found
    created = tomlkit.table(is_super_table=super_table)
    parent[SingleKey(name, KeyType.Basic) if quoted else name] = created
    return created


def diff(before: str, after: str, path: Path) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{path.name} (now)",
        tofile=f"{path.name} (after saving)",
    )
    return "".join(lines)


def save(path: Path, loaded_digest: str, new_text: str) -> None:
    """Validate ``new_text`` and write it atomically, unless the file changed since it was loaded.

    Raises :class:`~rcinbox.errors.RulesError` (invalid rules, nothing written) or
    :class:`RulesFileChanged` (the file is not the one the form was loaded from)."""
    parse_rules(new_text, path)
    current = load(path)
    if current.digest != loaded_digest:
        raise RulesFileChanged(path, diff(current.text, new_text, path))
    write_atomically(path, new_text)


def write_atomically(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, ``os.replace``; the file's mode is kept."""
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
