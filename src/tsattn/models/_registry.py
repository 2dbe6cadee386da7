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
_FAMILIES = ("lstm_attention", "cnn_attention", "inception_attention", "transformer", "mlp", "cnn", "peers")
_REGISTRY: dict[str, Callable[..., Any]] = {}
_loaded = False


def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register a model class or factory under its ``__name__`` (or ``name`` attribute).

    Examples
    --------
    >>> import torch
    >>> from tsattn.models import TSClassifierNet
    >>> @register_model
    ... class MeanNet(TSClassifierNet):
    ...     '''Logits from each channel's mean; uniform attention.'''
    ...     name = "mean_net"
    ...     def __init__(self, n_channels, n_classes, seq_len):
    ...         super().__init__(n_channels, n_classes, seq_len)
    ...         self.head = torch.nn.Linear(n_channels, self.n_outputs)
    ...     def forward(self, x, mask=None):
    ...         return self.head(x.mean(-1)), torch.full(x[:, 0].shape, 1 / x.shape[-1])
    >>> "mean_net" in list_models()
    True
    >>> unregister_model("mean_net")
    """
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


def list_models(*, peers: bool = False) -> list[str]:
    """Names of the registered networks, sorted; with ``peers``, the non-neural peers (MiniRocket) too.

    Examples
    --------
    >>> list_models()
    ['cnn', 'cnn_attention', 'inception_attention', 'lstm_attention', 'mlp', 'transformer']
    >>> "minirocket" in list_models(peers=True)
    True
    """
    _load_families()
    return sorted(name for name, cls in _REGISTRY.items() if peers or not is_peer(name))


def unregister_model(name: str) -> None:
    """Remove ``name`` from the registry (a plugin's or a test's own model); the built-in families stay."""
    _load_families()
    if name not in _REGISTRY:
        raise ConfigError(f"model: unknown model '{name}'; nothing to unregister")
    if getattr(_REGISTRY[name], "__module__", "") in {f"{__package__}.{family}" for family in _FAMILIES}:
        raise ConfigError(f"model: {name} is a built-in model and cannot be unregistered")
    del _REGISTRY[name]


def is_peer(name: str) -> bool:
    """Is ``name`` a registered non-neural peer (for comparison in ``tsattn benchmark``), not a network?"""
    _load_families()
    return getattr(_REGISTRY.get(name), "kind", "network") == "peer"


def get_model_class(name: str) -> Any:
    """The class registered as ``name``; an unknown name raises a one-line error that suggests the closest.

    Examples
    --------
    >>> get_model_class("cnn_attention").__name__
    'CNNAttention'
    >>> get_model_class("cnn_atention")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    tsattn._errors.ConfigError: model: unknown model 'cnn_atention'. Did you mean 'cnn_attention'? Available: ...
    """
    _load_families()
    if name not in _REGISTRY:
        raise ConfigError(
            f"model: unknown model '{name}'.{did_you_mean(name, _REGISTRY)} Available: {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[name]


def create_model(name: str | type[Any], n_channels: int, n_classes: int, seq_len: int, **hyperparameters: Any) -> Any:
    """Build the model registered as ``name``, or an instance of the ``nn.Module`` class ``name``.

    A class must honour the model contract of
    :class:`~tsattn.models.TSClassifierNet`: built as
    ``cls(n_channels=, n_classes=, seq_len=, **hyperparameters)``, called as
    ``net(x, mask)`` and returning ``(logits, attention or None)``.

    Examples
    --------
    >>> from tsattn.models import create_model
    >>> model = create_model("lstm_attention", n_channels=1, n_classes=2, seq_len=100)
    >>> type(model).__name__
    'LSTMAttention'
    """
    cls = name if isinstance(name, type) else get_model_class(name)
    label = getattr(cls, "name", "") or cls.__name__
    try:
        return cls(n_channels=n_channels, n_classes=n_classes, seq_len=seq_len, **hyperparameters)
    except TypeError as exc:
        raise ConfigError(f"model_params: {label} rejected its hyperparameters: {exc}") from None


def _member_poolings(value: Any, hyperparameters: dict[str, Any]) -> list[str]:
    """``ensemble_pooling`` checked: a non-empty list of poolings, never beside ``pooling``; ``[]`` when unset."""
    if value is None:
        return []
    from ._pooling import POOLINGS

    if not isinstance(value, (list, tuple)) or not value or any(v not in POOLINGS for v in value):
        raise ConfigError(f"ensemble_pooling: must be a non-empty list of {', '.join(POOLINGS)}; got {value!r}")
    if "pooling" in hyperparameters:
        raise ConfigError(f"ensemble_pooling: set it or pooling, not both; got pooling={hyperparameters['pooling']!r}")
    return list(value)


def _check_takes_pooling(name: str | type[Any]) -> None:
    """``ensemble_pooling`` names a model without a ``pooling`` choice: say so, not that ``pooling`` was rejected."""
    import inspect

    cls = name if isinstance(name, type) else get_model_class(name)
    if "pooling" not in inspect.signature(cls).parameters:
        label = getattr(cls, "name", "") or cls.__name__
        raise ConfigError(f"ensemble_pooling: applies to models with a pooling choice; {label} has none")


def create_network(
    name: str | type[Any],
    n_channels: int,
    n_classes: int,
    seq_len: int,
    *,
    views: int = 1,
    level_offsets: bool = False,
    ensemble: int = 1,
    **hyperparameters: Any,
) -> Any:
    """Build model ``name`` with its offsets, for ``n_channels`` channels laid out as the scaler lays them out.

    ``views`` is how many copies of each channel the scaler hands over (2 for
    ``scaling="both"``: z-normalised and standardised). With
    ``level_offsets`` the model sees only the first view, and the second feeds
    level and scale logit offsets (``scaling="znorm_level"``). The scaler says
    which: ``create_network(name, C, K, T, **scaler.network_input, ...)``. A
    model whose ``length_offsets`` attribute is true gets logit offsets from
    each series' length. Both live in an
    :class:`~tsattn.models._offsets.OffsetNet` around the model, so that the
    model's own ``forward`` knows nothing of them. ``ensemble`` > 1 builds
    that many such networks, one after another from the same random stream,
    inside an :class:`~tsattn.models._ensemble.Ensemble` that averages them.
    ``ensemble_pooling`` (a model parameter of the convolutional attention
    models) mixes poolings in one ensemble: member ``i`` pools as
    ``ensemble_pooling[i % len(ensemble_pooling)]``, and the ensemble's
    attention is the mean of the members that learn theirs (not the uniform
    attention of ``"average"`` members).

    Examples
    --------
    >>> net = create_network("cnn", 1, 2, 50, views=2, level_offsets=True)
    >>> type(net).__name__, net.body.n_channels, net.length is not None
    ('OffsetNet', 1, True)
    >>> type(create_network("mlp", 1, 2, 50)).__name__  # no offsets asked for: the model itself
    'MLP'
    """
    if ensemble < 1:
        raise ConfigError(f"ensemble: must be >= 1; got {ensemble}")
    poolings = _member_poolings(hyperparameters.pop("ensemble_pooling", None), hyperparameters)
    if poolings:
        _check_takes_pooling(name)
    if ensemble > 1:
        from ._ensemble import Ensemble

        chosen = [poolings[i % len(poolings)] for i in range(ensemble)] if poolings else []
        own: list[dict[str, Any]] = [{"pooling": pooling} for pooling in chosen] or [{}] * ensemble
        members = [
            create_network(
                name,
                n_channels,
                n_classes,
                seq_len,
                views=views,
                level_offsets=level_offsets,
                **hyperparameters,
                **extra,
            )
            for extra in own
        ]
        attends = [pooling != "average" for pooling in chosen]
        return Ensemble(members, attends=attends if any(attends) else None)
    if poolings:  # one network: the first pooling of the list
        hyperparameters["pooling"] = poolings[0]
    body = create_model(
        name, n_channels if level_offsets else views * n_channels, n_classes, seq_len, **hyperparameters
    )
    length = bool(getattr(body, "length_offsets", False))
    if not (level_offsets or length):
        return body
    from ._offsets import OffsetNet

    return OffsetNet(body, level=level_offsets, length=length)
