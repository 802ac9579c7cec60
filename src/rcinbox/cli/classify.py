"""``rcinbox classify [TEXT ...]``: what the smart-reply classifier makes of texts, one output line
per text (each argument, else each line of standard input), in order.

The backend (``smart.classifier``, its ``smart.model``) and ``smart.min_confidence`` come from the
rules file (``--rules`` / ``RCINBOX_RULES``, read as ``rcinbox run`` reads it; a file may hold only
a ``[smart]`` table; no file: ``builtin`` at the default threshold). The intent printed is the one
the classifier *chose*: its top intent at or above ``min_confidence``, else ``other``; the
confidence is the top intent's. No credentials, no network.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from rcinbox.intent import Classifier
from rcinbox.intents import load_classifier
from rcinbox.rules import load_rules


def classifier_from_rules(rules: Path) -> tuple[Classifier, float]:
    """The classifier the rules file names and its ``min_confidence``; :class:`RulesError` or
    :class:`ClassifierError` say what is wrong."""
    smart = load_rules(rules).smart
    return load_classifier(smart.classifier, smart.model), smart.min_confidence


def classify_lines(
    classifier: Classifier, min_confidence: float, texts: Iterable[str], as_json: bool
) -> Iterator[str]:
    """One output line per text: ``intent<TAB>confidence<TAB>text``, or a JSON object."""
    for raw in texts:
        text = raw.rstrip("\r\n")
        result = classifier.classify(text)
        intent = result.chosen(min_confidence)
        if as_json:
            record = {
                "text": text,
                "intent": intent,
                "confidence": result.confidence,
                "top": result.intent,
                "backend": result.backend,
            }
            yield orjson.dumps(record).decode()
        else:
            shown = " ".join(text.split())  # one line per input, whatever it holds
            yield f"{intent}\t{result.confidence:.2f}\t{shown}"
