"""Defaults every door shares, in a module with no imports, so that any layer (the CLI included) can read them."""

#: The model ``tsattn train``, ``tsattn benchmark`` and ``AttentionClassifier()`` train when none is named.
DEFAULT_MODEL = "inception_attention"
