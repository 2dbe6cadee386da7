"""Model families, one file each, and the registry that builds them by name."""

from ._registry import create_model, get_model_class, list_models, register_model

__all__ = ["create_model", "get_model_class", "list_models", "register_model"]
