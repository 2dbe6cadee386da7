"""The one fit path: settings, split, preprocessing, network and training, in that order.

``tsattn train``, ``tsattn benchmark``, ``--resume`` and
:class:`~tsattn.AttentionClassifier` all train through this module, so that
the same data, model, settings and seed give the same weights, byte for byte,
whichever door they came in by:

1. :func:`resolve_train_config`: the model's recipe, then the explicit
   settings over it, by one rule.
2. :func:`split_rows`: the stratified, seeded train/validation(/test) rows.
3. :func:`prepare`: the NaN policy, the scaler fitted on the training rows,
   the seeded network, and its length and level offsets fitted on the
   training rows (:class:`Prepared`).
4. :func:`train`: Lightning training with early stopping on the validation rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from ..config import PARAMETERS, Recipe, TrainConfig
from .recipes import recipe_for

if TYPE_CHECKING:
    from .trainer import FitResult

__all__ = ["Prepared", "for_training_size", "prepare", "resolve_train_config", "split_rows", "train"]

Batch = Callable[[np.ndarray], np.ndarray]


#: A setting given explicitly turns off the recipe's rules that would change it, unless they are given too: the
#: step bounds change the epoch budget, the training-size rule the ensemble, and a clip belongs to its scaling.
EXPLICIT_TURNS_OFF: dict[str, dict[str, Any]] = {
    "max_epochs": {"min_steps": 0, "max_steps": 0},
    "ensemble": {"ensemble_below": 0},
    "scaling": {"scaling_clip": 0.0},
}


def resolve_train_config(model: str | type[Any], given: Mapping[str, Any] | None = None) -> TrainConfig:
    """The training settings of ``model``: its recipe, with every setting in ``given`` that is not ``None`` over it.

    An explicit ``max_epochs`` is kept as given: it turns the recipe's
    ``min_steps`` and ``max_steps`` (which raise the budget on small datasets
    and cap it on large ones) off, unless they are given too. An explicit
    ``ensemble`` likewise turns the recipe's ``ensemble_below`` off, and an explicit ``scaling`` the recipe's
    ``scaling_clip``. A custom ``nn.Module`` class has no recipe:
    it gets :class:`~tsattn.config.TrainConfig`'s defaults, and the config
    records its ``name`` attribute or class name.

    Examples
    --------
    >>> resolve_train_config("cnn_attention").max_epochs
    8
    >>> cfg = resolve_train_config("cnn_attention", {"max_epochs": 2, "lr": None})
    >>> cfg.max_epochs, cfg.min_steps, cfg.lr
    (2, 0, 0.003)
    """
    from ..models import get_model_class, is_peer

    recipe: Recipe
    if isinstance(model, type):
        name, recipe = getattr(model, "name", "") or model.__name__, Recipe()
    else:
        get_model_class(model)  # an unknown name fails here, naming the registered ones
        if is_peer(model):
            raise ConfigError(
                f"model: {model} is a peer to compare against (tsattn benchmark --models {model}), "
                "not a network tsattn trains"
            )
        name, recipe = model, recipe_for(model)
    given = {k: v for k, v in (given or {}).items() if v is not None}
    values: dict[str, Any] = {**recipe, **given}
    if "model_params" in given:  # a hyperparameter given is set over the recipe's, not instead of all of them
        values["model_params"] = {**recipe.get("model_params", {}), **given["model_params"]}
    for setting, recipe_rules in EXPLICIT_TURNS_OFF.items():  # a setting given is kept as given
        if setting in given:
            values |= {rule: off for rule, off in recipe_rules.items() if rule not in given}
    values["model"] = name
    return TrainConfig.from_dict(values, source=PARAMETERS)


def split_rows(
    y: np.ndarray, config: TrainConfig, *, official_test: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(train, val, test)`` row indices of labels ``y``: stratified and seeded by ``config.seed``.

    Without an official test set the rows are split ``1 - val - test`` /
    ``val_fraction`` / ``test_fraction`` (70/10/20 by default, as the seed
    does). With one (``official_test``), ``y`` is the training set: it is split
    into train and validation in the same proportion, and ``test`` is empty.
    A validation part smaller than ``config.min_val_size`` is merged into the
    training part (the small-data rule: early stopping on a handful of
    series is noise), and ``val`` is empty.

    Examples
    --------
    >>> y = np.array([0, 1] * 20)
    >>> [len(part) for part in split_rows(y, TrainConfig())]
    [28, 4, 8]
    >>> [len(part) for part in split_rows(y, TrainConfig(), official_test=True)]
    [35, 5, 0]
    >>> [len(part) for part in split_rows(y, TrainConfig(min_val_size=10), official_test=True)]
    [40, 0, 0]
    """
    from ..data.splits import stratified_split, stratified_train_val

    if not official_test:
        train, val, test = stratified_split(
            y, val_fraction=config.val_fraction, test_fraction=config.test_fraction, seed=config.seed
        )
    else:
        share = config.val_fraction / (1 - config.test_fraction)
        (train, val), test = stratified_train_val(y, val_share=share, seed=config.seed), np.arange(0)
    if len(val) < config.min_val_size:
        train, val = np.sort(np.concatenate([train, val])), val[:0]
    return train, val, test


def for_training_size(config: TrainConfig, n_train: int) -> TrainConfig:
    """``config`` as it applies to a training part of ``n_train`` series: one network instead of an ensemble from
    ``config.ensemble_below`` series up (the settings in force, which ``config.json`` records).

    Examples
    --------
    >>> cfg = TrainConfig(ensemble=3, ensemble_below=2000)
    >>> for_training_size(cfg, 1999).ensemble, for_training_size(cfg, 2000).ensemble
    (3, 1)
    """
    if config.ensemble > 1 and config.ensemble_below and n_train >= config.ensemble_below:
        return config.model_copy(update={"ensemble": 1})
    return config


def nan_policy(X: Any, lengths: np.ndarray | None, policy: str, *, what: str = "data") -> tuple[Any, Batch]:
    """Apply the NaN policy to ``X``: whole, when it is in memory, or a batch at a time, when it is out of core.

    Returns ``(X, per-batch function)``. Out-of-core ``X`` (a shard directory,
    read on demand) under ``policy="error"`` is checked chunk by chunk, so a
    bad value is reported before training starts without loading the file.
    """
    from ..data import check_finite
    from .missing import apply_nan_policy

    if isinstance(X, np.ndarray):
        return apply_nan_policy(X, lengths, policy, what=what), _identity
    if policy == "error":
        for i in range(0, len(X), 65536):
            check_finite(X[i : i + 65536], what=what, offset=i)
        return X, _identity
    return X, lambda xb: apply_nan_policy(xb, None, policy, what=what)


def _identity(xb: np.ndarray) -> np.ndarray:
    return xb


@dataclass
class Prepared:
    """What :func:`prepare` built: the cleaned data, the fitted scaler and the network, ready to train."""

    X: Any
    """The series after the NaN policy (in memory) or as given (out of core)."""
    net: Any
    scaler: Any
    transform: Batch
    """Raw rows of ``X`` to the network's input: the NaN policy (out of core) then the scaler."""
    config: TrainConfig
    """The settings in force for this training part (:func:`for_training_size`): train and record these."""


def prepare(
    X: Any,
    lengths: np.ndarray | None,
    train_rows: np.ndarray,
    n_classes: int,
    config: TrainConfig,
    *,
    model: Any = None,
    what: str = "data",
) -> Prepared:
    """Clean ``X``, fit the scaler on ``train_rows``, seed, build the network and fit its offsets.

    The settings that depend on the training part's size are resolved first
    (:func:`for_training_size`); :attr:`Prepared.config` holds them.

    ``X`` is ``(n, C, T)``: an array, or an out-of-core reader. ``model``
    overrides ``config.model`` with an ``nn.Module`` class honouring the model
    contract (:class:`~tsattn.models.TSClassifierNet`); it is built with
    ``config.model_params``.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(40, 1, 30)).astype(np.float32)
    >>> y = np.arange(40) % 2
    >>> cfg = resolve_train_config("cnn", {"max_epochs": 1})
    >>> rows, val, _ = split_rows(y, cfg)
    >>> prepared = prepare(X, None, rows, 2, cfg)
    >>> type(prepared.net.body).__name__, prepared.scaler.method  # the model, inside its length offsets
    ('CNN', 'znorm')
    """
    from ..models import fit_levels
    from .scaling import Scaler
    from .trainer import seed_everything

    config = for_training_size(config, len(train_rows))
    X, batch_nan = nan_policy(X, lengths, config.nan_policy, what=what)
    scaler = Scaler(config.scaling, gain=config.scaling_gain, clip=config.scaling_clip).fit(X, index=train_rows)

    def transform(xb: np.ndarray) -> np.ndarray:
        return scaler.transform(batch_nan(xb))

    seed_everything(config.seed, config.deterministic)
    net = build_network(
        model if model is not None else config.model,
        int(X.shape[1]),
        n_classes,
        int(X.shape[2]),
        scaler,
        ensemble=config.ensemble,
        model_params=config.model_params,
    )
    net.fit_lengths(lengths[train_rows] if lengths is not None else None)
    fit_levels(net, X, train_rows, lengths, transform)
    return Prepared(X=X, net=net, scaler=scaler, transform=transform, config=config)


def build_network(
    model: Any,
    n_channels: int,
    n_classes: int,
    seq_len: int,
    scaler: Any,
    *,
    ensemble: int,
    model_params: dict[str, Any],
) -> Any:
    """The network for series of this shape under this scaler: the one factory call training and loading make.

    The scaler says how its output is laid out (``Scaler.network_input``: extra views, level offsets), so a
    loaded run rebuilds exactly the network it trained.

    Examples
    --------
    >>> from tsattn.training.scaling import Scaler
    >>> net = build_network("cnn", 1, 2, 30, Scaler("znorm_level"), ensemble=1, model_params={})
    >>> type(net).__name__, type(net.body).__name__
    ('OffsetNet', 'CNN')
    """
    from ..models import create_network

    return create_network(
        model, n_channels, n_classes, seq_len, **scaler.network_input, ensemble=ensemble, **model_params
    )


def train(
    prepared: Prepared,
    y: np.ndarray,
    lengths: np.ndarray | None,
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    config: TrainConfig,
    *,
    run_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    resume: bool = False,
    logger: str | None = None,
    config_digest: str | None = None,
) -> FitResult:
    """Train ``prepared.net`` in place on ``train_rows``, early-stopping on ``val_rows``; return the ``FitResult``.

    Batches are read and scaled as they are drawn, so out-of-core data are
    never loaded whole. See :func:`tsattn.training.trainer.fit` for
    ``run_dir``, ``resume`` and ``logger``.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(40, 1, 30)).astype(np.float32)
    >>> y = np.arange(40) % 2
    >>> cfg = resolve_train_config("cnn", {"max_epochs": 2})
    >>> rows, val, _ = split_rows(y, cfg)
    >>> result = train(prepare(X, None, rows, 2, cfg), y, None, rows, val, cfg)
    >>> result.epochs_run, len(result.history)
    (2, 2)
    """
    from .data import ArrayDataset
    from .trainer import fit

    X, t = prepared.X, prepared.transform
    return fit(
        prepared.net,
        ArrayDataset(X, y, lengths, index=train_rows, transform=t),
        ArrayDataset(X, y, lengths, index=val_rows, transform=t),
        config,
        run_dir=run_dir,
        progress=progress,
        resume=resume,
        logger=logger,
        config_digest=config_digest,
    )
