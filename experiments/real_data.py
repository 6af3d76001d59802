"""What the real labelled data buys (issue 10), measured.

Runs (each trains a fresh model with the project's trainer, thresholds chosen on held-out
documents of its own training set, then tests on rows it never saw):

- dev/<data>: train on seeds+authored, real only, or all, and test on ../shared/dev;
- curve/<n>: seeds+authored plus n real rows (a seeded random sample of whole documents'
  sentences, n = 1000, 2000, 4000, all), tested on the dev set;
- cv/real: 5-fold document-grouped CV on the real rows (seeds+authored always train), pooled;
- cross/<a>-><b>: train without one register of the real rows (communiqués or UN speeches),
  test on it.

    python -m experiments.real_data --dev ../shared/dev/dev.jsonl --archs tfidf finetune \
        --output artifacts/experiments/real-data

Results are written after every run (report.json, report.md), so a long run keeps what it did.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from data.atomic import write_text_atomic
from data.bundled import load_authored_rows, load_seed_rows
from data.labels import LABELS
from data.real import load_real_rows
from data.records import read_labelled_jsonl, rows_hash
from data.records import texts_and_targets
from evaluation.arch_selection import summarise
from evaluation.harness import EvalResult, evaluate_model
from evaluation.metrics import compute_metrics
from models.config import TrainConfig
from models.provenance import library_versions
from training.train import train_model

CURVE = (1000, 2000, 4000)
ALL_RUNS = ("dev", "curve", "cv", "cross")


def sample_real(real: list[dict], n: int, seed: int) -> list[dict]:
    """About n real rows, drawn as whole documents in a seeded random order (a document's
    sentences stay together, as they would when a new source is labelled)."""
    docs = sorted({r["doc_id"] for r in real})
    order = np.random.default_rng(seed).permutation(len(docs))
    by_doc: dict[str, list[dict]] = {}
    for r in real:
        by_doc.setdefault(r["doc_id"], []).append(r)
    out: list[dict] = []
    for i in order:
        if len(out) >= n:
            break
        out += by_doc[docs[i]]
    return out


def run_experiment(archs, dev_rows, output: Path, runs=ALL_RUNS, seed: int = 13, n_bootstrap: int = 1000,
                   progress=print) -> dict:
    seeds, authored, real = load_seed_rows(), load_authored_rows(), load_real_rows()
    base = seeds + authored
    output.mkdir(parents=True, exist_ok=True)
    results: dict = {"real_rows": len(real), "real_sha256": rows_hash(real), "base_rows": len(base),
                     "seed": seed, "library_versions": library_versions(), "runs": []}
    un = [r for r in real if r["register"] == "ungd"]
    cq = [r for r in real if r["register"] == "communique"]

    def record(arch, name, train_rows, metrics, seconds):
        results["runs"].append({"arch": arch, "run": name, "train_rows": len(train_rows), "train_seconds": seconds,
                                "metrics": metrics, "summary": summarise(metrics)})
        write_text_atomic(output / "report.json", json.dumps(results, indent=1) + "\n")
        write_text_atomic(output / "report.md", format_report(results))
        s = results["runs"][-1]["summary"]
        progress(f"[{arch}] {name}: macro-F1 {s['macro_f1']:.3f} ({len(train_rows)} training rows, {seconds}s)")

    def fit(arch, rows):
        model = train_model(TrainConfig(arch=arch, seed=seed), rows)
        return model, model.training_seconds_

    for arch in archs:
        if "dev" in runs and dev_rows:
            for name, rows in (("seeds+authored", base), ("real only", real), ("all", base + real)):
                model, secs = fit(arch, rows)
                record(arch, f"dev / {name}", rows, evaluate_model(model, dev_rows, n_bootstrap, seed).metrics, secs)
        if "curve" in runs and dev_rows:
            for n in CURVE:
                if n >= len(real):
                    continue
                rows = base + sample_real(real, n, seed)
                model, secs = fit(arch, rows)
                record(arch, f"curve / seeds+authored + {n} real", rows,
                       evaluate_model(model, dev_rows, n_bootstrap, seed).metrics, secs)
        if "cv" in runs:
            _, _, groups = texts_and_targets(real)
            pooled_rows, pooled_scores, pooled_pred, started = [], [], [], time.perf_counter()
            for k, (train_idx, test_idx) in enumerate(GroupKFold(n_splits=5).split(real, groups=groups)):
                progress(f"[{arch}] real CV fold {k + 1}/5")
                model, _ = fit(arch, base + [real[i] for i in train_idx])
                test = [real[i] for i in test_idx]
                res = evaluate_model(model, test, n_bootstrap=10)
                pooled_rows += test
                pooled_scores.append(res.scores)
                pooled_pred.append(res.predicted)
            pooled = EvalResult(pooled_rows, np.vstack(pooled_scores), np.vstack(pooled_pred), {})
            record(arch, "cv / real, 5 document-grouped folds", base + real,
                   compute_metrics(pooled.gold, pooled.predicted, n_bootstrap=n_bootstrap, seed=seed),
                   round(time.perf_counter() - started, 1))
        if "cross" in runs and un and cq:
            for name, train_real, test in (("communiqués -> UN speeches", cq, un), ("UN speeches -> communiqués", un, cq)):
                model, secs = fit(arch, base + train_real)
                record(arch, f"cross / {name}", base + train_real,
                       evaluate_model(model, test, n_bootstrap, seed).metrics, secs)
    return results


def format_report(results: dict) -> str:
    lines = [
        "# Real data: what it buys", "",
        f"{results['real_rows']} real rows (sha256 {results['real_sha256'][:12]}), {results['base_rows']} seed + "
        f"authored rows; seed {results['seed']}. C/S/P = commitment / support_declaration / project_pledge; "
        "P/R = precision/recall; 95% bootstrap CI over sentences.", "",
        "| arch | run | train rows | train s | C P/R | S P/R | P P/R | macro-F1 [95% CI] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        s = r["summary"]
        pr = [f"{s[n + '_precision']:.2f}/{s[n + '_recall']:.2f}" for n in LABELS]
        lo, hi = s["macro_f1_ci"]
        lines.append(f"| {r['arch']} | {r['run']} | {r['train_rows']} | {r['train_seconds']} | " + " | ".join(pr)
                     + f" | {s['macro_f1']:.3f} [{lo:.2f}, {hi:.2f}] |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dev", type=Path, default=None)
    p.add_argument("--archs", nargs="+", default=["tfidf"])
    p.add_argument("--runs", nargs="+", default=list(ALL_RUNS), choices=ALL_RUNS)
    p.add_argument("--output", type=Path, default=Path("artifacts/experiments/real-data"))
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args(argv)
    dev = read_labelled_jsonl(args.dev) if args.dev else None
    run_experiment(args.archs, dev, args.output, runs=args.runs, seed=args.seed)


if __name__ == "__main__":
    main()
