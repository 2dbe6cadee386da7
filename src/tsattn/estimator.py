"""A scikit-learn estimator over the same networks, training and run-directory format as the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._defaults import DEFAULT_MODEL
from ._errors import DataError

__all__ = ["AttentionClassifier"]

#: Model hyperparameters are estimator parameters with this prefix: ``model__channels=32``.
MODEL_PREFIX = "model__"


def _ragged(X: Any) -> bool:
    return isinstance(X, (list, tuple)) and len(X) > 0 and np.ndim(X[0]) >= 1 and len({np.shape(x)[-1] for x in X}) > 1


def _as_3d(X: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``(n, T)``, ``(n, C, T)`` or a list of ``(C, T)``/``(T,)`` arrays -> ``(n, C, T)`` (NaN-padded) and lengths."""
    from .data.readers import stack_ragged

    if _ragged(X):
        return stack_ragged(list(X))
    arr = np.asarray(X)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"X: must be numeric; got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3:
        raise DataError(f"X: must have shape (n, T) or (n, C, T), or be a list of series; got shape {arr.shape}")
    return arr.astype(np.float32, copy=False), None


class AttentionClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn is untyped
    """Time-series classifier with attention, scikit-learn style.

    Parameters
    ----------
    model : str or nn.Module class
        A registered model name (``tsattn.models.list_models()``), or a class
        honouring the model contract (:class:`tsattn.models.TSClassifierNet`):
        built as ``cls(n_channels=, n_classes=, seq_len=, **hyperparameters)``,
        returning ``(logits, attention or None)``.
    ensemble : int, optional
        How many networks to train, with different initial weights, and
        average (probabilities and attention); ``None`` takes the recipe's.
    ensemble_below : int, optional
        Train ``ensemble`` networks only on fewer training series than this;
        from this many, one network (0: always). ``None`` takes the recipe's.
    max_epochs, batch_size, lr, patience, scaling, scaling_gain, attention_smoothing, attention_entropy : optional
        Training settings; ``None`` takes the model's recipe
        (``tsattn.training.recipes``), as ``tsattn train`` does.
    label_smoothing : float, optional
        Fit towards smoothed targets (``TrainConfig.label_smoothing``); ``None``
        takes the recipe's (0 in every recipe).
    precision : {"32-true", "bf16-mixed"}, optional
        Lightning's training precision (``TrainConfig.precision``); ``None``
        takes the recipe's.
    val_fraction : float, optional
        Sets the validation part that early stopping watches (see :meth:`fit`);
        ``None`` takes the recipe's.
    scaling_clip : float, optional
        Limit the scaled input to +-``scaling_clip`` standard deviations (0:
        off). ``None`` takes the recipe's, unless ``scaling`` is given: then 0.
    model_params : dict, optional
        Hyperparameters of the network.
    **model__hyperparameters : optional
        One hyperparameter of the network each (``model__channels=32``), so
        that ``GridSearchCV`` can search them; they override ``model_params``.
    nan_policy : {"error", "interpolate", "zero"}
        Missing values inside a series; ``fit`` and ``predict`` treat them alike.
    random_state : int
        Seeds the split, the weights and the batch order.
    verbose : bool
        Show a progress bar during ``fit``.

    Attributes
    ----------
    classes_ : np.ndarray
        The class labels, in the order of ``predict_proba``'s columns.
    model_ : torch.nn.Module
        The trained network (best validation epoch).
    history_ : list of dict
        One row per epoch: train/val loss and accuracy.
    n_train_, n_val_ : int
        How many rows of ``X`` were trained on, and how many early stopping
        watched (0 under the small-data rule); together, all of ``X``.
    scaler_ : Scaler
        The input scaling fitted on the training data.

    Examples
    --------
    >>> import numpy as np
    >>> from tsattn import AttentionClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 30)); y = np.arange(40) % 2; X[y == 1, 10:15] += 3
    >>> clf = AttentionClassifier("cnn_attention", max_epochs=3).fit(X, y)
    >>> clf.predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        model: str | type[Any] = DEFAULT_MODEL,
        *,
        max_epochs: int | None = None,
        ensemble: int | None = None,
        ensemble_below: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        patience: int | None = None,
        scaling: str | None = None,
        scaling_gain: float | None = None,
        scaling_clip: float | None = None,
        attention_smoothing: float | None = None,
        attention_entropy: float | None = None,
        label_smoothing: float | None = None,
        precision: str | None = None,
        val_fraction: float | None = None,
        model_params: dict[str, Any] | None = None,
        nan_policy: str = "error",
        random_state: int = 0,
        verbose: bool = False,
        **model__hyperparameters: Any,
    ) -> None:
        self.model = model
        self.max_epochs = max_epochs
        self.ensemble = ensemble
        self.ensemble_below = ensemble_below
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.scaling = scaling
        self.scaling_gain = scaling_gain
        self.scaling_clip = scaling_clip
        self.attention_smoothing = attention_smoothing
        self.attention_entropy = attention_entropy
        self.label_smoothing = label_smoothing
        self.precision = precision
        self.val_fraction = val_fraction
        self.model_params = model_params
        self.nan_policy = nan_policy
        self.random_state = random_state
        self.verbose = verbose
        for key, value in model__hyperparameters.items():
            if not key.startswith(MODEL_PREFIX):
                raise TypeError(
                    f"AttentionClassifier got an unexpected keyword argument '{key}'; a model "
                    f"hyperparameter is passed as {MODEL_PREFIX}{key}"
                )
            setattr(self, key, value)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters, ``model__*`` hyperparameters included (so that ``clone`` keeps them)."""
        params = super().get_params(deep=deep)
        params.update({k: v for k, v in vars(self).items() if k.startswith(MODEL_PREFIX)})
        return dict(params)

    def set_params(self, **params: Any) -> AttentionClassifier:
        """Set parameters; ``model__channels=32`` sets the network's ``channels`` (as ``GridSearchCV`` does)."""
        for key in [k for k in params if k.startswith(MODEL_PREFIX)]:
            setattr(self, key, params.pop(key))
        super().set_params(**params)
        return self

    def _train_config(self) -> Any:
        """The training settings: the model's recipe, with every parameter that is not ``None`` over it."""
        from .training.pipeline import resolve_train_config

        hyper = dict(self.model_params or {}) | {
            k[len(MODEL_PREFIX) :]: v for k, v in vars(self).items() if k.startswith(MODEL_PREFIX)
        }
        given = {
            "max_epochs": self.max_epochs,
            "ensemble": self.ensemble,
            "ensemble_below": self.ensemble_below,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "patience": self.patience,
            "scaling": self.scaling,
            "scaling_gain": self.scaling_gain,
            "scaling_clip": self.scaling_clip,
            "attention_smoothing": self.attention_smoothing,
            "attention_entropy": self.attention_entropy,
            "label_smoothing": self.label_smoothing,
            "precision": self.precision,
            "val_fraction": self.val_fraction,
            "seed": int(self.random_state),
            "model_params": hyper,
            "nan_policy": self.nan_policy,
        }
        return resolve_train_config(self.model, given)

    def fit(self, X: Any, y: Any) -> AttentionClassifier:
        """Train on ``X`` (``(n, T)``, ``(n, C, T)`` or a list of series) and labels ``y``.

        Every row is trained on except a stratified, seeded validation part
        that early stopping watches: ``val_fraction / (1 - test_fraction)``
        of the rows (12.5 % by default), exactly as ``tsattn train --data X
        --test-data T`` splits its training file, so the same rows and seed
        give the same weights either way. A validation part smaller than the
        recipe's ``min_val_size`` is trained on too (the small-data rule:
        no early stopping, the whole step budget runs).
        """
        from .training.pipeline import prepare, split_rows, train

        cfg = self._train_config()
        if _ragged(X):
            X3, lengths = _as_3d(X)
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(X3):
                raise DataError(f"y: must be 1-D with one label per series ({len(X3)}); got shape {y.shape}")
        else:
            # scikit-learn's own checks: sparse, complex, empty or 1-sample input, y shape; sets n_features_in_.
            X, y = validate_data(
                self, X, y, allow_nd=True, dtype=[np.float32, np.float64], ensure_all_finite=False, ensure_min_samples=2
            )
            X3, lengths = _as_3d(X)
        self._fit_ndim_ = 3 if lengths is not None else X3.ndim - (X.ndim == 2)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError(f"y: classification needs at least 2 classes; got only {self.classes_.tolist()}")
        # X is a training set (scikit-learn's convention): no test part is held out of it.
        rows, val, _ = split_rows(codes, cfg, official_test=True)
        prepared = prepare(
            X3,
            lengths,
            rows,
            len(self.classes_),
            cfg,
            model=self.model if isinstance(self.model, type) else None,
            what="X",
        )
        cfg = prepared.config  # the settings in force for this training part
        result = train(prepared, codes, lengths, rows, val, cfg, progress=self.verbose)
        self.model_, self.scaler_ = prepared.net.eval(), prepared.scaler
        self.history_ = result.history
        self.n_train_, self.n_val_ = len(rows), len(val)
        self.n_channels_, self.seq_len_ = X3.shape[1], X3.shape[2]
        self.config_ = cfg
        return self

    def _prepare(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        from .training.missing import apply_nan_policy

        check_is_fitted(self, "model_")
        if not _ragged(X):
            X = check_array(X, allow_nd=True, dtype=[np.float32, np.float64], ensure_all_finite=False)
            if self._fit_ndim_ == 2 and X.ndim == 2:
                # 2-D input is (n, T): T must match fit, as for any scikit-learn estimator; pass a list of
                # series or a 3-D array for other lengths.
                X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64], ensure_all_finite=False)
        X3, lengths = _as_3d(X)
        if X3.shape[1] != self.n_channels_:
            raise DataError(f"X: the model was fitted on {self.n_channels_} channel(s); got {X3.shape[1]}")
        if not getattr(self.model_, "variable_length", True) and X3.shape[2] != self.seq_len_:
            raise DataError(f"X: {self.model} takes series of exactly {self.seq_len_} steps; got {X3.shape[2]}")
        X3 = apply_nan_policy(X3, lengths, self.config_.nan_policy, what="X")
        return self.scaler_.transform(X3), lengths

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        from .inference import predict_arrays

        Xs, lengths = self._prepare(X)
        proba, _ = predict_arrays(self.model_, Xs, lengths=lengths, with_attention=False)
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ exists
        return np.asarray(self.classes_[proba.argmax(1)])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags

    def explain(self, X: np.ndarray, method: str = "attention") -> np.ndarray:
        """Relevance of every time step, ``(n, T)``; see :func:`tsattn.evaluation.explain.explain`."""
        from .evaluation.explain import explain

        Xs, lengths = self._prepare(X)
        return explain(self.model_, Xs, method=method, lengths=lengths)

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write a run directory (the CLI's format): config.json, weights.safetensors, status.json.

        A directory that already holds a run is refused unless ``overwrite``;
        then the run's files are replaced and nothing of the old run is kept
        beside them (no stale metrics, plots or checkpoints).
        """
        import shutil

        from . import run as rundir
        from ._errors import RunError
        from .models import get_model_class
        from .training.trainer import budget_summary

        check_is_fitted(self, "model_")
        if isinstance(self.model, type):
            from .models import list_models

            name = self.config_.model
            if name not in list_models() or get_model_class(name) is not self.model:
                raise RunError(
                    f"model: {name} is not a registered model, so a saved run could not rebuild it; "
                    "register it with tsattn.models.register_model first"
                )
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise RunError(f"path: {path} exists and is not a directory")
        if path.is_dir() and any(path.iterdir()):
            if not (path / rundir.CONFIG).is_file():
                raise RunError(f"path: {path} is a non-empty directory that holds no run; give an empty or new one")
            if not overwrite:
                raise RunError(
                    f"path: {path} already holds a run (state '{rundir.read_status(path).get('state')}'); "
                    "pass overwrite=True to replace it, or give another path"
                )
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        rc = rundir.new_run_config(
            self.config_,
            class_names=[str(c) for c in self.classes_],
            classes=self.classes_.tolist(),
            n_channels=self.n_channels_,
            seq_len=self.seq_len_,
            scaler=self.scaler_,
            net=self.model_,
            data=rundir.DataSource(kind="estimator"),
            budget=budget_summary(self.config_, self.n_train_, self.n_val_),
            estimator_params=self.get_params() | {"model": self.config_.model},
            # how fit saw X: 2-D (n, T) input keeps scikit-learn's feature-count check after load
            estimator_input={
                "ndim": int(self._fit_ndim_),
                **({"n_features_in": int(self.n_features_in_)} if hasattr(self, "n_features_in_") else {}),
            },
        )
        rundir.write_status(path, "running")
        rundir.write_config(path, rc)
        rundir.save_weights(self.model_, path / rundir.WEIGHTS)
        rundir.write_status(path, "done")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AttentionClassifier:
        """Load a run directory written by ``save`` or by ``tsattn train``; never unpickles."""
        from .run import load_run

        run = load_run(path)
        rc = run.config
        params = dict(rc.estimator_params or {"model": rc.model})
        if not isinstance(params.get("model"), str):
            params["model"] = rc.model
        clf = cls(**params)
        clf.model_, clf.scaler_ = run.net, run.scaler
        clf.classes_ = np.asarray(rc.labels)
        clf.n_channels_, clf.seq_len_ = rc.n_channels, rc.seq_len
        clf.config_ = rc.train
        clf.history_ = []
        fitted_on = rc.estimator_input or {}  # absent for a CLI-trained run: (n, C, T) input
        clf._fit_ndim_ = int(fitted_on.get("ndim", 3))
        if "n_features_in" in fitted_on:
            clf.n_features_in_ = int(fitted_on["n_features_in"])
        return clf
