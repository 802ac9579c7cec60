"""The value parsers of :mod:`rcinbox.settings` (which alone reads the environment): each takes
the variable's or flag's name and the text and returns the value, or raises
:class:`~rcinbox.errors.ConfigError` naming the variable."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from rcinbox.errors import ConfigError


def text(name: str, text: str) -> str:
    return text


def url(name: str, text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL, got {text!r}")
    return text.rstrip("/")


def port(name: str, text: str) -> int:
    if not re.fullmatch(r"\d{1,5}", text) or int(text) > 65535:
        raise ConfigError(f"{name} must be a port number 0-65535, got {text!r}")
    return int(text)


def path(name: str, text: str) -> Path:
    return Path(text).expanduser()


def choice(choices: tuple[str, ...], upper: bool = False) -> Callable[[str, str], str]:
    def parse(name: str, text: str) -> str:
        value = text.upper() if upper else text.lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {text!r}")
        return value

    return parse


def extensions(name: str, text: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in text.split(",") if part.strip())
    bad = [i for i in ids if not i.isdigit()]
    if bad:
        raise ConfigError(f"{name} must be comma-separated numeric extension ids, got {', '.join(bad)!s}")
    return tuple(dict.fromkeys(ids))


def database_url(name: str, text: str) -> str:
    if not re.match(r"^[a-z][a-z0-9+]*://", text):
        raise ConfigError(f"{name} must be an SQLAlchemy URL like sqlite+aiosqlite:///path")
    return text


def seconds_between(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, text: str) -> int:
        if not re.fullmatch(r"\d{1,10}", text) or not low <= int(text) <= high:
            raise ConfigError(f"{name} must be a whole number of seconds from {low} to {high}, got {text!r}")
        return int(text)

    return parse


def boolean(name: str, text: str) -> bool:
    value = text.lower()
    if value not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ConfigError(f"{name} must be true or false, got {text!r}")
    return value in ("true", "1", "yes", "on")
