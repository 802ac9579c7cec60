"""Understanding an inbound text: the classifier the rules file asks for (``[smart]``), built off
the event loop and rebuilt when a reload changes the backend or the model.

The classifier runs on every inbound text, whether smart replies are enabled or not (a fuzzy
opt-out is recognised either way); the decision (:func:`rcinbox.rules.decide.decide`) reads its
:class:`~rcinbox.intent.Classification` among the facts.

Loading is done in a worker thread (the ``embeddings`` backend takes about 0.7 s; ``builtin`` a few
milliseconds), so the event loop keeps receiving and acknowledging meanwhile. **A backend that
cannot be loaded** (the ``embeddings`` extra not installed, a model file missing or failing its
checksum) **does not stop rcinbox**: one ERROR line says why and that ``builtin`` is used instead,
and the service keeps answering with the classifier that ships with it. Refusing to start would
leave every text unanswered for a fault in an optional part; the plain-keyword opt-outs, the
window and every other rule hold whichever backend runs. If even ``builtin`` cannot be built, texts
are decided unclassified (as before smart replies) and that is logged once, as an ERROR.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from rcinbox.intent import Backend, Classification, Classifier
from rcinbox.intents import load_classifier
from rcinbox.rules.config import Smart

log = logging.getLogger("rcinbox.service")

ClassifierFactory = Callable[[Backend, "Path | None"], Classifier]
Key = tuple[Backend, "Path | None"]


def classifier_for(backend: Backend, model: Path | None = None) -> Classifier:
    """The classifier of :mod:`rcinbox.intents` for ``backend`` (``model``: embeddings only)."""
    return load_classifier(backend, model)


class Understanding:
    """The current classifier, kept in step with ``rules.smart`` (backend and model)."""

    def __init__(self, factory: ClassifierFactory = classifier_for) -> None:
        self.factory = factory
        self.classifier: Classifier | None = None
        self._key: Key | None = None
        self._lock = asyncio.Lock()

    async def ensure(self, smart: Smart) -> Classifier | None:
        """The classifier for ``smart``, loaded (in a thread) if the backend or model changed."""
        key: Key = (smart.classifier, smart.model if smart.classifier == "embeddings" else None)
        async with self._lock:
            if key != self._key:
                self.classifier = await asyncio.to_thread(self._load, key)
                self._key = key
        return self.classifier

    async def classify(self, smart: Smart, text: str) -> Classification | None:
        """What ``text`` asks, by the classifier ``smart`` names (``None``: no classifier)."""
        classifier = await self.ensure(smart)
        return None if classifier is None else classifier.classify(text)

    def _load(self, key: Key) -> Classifier | None:
        backend, model = key
        try:
            classifier = self.factory(backend, model)
        except Exception as exc:  # an optional part failing: say why once, carry on with builtin
            if backend == "builtin":
                log.error(
                    "smart replies: the builtin classifier could not be built (%s: %s); texts are decided"
                    " without it",
                    type(exc).__name__,
                    exc,
                    extra={"action": "classifier.unavailable"},
                )
                return None
            log.error(
                "smart replies: the %s classifier could not be loaded (%s: %s); using builtin instead",
                backend,
                type(exc).__name__,
                exc,
                extra={"action": "classifier.fallback"},
            )
            return self._load(("builtin", None))
        log.info(
            "smart replies: %s classifier ready", classifier.backend, extra={"action": "classifier.loaded"}
        )
        return classifier
