"""Models registered by name and built with one factory call.

A model family lives in one file of this package and registers each of its
models with :func:`register_model`. :func:`create_model` builds any of them
with the shared signature ``(n_channels, n_classes, seq_len, **hyperparameters)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .._errors import ConfigError, did_you_mean

# Families are imported on first use, so that `import tsattn` never imports torch.
_FAMILIES = ("lstm_attention", "cnn_attention", "transformer", "mlp", "cnn")
_REGISTRY: dict[str, Callable[..., Any]] = {}
_loaded = False


def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register a model class or factory under its ``__name__`` (or ``name`` attribute)."""
    name = getattr(fn, "name", None) or fn.__name__
    if name in _REGISTRY and _REGISTRY[name] is not fn:
        raise ValueError(f"model name '{name}' is already registered")
    _REGISTRY[name] = fn
    return fn


def _load_families() -> None:
    global _loaded
    if not _loaded:
        for family in _FAMILIES:
            importlib.import_module(f"{__package__}.{family}")
        _loaded = True


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    _load_families()
    return sorted(_REGISTRY)


def get_model_class(name: str) -> Callable[..., Any]:
    _load_families()
    if name not in _REGISTRY:
        raise ConfigError(
            f"model: unknown model '{name}'.{did_you_mean(name, _REGISTRY)} Available: {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[name]


def create_model(name: str, n_channels: int, n_classes: int, seq_len: int, **hyperparameters: Any):
    """Build the model registered as ``name``.

    Examples
    --------
    >>> from tsattn.models import create_model
    >>> model = create_model("lstm_attention", n_channels=1, n_classes=2, seq_len=100)
    >>> type(model).__name__
    'LSTMAttention'
    """
    cls = get_model_class(name)
    try:
        return cls(n_channels=n_channels, n_classes=n_classes, seq_len=seq_len, **hyperparameters)
    except TypeError as exc:
        raise ConfigError(f"model_params: {name} rejected its hyperparameters: {exc}") from None


def create_network(name: str, scaling: str, n_channels: int, n_classes: int, seq_len: int, **hyperparameters: Any):
    """Build model ``name`` for data of ``n_channels`` channels scaled by ``scaling`` (see ``Scaler``).

    Under ``"both"`` the model takes ``2C`` channels; under ``"znorm_level"``
    it takes ``C`` and is wrapped in a :class:`~tsattn.models._level.LevelNet`,
    which routes the other ``C`` (standardised) channels to level and scale
    logit offsets. Otherwise this is :func:`create_model`.
    """
    if scaling == "both":
        return create_model(name, 2 * n_channels, n_classes, seq_len, **hyperparameters)
    net = create_model(name, n_channels, n_classes, seq_len, **hyperparameters)
    if scaling == "znorm_level":
        from ._level import LevelNet

        return LevelNet(net)
    return net
