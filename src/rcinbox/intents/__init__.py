"""Understanding a text: normalisation and the classifier backends (``builtin``, ``embeddings``)
behind :class:`rcinbox.intent.Classifier`."""
