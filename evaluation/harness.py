"""Evaluation runs: a saved model on labelled rows, and leave-one-article-out CV on the seeds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from data.labels import LABELS, from_multi_hot, to_multi_hot
from evaluation.metrics import compute_metrics
from models.base import StanceModel
from models.config import TrainConfig
from models.registry import build_model


@dataclass
class EvalResult:
    """Gold and predicted matrices (N, K) for `rows`, with scores and computed metrics."""

    rows: list[dict]
    scores: np.ndarray
    predicted: np.ndarray
    thresholds: dict[str, float] | list[dict[str, float]]
    metrics: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def gold(self) -> np.ndarray:
        return np.array([to_multi_hot(r["labels"]) for r in self.rows], dtype=int).reshape(-1, len(LABELS))

    def prediction_rows(self) -> list[dict]:
        out = []
        for row, s, p in zip(self.rows, self.scores, self.predicted):
            out.append(
                {
                    "id": row["id"],
                    "doc_id": row["doc_id"],
                    "source": row.get("source", ""),
                    "text": row["text"],
                    "gold": row["labels"],
                    "scores": {name: round(float(v), 6) for name, v in zip(LABELS, s)},
                    "predicted": from_multi_hot(p),
                    **({"fold": row["fold"]} if "fold" in row else {}),
                }
            )
        return out


def texts_and_targets(rows: list[dict]) -> tuple[list[str], np.ndarray, list[str]]:
    """rows -> (texts, Y of shape (N, K), groups)."""
    texts = [r["text"] for r in rows]
    Y = np.array([to_multi_hot(r["labels"]) for r in rows], dtype=int).reshape(-1, len(LABELS))
    return texts, Y, [r["doc_id"] for r in rows]


def evaluate_model(model: StanceModel, rows: list[dict], n_bootstrap: int = 1000, seed: int = 0) -> EvalResult:
    texts, Y, _ = texts_and_targets(rows)
    started = time.perf_counter()
    scores = model.predict_proba(texts)
    seconds = time.perf_counter() - started
    predicted = (scores >= model.thresholds_).astype(int)
    result = EvalResult(
        rows=rows,
        scores=scores,
        predicted=predicted,
        thresholds={n: float(t) for n, t in zip(LABELS, model.thresholds_)},
        info={"kind": "holdout", "arch": model.arch, "predict_seconds": round(seconds, 3)},
    )
    result.metrics = compute_metrics(Y, predicted, n_bootstrap=n_bootstrap, seed=seed)
    return result


def leave_one_article_out(
    config: TrainConfig, seed_rows: list[dict], extra_train_rows: list[dict] | None = None,
    n_bootstrap: int = 1000, progress=None,
) -> EvalResult:
    """Train on all seed articles but one (plus `extra_train_rows`, never tested on),
    predict the held-out article; pool the predictions of every fold.

    No article appears in two folds' test sides; extra rows are always on the training side.
    """
    extra_train_rows = extra_train_rows or []
    articles = sorted({r["doc_id"] for r in seed_rows})
    scored_rows, scores, predicted, thresholds = [], [], [], []
    started = time.perf_counter()
    for fold, article in enumerate(articles):
        train = [r for r in seed_rows if r["doc_id"] != article] + extra_train_rows
        test = [r for r in seed_rows if r["doc_id"] == article]
        if progress:
            progress(f"fold {fold + 1}/{len(articles)}: held out {article} ({len(test)} sentences, train {len(train)})")
        texts, Y, groups = texts_and_targets(train)
        model = build_model(config).fit(texts, Y, groups)
        s = model.predict_proba([r["text"] for r in test])
        scores.append(s)
        predicted.append((s >= model.thresholds_).astype(int))
        thresholds.append({n: float(t) for n, t in zip(LABELS, model.thresholds_)})
        scored_rows += [{**r, "fold": article} for r in test]
    result = EvalResult(
        rows=scored_rows,
        scores=np.vstack(scores),
        predicted=np.vstack(predicted),
        thresholds=thresholds,
        info={
            "kind": "leave-one-article-out",
            "arch": config.arch,
            "folds": articles,
            "extra_train_rows": len(extra_train_rows),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    result.metrics = compute_metrics(result.gold, result.predicted, n_bootstrap=n_bootstrap, seed=config.seed)
    return result
