"""What an inbound text asks for: the intents, a classifier's answer, and the thresholds that turn
it into a decision.

This is the vocabulary shared by the classifiers (:mod:`rcinbox.intents`, which produce a
:class:`Classification`) and the reply rules (:mod:`rcinbox.rules`, which read one among the
facts of a decision). A classifier only ever *chooses*: the replies themselves are written by the
owner in the rules file.

Confidences are calibrated by each backend to mean the same thing, so one set of thresholds holds
for both:

- ``min_confidence`` (rules file, default 0.6): below it the chosen intent is ``"other"`` (the plain
  vacation reply);
- opt-out at or above :data:`OPT_OUT_CERTAIN`: the sender has opted out (recorded with the words
  and the confidence; every automated text to them stops);
- opt-out at or above :data:`OPT_OUT_REVIEW` but below :data:`OPT_OUT_CERTAIN`: borderline, recorded
  for a human; this message gets no automated reply, and no opt-out is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

Intent = Literal["urgent", "appointment", "question", "thanks", "opt_out", "help", "other"]
INTENTS: tuple[Intent, ...] = get_args(Intent)
Backend = Literal["builtin", "embeddings"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)

DEFAULT_MIN_CONFIDENCE = 0.6
OPT_OUT_CERTAIN = 0.8
OPT_OUT_REVIEW = 0.5


@dataclass(frozen=True)
class Classification:
    """A classifier's answer for one text: its top intent and how sure it is (0 to 1)."""

    intent: Intent
    confidence: float
    backend: Backend

    def chosen(self, min_confidence: float) -> Intent:
        """The intent acted on: the top one when confident enough, else ``"other"``."""
        return self.intent if self.confidence >= min_confidence else "other"


class Classifier(Protocol):
    """Anything that classifies a text: pure, deterministic for a given model, no I/O per call."""

    backend: Backend

    def classify(self, text: str) -> Classification: ...
