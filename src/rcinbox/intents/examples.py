"""Labelled SMS: the training examples shipped in the package (``examples.tsv``) and any other file
in the same format (the evaluation set in tests/eval/).

The format is one example a line, ``intent<TAB>text``; blank lines and lines starting with ``#``
are skipped. A line with an unknown intent or no tab is refused with its line number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from rcinbox.intent import INTENTS, Intent

PACKAGED = "examples.tsv"


@dataclass(frozen=True)
class Example:
    intent: Intent
    text: str


@cache
def training_examples() -> tuple[Example, ...]:
    """The labelled examples both backends are built from (read once per process)."""
    text = files("rcinbox.intents").joinpath(PACKAGED).read_text(encoding="utf-8")
    return parse_examples(text, PACKAGED)


def read_examples(path: Path) -> tuple[Example, ...]:
    """The labelled examples of a file in the same format (e.g. the evaluation set)."""
    return parse_examples(path.read_text(encoding="utf-8"), str(path))


def parse_examples(text: str, where: str) -> tuple[Example, ...]:
    examples: list[Example] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, tab, message = line.partition("\t")
        intent = next((i for i in INTENTS if i == label.strip()), None)
        if not tab or intent is None or not message.strip():
            raise ValueError(
                f"{where}:{number}: expected 'intent<TAB>text' with a known intent, got {line!r}"
            )
        examples.append(Example(intent, message.strip()))
    return tuple(examples)
