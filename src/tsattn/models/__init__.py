"""Model families, one file each, and the registry that builds them by name."""

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


def __getattr__(name: str) -> type:
    # The model contract's base class imports torch: only when asked for.
    if name == "TSClassifierNet":
        from ._base import TSClassifierNet

        return TSClassifierNet
    raise AttributeError(f"module 'tsattn.models' has no attribute {name!r}")
