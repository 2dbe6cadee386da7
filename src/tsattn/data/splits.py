"""Stratified, seeded train / validation / test splits."""

from __future__ import annotations

import numpy as np

from .._errors import DataError

__all__ = ["stratified_split", "stratified_train_val"]


def stratified_split(
    y: np.ndarray, *, val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a stratified split, 70/10/20 by default, as the seed does.

    The seed splits train/test 80/20, then carves validation out of train so
    that the whole is 70/10/20; this does the same with scikit-learn's
    ``train_test_split`` and a fixed ``random_state``.
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    idx = np.arange(len(y))
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise DataError(f"y: classification needs at least 2 classes; got only {classes.tolist()}")
    # Each part needs at least one series of every class for stratification.
    need = int(np.ceil(len(classes) / min(val_fraction, test_fraction)))
    if len(y) < need or counts.min() < 3:
        raise DataError(
            f"data: need at least {need} series and 3 per class for a {1 - val_fraction - test_fraction:.0%}/"
            f"{val_fraction:.0%}/{test_fraction:.0%} split; got {len(y)} series, smallest class has {counts.min()}"
        )
    trainval, test = train_test_split(idx, test_size=test_fraction, stratify=y, random_state=seed)
    val_share = val_fraction / (1 - test_fraction)
    train, val = train_test_split(trainval, test_size=val_share, stratify=y[trainval], random_state=seed)
    return np.sort(train), np.sort(val), np.sort(test)


def stratified_train_val(y: np.ndarray, *, val_share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a stratified train/validation split of a training set (the test set is separate)."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise DataError(f"y: classification needs at least 2 classes; got only {classes.tolist()}")
    n_val = max(round(val_share * len(y)), len(classes))
    if counts.min() < 2 or len(y) - n_val < len(classes):
        raise DataError(
            f"data: need at least 2 series per class to hold out validation data; smallest class has "
            f"{counts.min()} of {len(y)} series"
        )
    train, val = train_test_split(np.arange(len(y)), test_size=n_val, stratify=y, random_state=seed)
    return np.sort(train), np.sort(val)
