"""Line numbers for rules errors: where a key or value sits in the TOML text, and TOML's own
syntax errors turned into :class:`~rcinbox.errors.RulesError` with their line.

TOML parsers give values, not positions, so :func:`find_line` scans the text for the key inside its
table (``[table]`` headers, ``key =`` and dotted ``table.key =`` forms, a value inside a list).
"""

from __future__ import annotations

import re
from pathlib import Path

from rcinbox.errors import RulesError


def syntax_error(path: Path | str, message: str) -> RulesError:
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        return RulesError(path, int(match.group(1)), f"{message[: match.start()]} (column {match.group(2)})")
    return RulesError(path, None, message.replace(" (at end of document)", " at the end of the file"))


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")


def find_line(text: str, table: str, key: str | None, value: str | None = None) -> int | None:
    """1-based line of ``key =`` inside ``[table]`` (of ``value`` after it when given), else the
    table's header line, else ``None``."""
    current, header_line, key_line = "", None, None
    own_header = f"{table}.{key}" if table else key
    key_re = re.compile(rf"""^\s*(?:["']?{re.escape(key)}["']?)\s*=""") if key else None
    dotted = re.compile(rf"""^\s*{re.escape(table)}\.{re.escape(key)}\s*=""") if key and table else None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace('"', "").replace(" ", "")
            if current == table:
                header_line = header_line or number
            if current == own_header and key_line is None:
                key_line = number
            continue
        if key_line is None and (
            (key_re and current == table and key_re.match(line))
            or (dotted and current == "" and dotted.match(line))
        ):
            key_line = number
    if key_line is not None and value is not None:
        needle = f'"{value}"'
        for number in range(key_line, len(lines) + 1):
            if needle in lines[number - 1] or value in lines[number - 1]:
                return number
    return key_line or header_line


def first_header(text: str, prefix: str) -> int | None:
    """1-based line of the first ``[table]`` header at or under ``prefix`` (``[prefix.…]``), else
    ``None``: where a table written only through its sub-tables begins."""
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            name = header.group(1).replace('"', "").replace(" ", "")
            if name == prefix or name.startswith(f"{prefix}."):
                return number
    return None
