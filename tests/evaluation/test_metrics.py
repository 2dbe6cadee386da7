import numpy as np
import pytest

from tsattn.evaluation.metrics import classification_metrics, format_report


def test_binary_metrics_known_values():
    y = np.array([0, 0, 0, 1, 1, 1])
    p1 = np.array([0.1, 0.6, 0.2, 0.9, 0.4, 0.8])  # one FP (0.6), one FN (0.4)
    m = classification_metrics(y, np.c_[1 - p1, p1], ["normal", "rectified"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    # AUC from probabilities: 8 of 9 positive/negative pairs are ordered right.
    assert m["roc_auc"] == pytest.approx(8 / 9)
    assert m["confusion_matrix"] == [[2, 1], [1, 2]]
    assert m["n_test"] == 6


def test_auc_uses_probabilities_not_labels():
    y = np.array([0, 0, 1, 1])
    p1 = np.array([0.1, 0.4, 0.45, 0.9])  # thresholded: one error; ranked: perfect
    m = classification_metrics(y, np.c_[1 - p1, p1], ["a", "b"])
    assert m["accuracy"] == 0.75 and m["roc_auc"] == 1.0


def test_multiclass_macro():
    y = np.array([0, 1, 2, 2])
    proba = np.eye(3)[[0, 1, 2, 1]] * 0.7 + 0.1
    m = classification_metrics(y, proba, ["x", "y", "z"])
    assert m["accuracy"] == 0.75
    assert m["per_class"]["z"]["recall"] == 0.5
    assert m["recall"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert m["confusion_matrix"][2] == [0, 1, 1]


def test_report_layout():
    y = np.array([0, 1])
    text = format_report(classification_metrics(y, np.array([[0.8, 0.2], [0.3, 0.7]]), ["normal", "rectified"]))
    lines = text.splitlines()
    assert lines[0] == "Accuracy: 1.0000"
    assert [l.split(":")[0] for l in lines[:5]] == ["Accuracy", "Precision", "Recall", "F1 Score", "ROC AUC"]
    assert "Confusion Matrix" in text and "rectified" in text


def test_proba_shape_is_checked():
    with pytest.raises(ValueError, match="proba must have shape"):
        classification_metrics(np.array([0, 1]), np.array([0.2, 0.8]), ["a", "b"])
