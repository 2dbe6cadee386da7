"""Model families, one file each, and the registry that builds them by name."""

from ._registry import create_model, create_network, get_model_class, is_peer, list_models, register_model

__all__ = ["create_model", "create_network", "get_model_class", "is_peer", "list_models", "register_model"]
