import numpy as np
import pytest

from data.labels import LABELS
from evaluation.metrics import compute_metrics, paired_bootstrap_difference, prf
from models.thresholds import choose_threshold, choose_thresholds

# Hand-computed case, 6 sentences x 3 labels.
Y_TRUE = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0], [0, 1, 0]])
Y_PRED = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]])
# commitment: tp=2 (rows 0,3) fp=1 (row 4) fn=1 (row 1) -> P=2/3, R=2/3, F1=2/3
# support:    tp=1 (row 1) fp=1 (row 3) fn=1 (row 5)  -> P=1/2, R=1/2, F1=1/2
# project:    tp=1 (row 2) fp=0 fn=1 (row 3)          -> P=1,   R=1/2, F1=2/3
# micro: tp=4 fp=2 fn=3 -> P=4/6, R=4/7, F1=8/13


def test_hand_computed_metrics():
    m = compute_metrics(Y_TRUE, Y_PRED, n_bootstrap=50)["rows"]
    assert m["commitment"]["precision"] == pytest.approx(2 / 3)
    assert m["commitment"]["confusion"] == {"tp": 2, "fp": 1, "fn": 1, "tn": 2}
    assert (m["support_declaration"]["recall"], m["support_declaration"]["f1"]) == (0.5, 0.5)
    assert m["project_pledge"]["precision"] == 1.0 and m["project_pledge"]["f1"] == pytest.approx(2 / 3)
    assert m["micro"]["precision"] == pytest.approx(4 / 6)
    assert m["micro"]["recall"] == pytest.approx(4 / 7)
    assert m["micro"]["f1"] == pytest.approx(8 / 13)
    assert m["macro"]["f1"] == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)
    assert [m[n]["support"] for n in LABELS] == [3, 2, 2]


def test_bootstrap_interval_brackets_the_point_estimate_and_is_reproducible():
    rng = np.random.default_rng(1)
    Y = rng.integers(0, 2, size=(200, 3))
    P = np.where(rng.random((200, 3)) < 0.8, Y, 1 - Y)
    a = compute_metrics(Y, P, n_bootstrap=300, seed=7)
    b = compute_metrics(Y, P, n_bootstrap=300, seed=7)
    assert a == b
    for name in (*LABELS, "micro", "macro"):
        lo, hi = a["rows"][name]["ci"]["f1"]
        assert lo <= a["rows"][name]["f1"] <= hi and hi - lo < 0.3


def test_prf_with_no_predictions_is_zero():
    assert tuple(float(x) for x in prf(0, 0, 5)) == (0.0, 0.0, 0.0)


def test_vectorised_bootstrap_matches_sklearn_on_every_resample():
    from sklearn.metrics import precision_recall_fscore_support

    from evaluation.metrics import _resample_weights, bootstrap_metrics

    rng = np.random.default_rng(3)
    Y = rng.integers(0, 2, size=(60, 3))
    P = np.where(rng.random((60, 3)) < 0.7, Y, 1 - Y)
    samples = bootstrap_metrics(Y, P, n_bootstrap=40, seed=5)
    W = np.vstack(list(_resample_weights(len(Y), 40, 5, chunk=7)))
    for b in range(40):
        idx = np.repeat(np.arange(len(Y)), W[b])  # resample b as explicit rows
        per = precision_recall_fscore_support(Y[idx], P[idx], average=None, zero_division=0)
        for k, name in enumerate(LABELS):
            assert samples[name]["f1"][b] == pytest.approx(per[2][k])
            assert samples[name]["precision"][b] == pytest.approx(per[0][k])
        for avg in ("micro", "macro"):
            ref = precision_recall_fscore_support(Y[idx], P[idx], average=avg, zero_division=0)
            assert samples[avg]["f1"][b] == pytest.approx(ref[2])
            assert samples[avg]["recall"][b] == pytest.approx(ref[1])


def test_paired_difference_of_identical_models_is_zero():
    d = paired_bootstrap_difference(Y_TRUE, Y_PRED, Y_PRED, n_bootstrap=50)
    assert d["macro"]["f1"]["difference"] == 0 and d["macro"]["f1"]["ci"] == [0.0, 0.0]


def test_threshold_best_f1_and_target_precision():
    y = np.array([1, 1, 0, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    # best F1: top 4 (P=3/4, R=1) -> between 0.6 and 0.2
    assert choose_threshold(y, s) == pytest.approx(0.4)
    # precision 1.0 reachable with the top 2 -> between 0.8 and 0.7
    assert choose_threshold(y, s, target_precision=1.0) == pytest.approx(0.75)
    assert choose_thresholds(np.stack([y, y], 1), np.stack([s, s], 1)).shape == (2,)


def test_reliability_bins_agree_with_sklearn_at_bin_edges():
    from evaluation.analysis import reliability
    from evaluation.harness import EvalResult

    scores = np.array([[0.1, 0.1, 0.1], [0.15, 0.2, 0.3], [0.7, 0.7, 0.7], [0.05, 0.5, 0.9]])
    rows = [{"id": str(i), "doc_id": "d", "text": "t", "labels": ["commitment"] if i % 2 else []} for i in range(4)]
    run = EvalResult(rows, scores, (scores >= 0.5).astype(int), {n: 0.5 for n in LABELS})
    r = reliability(run, "commitment")
    assert sum(r["counts"]) == 4 and len(r["counts"]) == len(r["mean_predicted"])
    assert r["counts"] == [1, 2, 1]  # 0.05 | 0.1, 0.15 | 0.7
