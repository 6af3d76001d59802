"""Per-label logistic-regression heads over a dense or sparse feature matrix."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.base import StanceModel, grouped_out_of_fold


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


class LinearHeadsModel(StanceModel):
    """Features (fitted once on every training text) + one logistic regression per label.

    Thresholds come from grouped out-of-fold predictions of the heads over those features;
    the feature map itself is unsupervised, so fitting it once on all texts leaks no label.
    """

    @abstractmethod
    def _fit_features(self, texts: list[str]):
        """Fit the feature map on the training texts and return their (N, D) features."""

    @abstractmethod
    def _features(self, texts: list[str], batch_size: int):
        """(N, D) features of new texts."""

    def _fit(self, texts, Y, groups):
        X = self._fit_features(texts)

        def fit_predict(train_idx, test_idx):
            estimators, priors = fit_heads(X[train_idx], Y[train_idx], self.config.C)
            return heads_proba(estimators, priors, X[test_idx])

        held_out = grouped_out_of_fold(fit_predict, Y, groups, self.config.threshold_folds)
        self.estimators_, self.priors_ = fit_heads(X, Y, self.config.C)
        return Y, held_out

    def _predict_proba(self, texts, batch_size):
        return heads_proba(self.estimators_, self.priors_, self._features(texts, batch_size))
