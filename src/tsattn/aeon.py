"""tsattn's networks as an aeon classifier, for aeon's tooling: its estimator checks, pipelines and benchmarks.

Needs the ``aeon`` extra (``pip install 'tsattn[aeon]'``); ``import tsattn``
never imports aeon.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ._errors import install_hint

try:
    from aeon.classification.base import BaseClassifier
except ImportError as err:  # pragma: no cover - exercised in a subprocess by tests/test_aeon.py
    raise ImportError(f"tsattn.aeon needs aeon, which is an optional extra: {install_hint('aeon')}") from err

from ._defaults import DEFAULT_MODEL
from .estimator import AttentionClassifier as _Estimator

__all__ = ["AttentionClassifier"]


class AttentionClassifier(BaseClassifier):  # type: ignore[misc]  # aeon is untyped
    """An attention network as an aeon classifier: the same fit path and run directories as ``tsattn train``.

    It wraps :class:`tsattn.AttentionClassifier` (the scikit-learn estimator),
    so a model fitted here trains exactly as ``tsattn train --data TRAIN
    --test-data TEST`` does on the same rows and seed: every series but a
    validation part is trained on, and the small-data rule trains on that
    part too when it is smaller than the recipe's ``min_val_size``.

    Input is any aeon collection: a 3D array ``(n_cases, n_channels,
    n_timepoints)``, a 2D array of univariate series, or a list of 2D arrays
    ``(n_channels, n_timepoints_i)`` for series of unequal length (padded
    and masked inside: padding never gets attention). Missing values are
    filled by ``nan_policy``; with ``nan_policy="error"`` the classifier
    declares it cannot take them and aeon refuses such input.

    Parameters
    ----------
    model : str
        A registered model name (``tsattn models``); the default model when
        not given.
    ensemble, max_epochs, batch_size, lr, patience, scaling, val_fraction : optional
        Training settings; ``None`` takes the model's recipe, as ``tsattn
        train`` does.
    model_params : dict, optional
        Hyperparameters of the network.
    nan_policy : {"interpolate", "zero", "error"}
        Missing values inside a series: filled linearly along time (the
        nearest value at the ends), set to 0, or refused.
    random_state : int or None
        Seeds the split, the weights and the batch order. ``None`` draws a
        seed from NumPy's global generator at each fit (aeon's convention);
        the seed used is in ``estimator_.random_state`` and in a saved run.
    verbose : bool
        Show a progress bar during ``fit``.

    Attributes
    ----------
    estimator_ : tsattn.AttentionClassifier
        The fitted scikit-learn estimator: ``explain``, its network and its
        training history.

    Examples
    --------
    >>> import numpy as np
    >>> from tsattn.aeon import AttentionClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(16, 1, 20)); y = np.arange(16) % 2; X[y == 1, 0, 5:9] += 3
    >>> clf = AttentionClassifier("cnn_attention", max_epochs=1, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _tags: ClassVar[dict[str, Any]] = {
        "capability:multivariate": True,
        "capability:unequal_length": True,
        "capability:missing_values": True,
        "X_inner_type": ["numpy3D", "np-list"],
        "algorithm_type": "deeplearning",
        "non_deterministic": False,
        "cant_pickle": False,
        "python_dependencies": "torch",
    }

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        ensemble: int | None = None,
        max_epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        patience: int | None = None,
        scaling: str | None = None,
        val_fraction: float | None = None,
        model_params: dict[str, Any] | None = None,
        nan_policy: str = "interpolate",
        random_state: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.model = model
        self.ensemble = ensemble
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.scaling = scaling
        self.val_fraction = val_fraction
        self.model_params = model_params
        self.nan_policy = nan_policy
        self.random_state = random_state
        self.verbose = verbose
        super().__init__()
        # The tag says what this instance takes: under "error" a NaN is refused by aeon's own input check.
        self.set_tags(**{"capability:missing_values": nan_policy != "error"})

    def _estimator(self, seed: int) -> _Estimator:
        params = {k: getattr(self, k) for k in _ESTIMATOR_PARAMS}
        return _Estimator(**params, random_state=seed)

    def _fit(self, X: Any, y: np.ndarray) -> AttentionClassifier:
        # random_state None: aeon's convention, a fresh seed from NumPy's global generator
        seed = self.random_state if self.random_state is not None else np.random.randint(np.iinfo(np.int32).max)
        seed = int(seed)
        self.estimator_ = self._estimator(seed).fit(X, y)
        return self

    def _predict_proba(self, X: Any) -> np.ndarray:
        # The estimator's columns follow np.unique(y), as aeon's classes_ do.
        return np.asarray(self.estimator_.predict_proba(X))

    def _predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self._predict_proba(X).argmax(1)])

    def explain(self, X: Any, method: str = "attention") -> np.ndarray:
        """Relevance of every time step, ``(n_cases, n_timepoints)``; see :func:`tsattn.evaluation.explain.explain`.

        Rows of unequal-length input are padded with zeros past each series' end.
        """
        self._check_is_fitted()
        X = self._preprocess_collection(X, store_metadata=False)
        return np.asarray(self.estimator_.explain(X, method=method))

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write a run directory (``tsattn train``'s format), which ``tsattn evaluate/explain/predict/report`` open.

        Refused onto an existing run unless ``overwrite``; never pickles.
        """
        self._check_is_fitted()
        return self.estimator_.save(path, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AttentionClassifier:
        """Open a run directory written by ``save``, ``tsattn train`` or the scikit-learn estimator; never unpickles.

        Examples
        --------
        >>> import tempfile
        >>> X = np.random.default_rng(0).normal(size=(12, 2, 16)); y = np.arange(12) % 2
        >>> clf = AttentionClassifier("cnn_attention", max_epochs=1, random_state=0).fit(X, y)
        >>> run = clf.save(tempfile.mkdtemp() + "/run")
        >>> bool(np.allclose(AttentionClassifier.load(run).predict_proba(X), clf.predict_proba(X)))
        True
        """
        estimator = _Estimator.load(path)
        given = estimator.get_params()
        clf = cls(**{k: given[k] for k in _ESTIMATOR_PARAMS}, random_state=given["random_state"])
        clf.estimator_ = estimator
        clf.classes_ = np.asarray(estimator.classes_)
        clf.n_classes_ = len(clf.classes_)
        clf._class_dictionary = {c: i for i, c in enumerate(clf.classes_)}
        variable = bool(getattr(estimator.model_, "variable_length", True))
        clf.metadata_ = {
            "multivariate": estimator.n_channels_ > 1,
            "missing_values": False,
            "unequal_length": variable,
            "n_cases": None,
            "n_channels": estimator.n_channels_,
            "n_timepoints": None if variable else estimator.seq_len_,
        }
        clf.is_fitted = True
        return clf

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict[str, Any]:
        """The smallest settings that still train: aeon's estimator checks fit these many times."""
        return {
            "model": "cnn_attention",
            "ensemble": 1,
            "max_epochs": 2,
            "batch_size": 8,
            "model_params": {"channels": [4], "dilations": [1], "attn_dim": 4},
            "random_state": 0,
        }


#: The aeon classifier's parameters that pass straight to the scikit-learn estimator.
_ESTIMATOR_PARAMS = (
    "model",
    "ensemble",
    "max_epochs",
    "batch_size",
    "lr",
    "patience",
    "scaling",
    "val_fraction",
    "model_params",
    "nan_policy",
    "verbose",
)
