"""Smart replies in tests: a fake classifier at the service's seam (``Tuning.classifier`` /
:class:`rcinbox.service.understanding.Understanding`'s factory) whose answers a test chooses
(:data:`PHRASES`), so the pipeline's side (facts gathered, decision recorded, escalation queued and
sent) is tested on exact confidences; the end-to-end tests use the real classifiers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rcinbox.intent import Backend, Classification, Intent

# what the fake classifier answers: the first phrase found in the lowercased text wins
PHRASES: Mapping[str, tuple[Intent, float]] = {
    "pls stop texting": ("opt_out", 0.95),
    "take me off your list": ("opt_out", 0.92),
    "maybe stop these": ("opt_out", 0.6),
    "urgent": ("urgent", 0.9),
    "meeting": ("appointment", 0.88),
    "thanks": ("thanks", 0.97),
}


class FakeClassifier:
    """Answers from :data:`PHRASES` (else ``other``); counts its calls."""

    def __init__(
        self, backend: Backend = "builtin", phrases: Mapping[str, tuple[Intent, float]] = PHRASES
    ) -> None:
        self.backend: Backend = backend
        self.phrases = phrases
        self.calls: list[str] = []

    def classify(self, text: str) -> Classification:
        self.calls.append(text)
        lowered = text.lower()
        for phrase, (intent, confidence) in self.phrases.items():
            if phrase in lowered:
                return Classification(intent, confidence, self.backend)
        return Classification("other", 0.3, self.backend)


def fake_factory(backend: Backend, model: Path | None) -> FakeClassifier:
    return FakeClassifier(backend)
