"""Per-label decision thresholds chosen from held-out probabilities."""

from __future__ import annotations

import numpy as np

DEFAULT_THRESHOLD = 0.5


def choose_threshold(y_true: np.ndarray, scores: np.ndarray, target_precision: float | None = None) -> float:
    """Threshold for one label from held-out (y_true, scores), both shape (N,).

    Without a target: the threshold with the best F1 (ties -> the higher threshold).
    With a target precision: the lowest threshold whose precision reaches it (most recall);
    the best-F1 threshold when no threshold reaches it. Thresholds sit halfway between
    consecutive distinct scores so that they generalise a little beyond the exact values.

    >>> round(choose_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])), 3)
    0.225
    """
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    if y_true.sum() == 0 or y_true.all():
        return DEFAULT_THRESHOLD
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], y_true[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    # only cut where the score changes: predicted positive = the first i+1 items
    cut = np.r_[s[1:] < s[:-1], True]
    tp, fp, idx = tp[cut], fp[cut], np.nonzero(cut)[0]
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    next_score = np.r_[s[1:], 0.0][idx]
    candidates = (s[idx] + next_score) / 2
    if target_precision is not None:
        ok = np.nonzero(precision >= target_precision)[0]
        if len(ok):
            return float(candidates[ok[-1]])
    best = np.flatnonzero(f1 == f1.max())[0]  # first = highest threshold among ties
    return float(candidates[best])


def choose_thresholds(Y: np.ndarray, P: np.ndarray, target_precision: float | None = None) -> np.ndarray:
    """Y, P: arrays of shape (N, K) -> thresholds of shape (K,)."""
    return np.array([choose_threshold(Y[:, k], P[:, k], target_precision) for k in range(Y.shape[1])])
