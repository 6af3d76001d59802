"""Evaluation runs: a saved model on labelled rows, and leave-one-article-out CV on the seeds."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from data.atomic import write_text_atomic
from data.errors import DiplostanceError, Where
from data.labels import LABELS, from_multi_hot
from data.records import LabelledRow, multi_hot, texts_and_targets, write_jsonl
from evaluation.metrics import compute_metrics
from models.base import StanceModel
from models.config import TrainConfig
from models.provenance import library_versions
from models.registry import build_model


@dataclass
class EvalResult:
    """One evaluation: gold and predicted matrices (N, K) for `rows`, with scores, thresholds
    and computed metrics. It saves itself to a directory (report.json, report.md,
    predictions.jsonl) and loads back from one, for the notebook and for comparisons."""

    rows: list[dict]
    scores: np.ndarray
    predicted: np.ndarray
    thresholds: dict[str, float] | list[dict[str, float]]
    metrics: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    title: str = ""
    directory: Path | None = None

    @property
    def gold(self) -> np.ndarray:
        return multi_hot([r["labels"] for r in self.rows])

    @property
    def report(self) -> dict:
        return {"title": self.title, **self.info, "n_sentences": len(self.rows), "thresholds": self.thresholds,
                "metrics": self.metrics, "library_versions": self.info.get("library_versions") or library_versions()}

    @cached_property
    def predictions(self) -> list[dict]:
        return self.prediction_rows()

    def mean_thresholds(self) -> dict[str, float]:
        """The run's thresholds; for CV (one set per fold) their mean, for display only."""
        if isinstance(self.thresholds, list):
            return {n: float(np.mean([fold[n] for fold in self.thresholds])) for n in LABELS}
        return self.thresholds

    def save(self, out_dir: str | Path, title: str | None = None) -> Path:
        """Write report.json, report.md and predictions.jsonl; report.json is written last,
        so its presence marks a complete run."""
        from evaluation.report import format_confusion, format_table

        out_dir = Path(out_dir)
        self.title = title if title is not None else self.title
        self.info.setdefault("library_versions", library_versions())
        write_jsonl(self.prediction_rows(), out_dir / "predictions.jsonl")
        md = [f"# {self.title}", "",
              f"{len(self.rows)} sentences; {self.metrics['n_bootstrap']} bootstrap resamples of sentences for the intervals.",
              "", format_table(self.metrics), "", "Per-label confusion counts:", "", format_confusion(self.metrics), ""]
        write_text_atomic(out_dir / "report.md", "\n".join(md))
        write_text_atomic(out_dir / "report.json", json.dumps(self.report, indent=2, ensure_ascii=False) + "\n")
        self.directory = out_dir
        return out_dir

    @classmethod
    def load(cls, directory: str | Path) -> "EvalResult":
        directory = Path(directory)
        report_path, pred_path = directory / "report.json", directory / "predictions.jsonl"
        if not report_path.is_file() or not pred_path.is_file():
            raise DiplostanceError(f"{directory}: not an evaluation directory (needs report.json and predictions.jsonl)")
        report = json.loads(report_path.read_text())
        preds = [json.loads(line) for line in pred_path.read_text().splitlines() if line.strip()]
        rows = [LabelledRow(id=p["id"], doc_id=p["doc_id"], source=p.get("source", ""), text=p["text"],
                            labels=p["gold"], where=Where(str(pred_path), i),
                            meta={"fold": p["fold"]} if "fold" in p else {}) for i, p in enumerate(preds, 1)]
        scores = np.array([[p["scores"][n] for n in LABELS] for p in preds]).reshape(-1, len(LABELS))
        info = {k: v for k, v in report.items() if k not in ("title", "n_sentences", "thresholds", "metrics")}
        return cls(rows, scores, multi_hot([p["predicted"] for p in preds]), report["thresholds"],
                   report["metrics"], info, report.get("title", ""), directory)

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
    from sklearn.model_selection import LeaveOneGroupOut

    docs = [r["doc_id"] for r in seed_rows]
    articles = sorted(set(docs))
    scored_rows, scores, predicted, thresholds = [], [], [], []
    started = time.perf_counter()
    splits = sorted(LeaveOneGroupOut().split(seed_rows, groups=docs), key=lambda split: docs[split[1][0]])
    for fold, (train_idx, test_idx) in enumerate(splits):
        article = docs[test_idx[0]]
        train = [seed_rows[i] for i in train_idx] + extra_train_rows
        test = [seed_rows[i] for i in test_idx]
        if progress:
            progress(f"fold {fold + 1}/{len(articles)}: held out {article} ({len(test)} sentences, train {len(train)})")
        texts, Y, groups = texts_and_targets(train)
        model = build_model(config).fit(texts, Y, groups)
        s = model.predict_proba([r["text"] for r in test])
        scores.append(s)
        predicted.append((s >= model.thresholds_).astype(int))
        thresholds.append({n: float(t) for n, t in zip(LABELS, model.thresholds_)})
        scored_rows += [r.replace(fold=article) for r in test]
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
