"""Multi-label metrics with bootstrap confidence intervals.

Y_true, Y_pred: 0/1 arrays of shape (N, K); column k is LABELS[k]. Precision with no
predicted positive and recall with no gold positive are defined as 0 (and reported with
their counts, so a reader can tell "0 of 0" from "0 of 12").
"""

from __future__ import annotations

import numpy as np

from data.labels import LABELS

METRICS = ("precision", "recall", "f1")


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, int]:
    """Counts for one label, arrays of shape (N,)."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    return {
        "tp": int((y_true & y_pred).sum()),
        "fp": int((~y_true & y_pred).sum()),
        "fn": int((y_true & ~y_pred).sum()),
        "tn": int((~y_true & ~y_pred).sum()),
    }


def prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    """tp=3, fp=1, fn=2 -> (0.75, 0.6, 0.6667)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def point_metrics(Y_true: np.ndarray, Y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """{row name: {precision, recall, f1}} for each label, micro and macro."""
    out = {}
    tps = (Y_true & Y_pred).sum(axis=0)
    fps = (~Y_true & Y_pred).sum(axis=0)
    fns = (Y_true & ~Y_pred).sum(axis=0)
    for k, name in enumerate(LABELS):
        out[name] = dict(zip(METRICS, prf(tps[k], fps[k], fns[k])))
    out["micro"] = dict(zip(METRICS, prf(tps.sum(), fps.sum(), fns.sum())))
    out["macro"] = {m: float(np.mean([out[name][m] for name in LABELS])) for m in METRICS}
    return out


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
    point = point_metrics(Y_true, Y_pred)
    rows: dict[str, dict] = {}
    for name, values in point.items():
        rows[name] = {**{m: float(v) for m, v in values.items()}}
    for k, name in enumerate(LABELS):
        rows[name]["support"] = int(Y_true[:, k].sum())
        rows[name]["predicted"] = int(Y_pred[:, k].sum())
        rows[name]["confusion"] = confusion_counts(Y_true[:, k], Y_pred[:, k])
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
    """{row name: {metric: array (n_bootstrap,)}} over resampled sentence sets."""
    rng = np.random.default_rng(seed)
    n = len(Y_true)
    out = {name: {m: np.zeros(n_bootstrap) for m in METRICS} for name in (*LABELS, "micro", "macro")}
    for b in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        for name, values in point_metrics(Y_true[idx], Y_pred[idx]).items():
            for m in METRICS:
                out[name][m][b] = values[m]
    return out


def paired_bootstrap_difference(
    Y_true, Y_pred_a, Y_pred_b, n_bootstrap: int = 1000, seed: int = 0, alpha: float = 0.05
) -> dict[str, dict[str, list[float]]]:
    """CI of metric(B) - metric(A) with the SAME resampled sentences for both models."""
    Y_true, A, B = (np.asarray(x, dtype=bool) for x in (Y_true, Y_pred_a, Y_pred_b))
    rng = np.random.default_rng(seed)
    n = len(Y_true)
    diffs = {name: {m: np.zeros(n_bootstrap) for m in METRICS} for name in (*LABELS, "micro", "macro")}
    for b in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        ma, mb = point_metrics(Y_true[idx], A[idx]), point_metrics(Y_true[idx], B[idx])
        for name in diffs:
            for m in METRICS:
                diffs[name][m][b] = mb[name][m] - ma[name][m]
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
