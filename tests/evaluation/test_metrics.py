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
    assert [line.split(":")[0] for line in lines[:5]] == [
        "Accuracy",
        "Precision (class 'rectified')",  # a binary figure names the class it is about
        "Recall (class 'rectified')",
        "F1 Score (class 'rectified')",
        "ROC AUC",
    ]
    assert "Confusion Matrix" in text and "rectified" in text


def test_the_positive_class_is_named_and_switchable():
    # 'faulty' is class 0: 2 of its 3 series are caught; 'normal' (class 1) is always right when predicted.
    y = np.array([0, 0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
    normal = classification_metrics(y, proba, ["faulty", "normal"])
    faulty = classification_metrics(y, proba, ["faulty", "normal"], pos_label="faulty")
    assert normal["positive_class"] == "normal" and faulty["positive_class"] == "faulty"
    assert (normal["precision"], normal["recall"]) == pytest.approx((2 / 3, 1.0))
    assert (faulty["precision"], faulty["recall"]) == pytest.approx((1.0, 2 / 3))
    assert faulty["roc_auc"] == pytest.approx(normal["roc_auc"])  # the ranking is the same either way
    assert "Recall (class 'faulty'): 0.6667" in format_report(faulty)
    with pytest.raises(ValueError, match="pos_label must be one of two class names"):
        classification_metrics(y, proba, ["faulty", "normal"], pos_label="ok")


def test_proba_shape_is_checked():
    with pytest.raises(ValueError, match="proba must have shape"):
        classification_metrics(np.array([0, 1]), np.array([0.2, 0.8]), ["a", "b"])


def test_multiclass_one_vs_rest_auc_known_values():
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.array(
        [[0.6, 0.3, 0.1], [0.3, 0.5, 0.2], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]
    )
    m = classification_metrics(y, proba, ["x", "y", "z"])
    # x vs rest: .6 beats all 4 negatives (.2 .5 .1 .3); .3 beats .2 and .1 and ties .3 (half) -> 6.5 / 8
    # y vs rest: .7 beats all of .3 .5 .2 .3; .4 beats three -> 7 / 8;  z vs rest: .7 and .4 beat .1 .2 .1 .1 -> 8 / 8
    assert m["roc_auc"] == pytest.approx(np.mean([6.5 / 8, 7 / 8, 1.0]))
    from sklearn.metrics import roc_auc_score

    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", average="macro"))


def test_a_test_set_that_lacks_a_class_is_scored_on_the_classes_it_has():
    y = np.array([0, 0, 1, 1])  # class "z" never occurs and is never predicted
    proba = np.array([[0.8, 0.1, 0.1], [0.4, 0.5, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1]])
    m = classification_metrics(y, proba, ["x", "y", "z"])
    assert m["accuracy"] == 0.75
    assert m["recall"] == pytest.approx((0.5 + 1.0) / 2)  # macro over x and y, not (0.5 + 1 + 0) / 3
    assert m["precision"] == pytest.approx((1.0 + 2 / 3) / 2)
    # x vs rest: .8 .4 against .3 .2 -> 4/4; y vs rest: .6 .7 against .1 .5 -> 4/4
    assert m["roc_auc"] == 1.0
    assert m["per_class"]["z"]["support"] == 0 and m["confusion_matrix"][2] == [0, 0, 0]
    # A class that is predicted but absent from y_true still counts against the macro precision.
    wrong = classification_metrics(
        y, np.array([[0.1, 0.1, 0.8], [0.4, 0.5, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1]]), ["x", "y", "z"]
    )
    assert wrong["precision"] == pytest.approx((0 + 2 / 3 + 0) / 3)
    assert np.isnan(classification_metrics(np.array([1, 1]), proba[:2], ["x", "y", "z"])["roc_auc"])
