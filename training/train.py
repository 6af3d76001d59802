"""Training: gather labelled rows, fit a model, record provenance, save atomically."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np

from data.bundled import load_bundled
from data.errors import DiplostanceError
from data.labels import LABELS
from data.records import texts_and_targets, check_consistent_labels, check_unique_ids, file_sha256, read_labelled_jsonl, rows_hash
from models.base import StanceModel
from models.config import TrainConfig
from models.registry import build_model
from training.source_check import check_rows_against_sources


def gather_training_rows(
    data_files: list[str | Path] | None = None, bundled: bool = True, authored: bool = True, data_weight: int = 1,
    real: bool = True,
) -> tuple[list[dict], list[dict]]:
    """(rows, file records) from the bundled data and extra labelled JSONL files.

    Validates every file (see data.records) and the union: ids unique across files and no
    sentence with two different label sets. `data_weight` > 1 repeats each row of the extra
    files that many times, so a few hundred sentences from a new source are not drowned by
    thousands of bundled ones (repeats share their document, so they never straddle a split).
    """
    rows: list[dict] = load_bundled(include_authored=authored, include_real=real) if bundled else []
    files, extra = [], []
    for path in data_files or []:
        file_rows = read_labelled_jsonl(path)
        rows += file_rows
        extra += file_rows
        files.append({"path": str(path), "sha256": file_sha256(path), "rows": len(file_rows)})
    if not rows:
        raise DiplostanceError("no training data: give --data FILE or keep the bundled data")
    check_unique_ids(rows)
    check_consistent_labels(rows)
    check_rows_against_sources(rows)
    if data_weight > 1:
        rows += [r.replace(id=f"{r.id}#repeat{k}") for k in range(1, data_weight) for r in extra]
    for f in files:
        f["weight"] = data_weight
    return rows, files


def describe_rows(rows: list[dict], files: list[dict] | None = None) -> dict:
    return {
        "rows": len(rows),
        "sha256": rows_hash(rows),
        "label_counts": dict(Counter(label for r in rows for label in r["labels"])),
        "none_rows": sum(1 for r in rows if not r["labels"]),
        "source_counts": dict(Counter(r["source"] for r in rows)),
        "files": files or [],
    }


def heldout_metrics(Y: np.ndarray, P: np.ndarray, thresholds: np.ndarray) -> dict:
    """Precision/recall/F1 per label, micro and macro, of the held-out predictions behind the
    thresholds (for the model card)."""
    from sklearn.metrics import precision_recall_fscore_support

    pred = (P >= thresholds).astype(int)
    out: dict = {"sentences": int(len(Y))}
    per = precision_recall_fscore_support(Y, pred, average=None, zero_division=0)
    for k, name in enumerate(LABELS):
        out[name] = {"precision": float(per[0][k]), "recall": float(per[1][k]), "f1": float(per[2][k])}
    for avg in ("micro", "macro"):
        p, r, f, _ = precision_recall_fscore_support(Y, pred, average=avg, zero_division=0)
        out[avg] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    return out


def train_model(config: TrainConfig, rows: list[dict], files: list[dict] | None = None) -> StanceModel:
    texts, Y, groups = texts_and_targets(rows)
    model = build_model(config)
    started = time.perf_counter()
    model.fit(texts, Y, groups)
    model.training_seconds_ = round(time.perf_counter() - started, 1)
    model.training_data_ = describe_rows(rows, files)
    model.heldout_metrics_ = heldout_metrics(*model.heldout_, model.thresholds_)
    return model


def train(
    config: TrainConfig, output_dir: str | Path, data_files=None, bundled: bool = True, authored: bool = True,
    data_weight: int = 1, real: bool = True,
) -> StanceModel:
    from models.base import check_model_output

    check_model_output(output_dir)  # before any work: never after a long training
    rows, files = gather_training_rows(data_files, bundled=bundled, authored=authored, data_weight=data_weight, real=real)
    model = train_model(config, rows, files)
    model.save(output_dir)
    return model
