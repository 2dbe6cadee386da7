"""Model families, one file each, and the registry that builds them by name."""

from typing import Any

from ._registry import (
    create_model,
    create_network,
    get_model_class,
    is_peer,
    list_models,
    register_model,
    unregister_model,
)

__all__ = [
    "create_model",
    "create_network",
    "get_model_class",
    "is_peer",
    "list_models",
    "register_model",
    "unregister_model",
]


#: What the layers above may use besides the registry; each imports torch, so only when asked for.
_LAZY = {
    "TSClassifierNet": "._base",
    "classification_loss": "._base",
    "logits_to_proba": "._base",
    "fit_levels": "._offsets",
    "legacy_state": "._offsets",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'tsattn.models' has no attribute {name!r}")
