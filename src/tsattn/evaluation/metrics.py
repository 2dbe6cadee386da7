"""Classification metrics, from probabilities, in the seed article's layout."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["classification_metrics", "format_report"]


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, class_names: list[str], pos_label: str | None = None
) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, ROC AUC and the confusion matrix.

    Binary tasks score the positive class, ``pos_label`` (a class name, as
    scikit-learn's metrics take it; by default the second class, index 1,
    as the seed and scikit-learn's ``pos_label=1`` do), and name it
    (``positive_class``);
    multi-class tasks report macro averages over the classes that occur (in
    ``y_true`` or the predictions) and one-vs-rest ROC AUC averaged over the
    classes present in ``y_true``, so that a test set lacking a class is
    scored on the classes it has. ROC AUC always comes from probabilities,
    never from thresholded labels (the seed's mistake), and is NaN when
    ``y_true`` holds one class only.

    Examples
    --------
    >>> import numpy as np
    >>> m = classification_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), ["a", "b"])
    >>> m["accuracy"], m["roc_auc"], m["positive_class"]
    (1.0, 1.0, 'b')
    """
    from sklearn import metrics as skm

    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    k = len(class_names)
    if proba.ndim != 2 or proba.shape[1] != k:
        raise ValueError(f"proba must have shape (n, {k}); got {proba.shape}")
    y_pred = proba.argmax(axis=1)
    labels = list(range(k))
    binary = k == 2
    present = np.unique(y_true)
    names = [str(c) for c in class_names]
    if pos_label is not None and (not binary or str(pos_label) not in names):
        raise ValueError(f"pos_label must be one of two class names {names}; got {pos_label!r}")
    positive = 1 if pos_label is None else names.index(str(pos_label))
    if binary:
        p, r, f, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, pos_label=positive, average="binary", zero_division=0
        )
    else:
        # Macro over the classes that occur (in y_true or y_pred): a class a test set lacks, and that is never
        # predicted, has no precision or recall to average; counting it as 0 would only penalise the split.
        seen = sorted(set(present.tolist()) | set(np.unique(y_pred).tolist()))
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=seen, average="macro", zero_division=0)
    if len(present) < 2:
        roc_auc = float("nan")  # undefined with one class in y_true
    elif binary:
        roc_auc = skm.roc_auc_score(y_true == positive, proba[:, positive])
    else:
        # One-vs-rest, macro over the classes present in y_true (each one's AUC needs positives and negatives).
        roc_auc = float(np.mean([skm.roc_auc_score(y_true == c, proba[:, c]) for c in present]))
    pc, rc, fc, sc = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
        "roc_auc": float(roc_auc),
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "n_test": len(y_true),
        "class_names": list(class_names),
        "positive_class": str(class_names[positive]) if binary else None,
        "per_class": {
            name: {"precision": float(pc[i]), "recall": float(rc[i]), "f1": float(fc[i]), "support": int(sc[i])}
            for i, name in enumerate(class_names)
        },
    }


def format_report(m: dict[str, Any]) -> str:
    """The seed article's printout: the headline scores, then the confusion matrix."""
    names = m["class_names"]
    # Binary precision, recall and F1 are one class's: name it (older metrics.json files did not record it).
    avg = f" (class {m.get('positive_class') or names[1]!r})" if len(names) == 2 else " (macro)"
    lines = [
        f"Accuracy: {m['accuracy']:.4f}",
        f"Precision{avg}: {m['precision']:.4f}",
        f"Recall{avg}: {m['recall']:.4f}",
        f"F1 Score{avg}: {m['f1']:.4f}",
        f"ROC AUC: {m['roc_auc']:.4f}",
        "Confusion Matrix (rows: true, columns: predicted):",
    ]
    width = max(max(len(n) for n in names), max(len(str(v)) for row in m["confusion_matrix"] for v in row)) + 2
    lines.append(" " * width + "".join(n.rjust(width) for n in names))
    for name, row in zip(names, m["confusion_matrix"], strict=False):
        lines.append(name.rjust(width) + "".join(str(v).rjust(width) for v in row))
    lines.append("")
    lines.append(f"{'class':>{width}}{'precision':>11}{'recall':>9}{'f1':>9}{'support':>9}")
    for name, pc in m["per_class"].items():
        lines.append(f"{name:>{width}}{pc['precision']:>11.4f}{pc['recall']:>9.4f}{pc['f1']:>9.4f}{pc['support']:>9d}")
    return "\n".join(lines)
