"""Error analysis over an evaluation directory (report.json + predictions.jsonl).

The notebook notebooks/error_analysis.ipynb calls only these functions: it computes no
metric of its own.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from data.errors import DiplostanceError
from data.labels import LABELS
from evaluation.harness import EvalResult


def load_run(directory: str | Path) -> EvalResult:
    """The evaluation saved in `directory` (see evaluation.harness.EvalResult.save)."""
    return EvalResult.load(directory)


def latest_run(root: str | Path = "artifacts/eval") -> Path:
    """The most recently written evaluation directory under `root`."""
    reports = sorted(Path(root).glob("**/report.json"), key=lambda p: p.stat().st_mtime)
    if not reports:
        raise DiplostanceError(f"{root}: no evaluation found; run `diplostance evaluate` first")
    return reports[-1].parent


def metrics_table(run: EvalResult) -> list[dict]:
    """Rows of the report's per-category table (precision/recall/F1 with CIs, support)."""
    rows = run.report["metrics"]["rows"]
    return [
        {"category": name, **{m: rows[name][m] for m in ("precision", "recall", "f1")},
         **{f"{m}_ci": tuple(rows[name]["ci"][m]) for m in ("precision", "recall", "f1")},
         "support": rows[name]["support"], "predicted": rows[name]["predicted"]}
        for name in (*LABELS, "micro", "macro")
    ]


def confusion_table(run: EvalResult) -> list[dict]:
    return [{"category": n, **run.report["metrics"]["rows"][n]["confusion"]} for n in LABELS]


def pr_curve(run: EvalResult, label: str) -> dict:
    """Precision-recall curve of one label and the point at the run's threshold."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    k = LABELS.index(label)
    y, s = run.gold[:, k], run.scores[:, k]
    precision, recall, _ = precision_recall_curve(y, s)
    pred = run.predicted[:, k].astype(bool)
    tp = int((pred & (y == 1)).sum())
    at = {"precision": tp / max(pred.sum(), 1), "recall": tp / max(y.sum(), 1), "threshold": run.mean_thresholds()[label]}
    return {"precision": precision, "recall": recall, "at_threshold": at,
            "average_precision": float(average_precision_score(y, s)) if y.any() else float("nan")}


def reliability(run: EvalResult, label: str, n_bins: int = 10) -> dict:
    """Calibration: mean predicted probability vs observed positive rate in equal-width bins,
    plus the expected calibration error (weighted mean gap)."""
    from sklearn.calibration import calibration_curve

    k = LABELS.index(label)
    y, s = run.gold[:, k], run.scores[:, k]
    observed, mean_pred = calibration_curve(y, s, n_bins=n_bins, strategy="uniform")
    # calibration_curve drops empty bins; count what each non-empty bin holds, in the same order
    bins = np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], s, side="right")  # as calibration_curve bins
    counts = np.bincount(bins, minlength=n_bins)
    counts = counts[counts > 0]
    ece = float((np.abs(mean_pred - observed) * counts).sum() / max(counts.sum(), 1))
    return {"mean_predicted": mean_pred.tolist(), "observed_rate": observed.tolist(), "counts": counts.tolist(),
            "ece": ece}


def errors(run: EvalResult, label: str, kind: str) -> list[dict]:
    """False positives (kind='fp', most confident first) or false negatives ('fn', least)."""
    out = []
    for p in run.predictions:
        gold, pred = label in p["gold"], label in p["predicted"]
        if (kind == "fp" and pred and not gold) or (kind == "fn" and gold and not pred):
            out.append({"score": p["scores"][label], "id": p["id"], "doc_id": p["doc_id"], "text": p["text"],
                        "gold": p["gold"], "predicted": p["predicted"]})
    return sorted(out, key=lambda e: -e["score"] if kind == "fp" else e["score"])


def publisher_of(doc_id: str) -> str:
    """'kremlin/2022-...' -> 'kremlin'; seed ids -> 'xinhua (seed)'; else the doc id."""
    if "/" in doc_id:
        return doc_id.split("/", 1)[0]
    return "xinhua (seed)" if re.match(r"^\d{3}_[0-9a-f]{16}$", doc_id) else doc_id


def errors_by_group(run: EvalResult, key=lambda p: p["doc_id"]) -> list[dict]:
    """Per group (document by default; pass key=lambda p: publisher_of(p['doc_id'])): sentence
    count and false positives / false negatives summed over labels."""
    table: dict[str, Counter] = {}
    for p in run.predictions:
        c = table.setdefault(key(p), Counter())
        c["sentences"] += 1
        for n in LABELS:
            c["fp"] += n in p["predicted"] and n not in p["gold"]
            c["fn"] += n in p["gold"] and n not in p["predicted"]
    rows = [{"group": g, **c, "error_rate": (c["fp"] + c["fn"]) / c["sentences"]} for g, c in table.items()]
    return sorted(rows, key=lambda r: -r["error_rate"])


def _ngrams(text: str, n_max: int = 2) -> set[str]:
    words = re.findall(r"[a-z][a-z'-]+", text.lower())
    return {" ".join(words[i : i + n]) for n in range(1, n_max + 1) for i in range(len(words) - n + 1)}


def false_positive_phrases(run: EvalResult, label: str, top: int = 15, min_count: int = 2) -> list[dict]:
    """Words and bigrams over-represented in the label's false positives compared with the
    true negatives (smoothed log-odds ratio), i.e. what pulls the model into the error."""
    k = LABELS.index(label)
    fp_docs, tn_docs = [], []
    for p, g, d in zip(run.predictions, run.gold[:, k], run.predicted[:, k]):
        if d and not g:
            fp_docs.append(_ngrams(p["text"]))
        elif not d and not g:
            tn_docs.append(_ngrams(p["text"]))
    fp_counts, tn_counts = Counter(g for d in fp_docs for g in d), Counter(g for d in tn_docs for g in d)
    rows = []
    for gram, c in fp_counts.items():
        if c < min_count:
            continue
        fp_rate = (c + 0.5) / (len(fp_docs) + 1)
        tn_rate = (tn_counts[gram] + 0.5) / (len(tn_docs) + 1)
        rows.append({"phrase": gram, "in_fp": c, "in_tn": tn_counts[gram], "log_odds": float(np.log(fp_rate / tn_rate))})
    return sorted(rows, key=lambda r: -r["log_odds"])[:top]


def disagreements(run_a: EvalResult, run_b: EvalResult) -> list[dict]:
    """Sentences (matched by id) on which two runs predict different label sets."""
    b_by_id = {p["id"]: p for p in run_b.predictions}
    out = []
    for pa in run_a.predictions:
        pb = b_by_id.get(pa["id"])
        if pb is not None and set(pa["predicted"]) != set(pb["predicted"]):
            a_ok, b_ok = set(pa["predicted"]) == set(pa["gold"]), set(pb["predicted"]) == set(pa["gold"])
            out.append({"id": pa["id"], "text": pa["text"], "gold": pa["gold"], "a": pa["predicted"],
                        "b": pb["predicted"], "right": "a" if a_ok and not b_ok else "b" if b_ok and not a_ok else "neither"})
    return out
