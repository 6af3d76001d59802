"""Label audit: flag real rows whose label is likely wrong, for a reader to re-check.

Out-of-fold probabilities come from models that never saw the row's document (document-grouped
folds over the real rows; the seed and authored rows train every fold). cleanlab's confident
learning (``cleanlab.filter.find_label_issues`` with ``multi_label=True``) then flags rows
whose given label set disagrees with what the rest of the data implies, ranked by
self-confidence (most suspicious first).
"""

from __future__ import annotations

import numpy as np

from data.labels import LABELS, from_multi_hot
from data.records import texts_and_targets
from models.base import grouped_out_of_fold
from models.config import TrainConfig
from models.registry import build_model


def out_of_fold_real(real: list[dict], other: list[dict], config: TrainConfig, n_splits: int = 5) -> np.ndarray:
    """(N, K) probabilities for the real rows, each from a model that never saw its document."""
    texts, Y, groups = texts_and_targets(real)

    def fit_predict(train_idx, test_idx):
        model = build_model(config).fit(*texts_and_targets([real[i] for i in train_idx] + other))
        return model.predict_proba([texts[i] for i in test_idx])

    return grouped_out_of_fold(fit_predict, Y, groups, n_splits)


def flag_label_issues(real: list[dict], probs: np.ndarray) -> list[dict]:
    """Rows flagged by cleanlab, most suspicious first, with the model's view beside them."""
    from cleanlab.filter import find_label_issues

    given = [[i for i, name in enumerate(LABELS) if name in r["labels"]] for r in real]
    ranked = find_label_issues(labels=given, pred_probs=probs, multi_label=True,
                               return_indices_ranked_by="self_confidence")
    out = []
    for rank, i in enumerate(ranked, 1):
        out.append({
            "rank": rank, "id": real[i]["id"], "text": real[i]["text"], "labels": real[i]["labels"],
            "model_labels": from_multi_hot((probs[i] >= 0.5).astype(int)),
            "scores": {name: round(float(p), 3) for name, p in zip(LABELS, probs[i])},
        })
    return out
