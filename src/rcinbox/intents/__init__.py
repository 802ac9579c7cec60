"""Understanding a text: normalisation and the classifier backends (``builtin``, ``embeddings``)
behind :class:`rcinbox.intent.Classifier`; :func:`load_classifier` builds the one the rules name."""

from __future__ import annotations

from pathlib import Path

from rcinbox.intent import Backend, Classifier
from rcinbox.intents.builtin import BuiltinClassifier
from rcinbox.intents.normalise import normalise


def load_classifier(backend: Backend, model: Path | None = None) -> Classifier:
    """The classifier of ``backend`` (``smart.classifier``); ``model`` (``smart.model``) is the ONNX
    file of ``embeddings`` instead of the packaged one, unused by ``builtin``.

    Raises :class:`rcinbox.errors.ClassifierError` (one line saying what to install or fix) when
    the ``embeddings`` extra is missing or its model file is not the pinned one."""
    if backend == "embeddings":
        from rcinbox.intents.embeddings import EmbeddingsClassifier

        return EmbeddingsClassifier(model)
    return BuiltinClassifier()


__all__ = ["BuiltinClassifier", "load_classifier", "normalise"]
