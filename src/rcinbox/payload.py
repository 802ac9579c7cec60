"""Untrusted JSON from the platform: decoded without surprises, made storable.

Everything a transport receives goes through here before it becomes an
:class:`~rcinbox.events.InboundMessage`:

- :func:`decode`: the JSON value of a WebHook body or a WebSocket frame. Every way it can be
  unreadable (not UTF-8, not JSON, ``NaN``/``Infinity`` (not JSON either), an integer with more
  digits than Python parses, nesting deeper than :data:`MAX_DEPTH` or deep enough to exhaust the
  parser's recursion) raises :class:`Malformed`, a ``ValueError``: the malformed-body path,
  never a ``RecursionError`` or ``OverflowError`` that would answer 500 or drop a connection.
- :func:`storable`: a copy of a decoded value that any database takes: in every string (keys
  too) the characters no database can store become U+FFFD: lone UTF-16 surrogates (JSON
  ``"\\ud800"`` decodes to one; UTF-8 cannot encode it, so SQLite refuses the row) and NUL
  (PostgreSQL text refuses it); a number beyond the float range (``1e999``) becomes ``null``.
  It says whether anything changed, so the caller can keep :func:`original_text` beside it.
- :func:`original_text`: the value as received, as JSON text with every non-ASCII character
  escaped: a lone surrogate survives as its ``\\ud800`` escape, which every database stores.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # nesting levels; an instant-SMS notification has five
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Malformed(ValueError):
    """The bytes are not a JSON value rcinbox takes; the message says why (no payload in it)."""


def decode(data: str | bytes) -> Any:
    """The JSON value in ``data``; :class:`Malformed` for anything unreadable."""
    try:
        value = json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise Malformed("not JSON: nested too deep") from None
    except (ValueError, OverflowError) as exc:  # JSONDecodeError, UnicodeDecodeError, digit limit
        raise Malformed(f"not JSON: {_first_line(exc)}") from None
    if too_deep(value):
        raise Malformed(f"not JSON rcinbox takes: nested deeper than {MAX_DEPTH} levels")
    return value


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests lists/objects more than ``limit`` levels (checked without
    recursing further than ``limit``)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            if isinstance(item, dict | list | tuple)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return False
    return any(isinstance(item, dict | list | tuple) for item in level)


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate and NUL replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def storable(value: Any) -> tuple[Any, bool]:
    """``(copy any database stores, whether it differs)``; ``value`` itself when nothing had to
    change. ``ValueError`` when it nests deeper than :data:`MAX_DEPTH`."""
    if too_deep(value):
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return _clean(value)


def original_text(value: Any) -> str:
    """``value`` as ASCII JSON text (``\\uXXXX`` escapes), faithful to every code unit."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)


def _clean(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        text = clean_text(value)
        return text, text is not value
    if isinstance(value, float) and not math.isfinite(value):
        return None, True
    if isinstance(value, dict):
        pairs = [(_clean(key), _clean(item)) for key, item in value.items()]
        if any(k[1] or v[1] for k, v in pairs):
            return {k[0]: v[0] for k, v in pairs}, True
        return value, False
    if isinstance(value, list | tuple):
        items = [_clean(item) for item in value]
        return ([item for item, _ in items], True) if any(c for _, c in items) else (value, False)
    return value, False


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
