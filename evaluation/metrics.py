"""Multi-label metrics with bootstrap confidence intervals.

Y_true, Y_pred: 0/1 arrays of shape (N, K); column k is LABELS[k]. Precision with no
predicted positive and recall with no gold positive are defined as 0 (and reported with
their counts, so a reader can tell "0 of 0" from "0 of 12").
"""

from __future__ import annotations

import numpy as np

from data.labels import LABELS

METRICS = ("precision", "recall", "f1")


def prf(tp, fp, fn):
    """Vectorised precision, recall, F1 from counts (any shape); 0 where undefined.

    >>> [round(float(x), 4) for x in prf(np.array(3), np.array(1), np.array(2))]
    [0.75, 0.6, 0.6667]
    """
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return p, r, f


def point_metrics(Y_true: np.ndarray, Y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """{row name: {precision, recall, f1}} for each label, micro and macro (scikit-learn's
    precision_recall_fscore_support; undefined values are 0)."""
    from sklearn.metrics import precision_recall_fscore_support

    out = {}
    per = precision_recall_fscore_support(Y_true, Y_pred, average=None, zero_division=0, labels=range(len(LABELS)))
    for k, name in enumerate(LABELS):
        out[name] = {m: float(per[i][k]) for i, m in enumerate(METRICS)}
    for avg in ("micro", "macro"):
        values = precision_recall_fscore_support(Y_true, Y_pred, average=avg, zero_division=0)
        out[avg] = {m: float(values[i]) for i, m in enumerate(METRICS)}
    return out


def _counts_metrics(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Counts of shape (B, K) -> {row name: {metric: (B,)}} for labels, micro and macro."""
    p, r, f = prf(tp, fp, fn)
    out = {name: dict(zip(METRICS, (p[:, k], r[:, k], f[:, k]))) for k, name in enumerate(LABELS)}
    out["micro"] = dict(zip(METRICS, prf(tp.sum(1), fp.sum(1), fn.sum(1))))
    out["macro"] = dict(zip(METRICS, (p.mean(1), r.mean(1), f.mean(1))))
    return out


def _resample_weights(n: int, n_bootstrap: int, seed: int, chunk: int = 100):
    """(b, N) multiplicity of each sentence in each bootstrap resample, ``chunk`` resamples at a
    time (memory stays proportional to the sentences, not to resamples x sentences)."""
    rng = np.random.default_rng(seed)
    for start in range(0, n_bootstrap, chunk):
        b = min(chunk, n_bootstrap - start)
        idx = rng.integers(0, n, (b, n)) + n * np.arange(b)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)


def _resampled_counts(Y_true: np.ndarray, Y_pred: np.ndarray, n_bootstrap: int, seed: int):
    """(tp, fp, fn), each (B, K), over the bootstrap resamples."""
    parts = [(W @ m.astype(np.int64) for m in (Y_true & Y_pred, ~Y_true & Y_pred, Y_true & ~Y_pred))
             for W in _resample_weights(len(Y_true), n_bootstrap, seed)]
    tp, fp, fn = zip(*[tuple(p) for p in parts])
    return np.vstack(tp), np.vstack(fp), np.vstack(fn)


def compute_metrics(
    Y_true: np.ndarray, Y_pred: np.ndarray, n_bootstrap: int = 1000, seed: int = 0, alpha: float = 0.05
) -> dict:
    """Per-label, micro and macro precision/recall/F1 with support, confusion counts and
    percentile bootstrap intervals (sentences resampled with replacement, `n_bootstrap` times).

    Returns {"rows": {name: {precision, recall, f1, support, ci: {metric: [lo, hi]},
    confusion: {tp, fp, fn, tn}}}, "n": N, "n_bootstrap": B, "confidence": 1 - alpha}.
    """
    Y_true = np.asarray(Y_true, dtype=bool)
    Y_pred = np.asarray(Y_pred, dtype=bool)
    from sklearn.metrics import multilabel_confusion_matrix

    point = point_metrics(Y_true, Y_pred)
    confusion = multilabel_confusion_matrix(Y_true, Y_pred, labels=range(len(LABELS)))
    rows: dict[str, dict] = {}
    for name, values in point.items():
        rows[name] = {**{m: float(v) for m, v in values.items()}}
    for k, name in enumerate(LABELS):
        rows[name]["support"] = int(Y_true[:, k].sum())
        rows[name]["predicted"] = int(Y_pred[:, k].sum())
        (tn, fp), (fn, tp) = confusion[k]
        rows[name]["confusion"] = {"tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn)}
    rows["micro"]["support"] = rows["macro"]["support"] = int(Y_true.sum())
    rows["micro"]["predicted"] = rows["macro"]["predicted"] = int(Y_pred.sum())

    samples = bootstrap_metrics(Y_true, Y_pred, n_bootstrap, seed)
    for name in rows:
        rows[name]["ci"] = {
            m: [float(np.quantile(samples[name][m], alpha / 2)), float(np.quantile(samples[name][m], 1 - alpha / 2))]
            for m in METRICS
        }
    return {"rows": rows, "n": int(len(Y_true)), "n_bootstrap": n_bootstrap, "confidence": 1 - alpha}


def bootstrap_metrics(Y_true, Y_pred, n_bootstrap: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """{row name: {metric: array (n_bootstrap,)}} over resampled sentence sets (vectorised:
    every resample's counts are one matrix product)."""
    Y_true, Y_pred = np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool)
    return _counts_metrics(*_resampled_counts(Y_true, Y_pred, n_bootstrap, seed))


def paired_bootstrap_difference(
    Y_true, Y_pred_a, Y_pred_b, n_bootstrap: int = 1000, seed: int = 0, alpha: float = 0.05
) -> dict[str, dict[str, list[float]]]:
    """CI of metric(B) - metric(A) with the SAME resampled sentences for both models."""
    Y_true, A, B = (np.asarray(x, dtype=bool) for x in (Y_true, Y_pred_a, Y_pred_b))
    # the same seed gives the same resamples for both models
    ma = _counts_metrics(*_resampled_counts(Y_true, A, n_bootstrap, seed))
    mb = _counts_metrics(*_resampled_counts(Y_true, B, n_bootstrap, seed))
    diffs = {name: {m: mb[name][m] - ma[name][m] for m in METRICS} for name in ma}
    point_a, point_b = point_metrics(Y_true, A), point_metrics(Y_true, B)
    return {
        name: {
            m: {
                "difference": float(point_b[name][m] - point_a[name][m]),
                "ci": [float(np.quantile(diffs[name][m], alpha / 2)), float(np.quantile(diffs[name][m], 1 - alpha / 2))],
            }
            for m in METRICS
        }
        for name in diffs
    }


def expected_calibration_error(Y_true: np.ndarray, P: np.ndarray, n_bins: int = 10) -> dict[str, float]:
    """Expected calibration error per label and their mean: the weighted mean gap between the
    mean predicted probability and the observed positive rate over equal-width bins.

    >>> round(expected_calibration_error(np.array([[1], [0]]), np.array([[0.9], [0.1]]))["mean"], 3)
    0.1
    """
    Y_true, P = np.asarray(Y_true, dtype=float), np.asarray(P, dtype=float)
    bins = np.clip((P * n_bins).astype(int), 0, n_bins - 1)
    out: dict[str, float] = {}
    for k, name in enumerate(LABELS[: P.shape[1]]):
        counts = np.bincount(bins[:, k], minlength=n_bins)
        mean_p = np.bincount(bins[:, k], weights=P[:, k], minlength=n_bins)
        observed = np.bincount(bins[:, k], weights=Y_true[:, k], minlength=n_bins)
        out[name] = float(np.abs(mean_p - observed).sum() / max(len(P), 1))
    out["mean"] = float(np.mean([out[n] for n in LABELS[: P.shape[1]]]))
    return out


def threshold_centred(P: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Probabilities mapped piecewise-linearly so each label's threshold lands on 0.5 (0 and 1
    stay put): the scores a reader sees once thresholds are chosen, where 0.5 is the decision.

    >>> threshold_centred(np.array([[0.2, 0.6]]), np.array([0.4, 0.2])).round(3).tolist()
    [[0.25, 0.75]]
    """
    P, t = np.asarray(P, dtype=float), np.clip(np.asarray(thresholds, dtype=float), 1e-6, 1 - 1e-6)
    return np.where(P < t, 0.5 * P / t, 0.5 + 0.5 * (P - t) / (1 - t))
