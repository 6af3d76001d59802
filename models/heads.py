"""Per-label logistic-regression heads over a dense or sparse feature matrix."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def fit_heads(X, Y: np.ndarray, C: float) -> tuple[list, np.ndarray]:
    """One class-weighted logistic regression per column of Y (N, K).

    A label with a single class in Y gets None and its prior is used instead.
    Returns (estimators, priors of shape (K,)).
    """
    estimators = []
    for k in range(Y.shape[1]):
        if 0 < Y[:, k].sum() < len(Y):
            estimators.append(LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(X, Y[:, k]))
        else:
            estimators.append(None)
    return estimators, Y.mean(axis=0).astype(float)


def heads_proba(estimators: list, priors: np.ndarray, X) -> np.ndarray:
    """(N, K) positive-class probabilities."""
    return np.stack(
        [clf.predict_proba(X)[:, 1] if clf is not None else np.full(X.shape[0], p) for clf, p in zip(estimators, priors)],
        axis=1,
    )
