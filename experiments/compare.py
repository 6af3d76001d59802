"""The model comparison (issue 12): tfidf, fine-tuned MiniLM and their ensemble, side by side on
the same data and splits; fine-tuned mpnet where the machine allows it.

One ensemble training per split gives all three models: the ensemble's parts are fitted models
in their own right (models.ensemble), each with thresholds chosen on its own held-out rows, so
tfidf, finetune and ensemble see exactly the same training rows, validation documents and seed.

Runs (every model trains on seeds + authored + the real rows of its split):
- dev: all the bundled data -> ../shared/dev (95% bootstrap CI over sentences);
- cv: document-grouped folds over the real rows (seeds + authored always train), pooled;
- cross: without one register of the real rows (communiqués or UN speeches), tested on it.
Per model and run: per-category precision/recall, macro-F1 with CI, expected calibration error
(ECE) of the raw probabilities and of the threshold-centred scores (evaluation.metrics), training
seconds, and (dev run) sentences/s of predict_proba on 2 cores.

``--mpnet`` adds fine-tuned all-mpnet-base-v2 on the dev run; ``--mpnet-probe N`` instead times
one epoch on N rows and projects the full training time (the honest figure when a run does not
fit the session). The dev run's models are kept under OUTPUT/models/ (finetune/ and ensemble/).

Results are written after every run and the report resumes: a run already in OUTPUT/report.json
for the same data, seed and folds is not run again.

    python -m experiments.compare --dev ../shared/dev/dev.jsonl --output artifacts/experiments/compare
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from data.atomic import write_text_atomic
from data.bundled import load_bundled
from data.labels import LABELS
from data.records import read_labelled_jsonl, rows_hash, texts_and_targets
from evaluation.arch_selection import summarise
from evaluation.metrics import compute_metrics, expected_calibration_error, threshold_centred
from models.config import TrainConfig
from models.encoder import configure_cpu_threads
from models.provenance import library_versions
from training.train import heldout_metrics, train_model

MODELS = ("tfidf", "finetune", "ensemble")
RUNS = ("dev", "cv", "cross")


def _split_models(ensemble) -> dict:
    """{name: fitted model} from one fitted ensemble: its two parts and itself."""
    parts = ensemble.fitted_parts()
    for part in parts.values():
        part.training_data_ = ensemble.training_data_
        part.heldout_metrics_ = heldout_metrics(*part.heldout_, part.thresholds_)
    return {**parts, "ensemble": ensemble}


def measure(Y: np.ndarray, P: np.ndarray, thresholds: np.ndarray, n_bootstrap: int, seed: int) -> dict:
    pred = (P >= thresholds).astype(int)
    metrics = compute_metrics(Y, pred, n_bootstrap=n_bootstrap, seed=seed)
    return {"summary": summarise(metrics), "metrics": metrics,
            "ece_raw": expected_calibration_error(Y, P), "ece_centred": expected_calibration_error(Y, threshold_centred(P, thresholds))}


def sentences_per_second(model, texts: list[str], repeats: int = 3) -> float:
    configure_cpu_threads()
    model.predict_proba(texts[:32])  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        model.predict_proba(texts)
    return round(repeats * len(texts) / (time.perf_counter() - started), 1)


class Comparison:
    """``config``: the training settings of every model (arch is set per model); ``rows``: the
    training data (default: the bundled data)."""

    def __init__(self, output: Path, dev_rows, seed: int = 13, folds: int = 3, n_bootstrap: int = 1000,
                 config: TrainConfig | None = None, rows: list | None = None, progress=print):
        self.output, self.dev_rows, self.seed, self.folds = output, dev_rows, seed, folds
        self.n_bootstrap, self.progress = n_bootstrap, progress
        self.config = (config or TrainConfig()).replace(arch="ensemble", seed=seed)
        self.rows = rows if rows is not None else load_bundled()
        self.real = [r for r in self.rows if r["source"] == "real"]
        self.base = [r for r in self.rows if r["source"] != "real"]
        key = {"data_sha256": rows_hash(self.rows), "seed": seed, "config": self.config.to_dict()}
        previous = json.loads((output / "report.json").read_text()) if (output / "report.json").is_file() else {}
        # runs of the same data, seed and config are kept (the CV run's name carries its folds)
        same = {k: v for k, v in previous.get("key", {}).items() if k != "folds"} == key
        self.results = previous if same else {"key": key, "runs": {}}
        self.results["key"] = key
        self.results.update(rows=len(self.rows), real_rows=len(self.real), library_versions=library_versions())

    def save(self):
        self.output.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.output / "report.json", json.dumps(self.results, indent=1) + "\n")
        write_text_atomic(self.output / "report.md", format_report(self.results))

    def done(self, run: str) -> bool:
        return run in self.results["runs"] and "partial" not in self.results["runs"][run]

    def record(self, run: str, entry: dict):
        self.results["runs"][run] = entry
        self.save()
        for name, m in entry.get("models", {}).items():
            s = m["summary"]
            self.progress(f"{run} / {name}: macro-F1 {s['macro_f1']:.3f}, min precision {s['min_precision']:.2f}, "
                          f"ECE {m['ece_raw']['mean']:.3f} -> {m['ece_centred']['mean']:.3f}, train {m['train_seconds']} s")

    def train(self, rows, config: TrainConfig | None = None):
        config = config or self.config
        model = train_model(config, rows)
        return _split_models(model) if config.arch == "ensemble" else {config.arch: model}

    def test(self, models: dict, rows) -> dict:
        texts, Y, _ = texts_and_targets(rows)
        out = {}
        for name, model in models.items():
            P = model.predict_proba(texts)
            out[name] = {**measure(Y, P, model.thresholds_, self.n_bootstrap, self.seed),
                         "train_seconds": model.training_seconds_, "thresholds": model.thresholds_.tolist()}
        return out

    # ---- the runs --------------------------------------------------------------------
    def run_dev(self, keep: Path | None):
        if self.done("dev") or not self.dev_rows:
            return
        self.progress(f"dev: training on {len(self.rows)} rows")
        models = self.train(self.rows)
        entry = {"train_rows": len(self.rows), "test_rows": len(self.dev_rows), "models": self.test(models, self.dev_rows)}
        texts = [r["text"] for r in self.dev_rows]
        for name, model in models.items():
            entry["models"][name]["sentences_per_second"] = sentences_per_second(model, texts)
        if keep:
            for name in ("finetune", "ensemble"):
                models[name].save(keep / name)
        self.record("dev", entry)

    def run_cv(self):
        run = f"cv ({self.folds} grouped folds, real)"
        if self.done(run):
            return
        partial = self.results["runs"].get(run, {}).get("partial", {})
        _, _, groups = texts_and_targets(self.real)
        splits = list(GroupKFold(n_splits=self.folds).split(self.real, groups=groups))
        for k, (train_idx, test_idx) in enumerate(splits):
            if str(k) in partial:
                continue
            self.progress(f"cv fold {k + 1}/{self.folds}")
            models = self.train(self.base + [self.real[i] for i in train_idx])
            texts = [self.real[i]["text"] for i in test_idx]
            partial[str(k)] = {name: {"proba": np.round(m.predict_proba(texts), 5).tolist(),
                                      "thresholds": m.thresholds_.tolist(), "train_seconds": m.training_seconds_}
                               for name, m in models.items()}
            self.results["runs"][run] = {"partial": partial}
            self.save()
        _, Y_real, _ = texts_and_targets(self.real)
        entry = {"train_rows": len(self.base) + len(self.real), "test_rows": len(self.real), "models": {}}
        for name in partial["0"]:
            order = np.concatenate([test_idx for _, test_idx in splits])
            P = np.vstack([np.array(partial[str(k)][name]["proba"]) for k in range(len(splits))])
            T = np.vstack([np.tile(partial[str(k)][name]["thresholds"], (len(test_idx), 1))
                           for k, (_, test_idx) in enumerate(splits)])
            m = measure(Y_real[order], P, T, self.n_bootstrap, self.seed)
            m["train_seconds"] = round(sum(partial[str(k)][name]["train_seconds"] for k in range(len(splits))), 1)
            entry["models"][name] = m
        self.record(run, entry)

    def run_cross(self):
        un = [r for r in self.real if r["register"] == "ungd"]
        cq = [r for r in self.real if r["register"] == "communique"]
        for name, train_real, test in (("cross: communiqués -> UN speeches", cq, un),
                                       ("cross: UN speeches -> communiqués", un, cq)):
            if self.done(name):
                continue
            self.progress(name)
            models = self.train(self.base + train_real)
            self.record(name, {"train_rows": len(self.base) + len(train_real), "test_rows": len(test),
                               "models": self.test(models, test)})

    def run_mpnet(self, probe_rows: int | None):
        if probe_rows:
            if "mpnet probe" in self.results["runs"]:
                return
            sample = self.rows[:: max(1, len(self.rows) // probe_rows)][:probe_rows]
            config = self.config.replace(arch="finetune", base_model="mpnet", epochs=1, patience=1)
            started = time.perf_counter()
            model = train_model(config, sample)
            seconds = time.perf_counter() - started
            speed = sentences_per_second(model, [r["text"] for r in (self.dev_rows or self.rows)[:200]], repeats=1)
            epochs = self.config.epochs
            projected = seconds * len(self.rows) / len(sample) * epochs
            self.results["runs"]["mpnet probe"] = {
                "probe_rows": len(sample), "probe_seconds_one_epoch": round(seconds, 1),
                "projected_seconds_full_training": round(projected), "epochs": epochs,
                "sentences_per_second": speed}
            self.save()
            self.progress(f"mpnet probe: one epoch on {len(sample)} rows {seconds:.0f} s; "
                          f"full training ({len(self.rows)} rows, {epochs} epochs) projected {projected / 3600:.1f} h")
            return
        if self.done("dev (mpnet)") or not self.dev_rows:
            return
        models = self.train(self.rows, self.config.replace(arch="finetune", base_model="mpnet"))
        entry = {"train_rows": len(self.rows), "test_rows": len(self.dev_rows), "models": self.test(models, self.dev_rows)}
        entry["models"]["finetune"]["sentences_per_second"] = sentences_per_second(
            models["finetune"], [r["text"] for r in self.dev_rows])
        self.record("dev (mpnet)", entry)


def format_report(results: dict) -> str:
    key = results["key"]
    lines = [
        "# Model comparison", "",
        f"{results.get('rows')} training rows ({results.get('real_rows')} real; data sha256 {key['data_sha256'][:12]}), "
        f"seed {key['seed']}. C/S/P = commitment / support_declaration / project_pledge; P/R = precision/recall; "
        "95% bootstrap CI over sentences; ECE = expected calibration error (10 bins, mean over labels) of the raw "
        "probabilities -> of the threshold-centred scores; train s on 2 cores; sent/s = predict_proba, 2 threads.", "",
        "| run | model | macro-F1 [95% CI] | C P/R | S P/R | P P/R | ECE raw -> centred | train s | sent/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run, entry in results["runs"].items():
        for name, m in entry.get("models", {}).items():
            s = m["summary"]
            lo, hi = s["macro_f1_ci"]
            pr = " | ".join(f"{s[n + '_precision']:.2f}/{s[n + '_recall']:.2f}" for n in LABELS)
            lines.append(f"| {run} | {name} | {s['macro_f1']:.3f} [{lo:.2f}, {hi:.2f}] | {pr} | "
                         f"{m['ece_raw']['mean']:.3f} -> {m['ece_centred']['mean']:.3f} | {m['train_seconds']} | "
                         f"{m.get('sentences_per_second', '')} |")
    probe = results["runs"].get("mpnet probe")
    if probe:
        lines += ["", f"mpnet (all-mpnet-base-v2) probe: one epoch on {probe['probe_rows']} rows took "
                      f"{probe['probe_seconds_one_epoch']} s; a full training ({results.get('rows')} rows, "
                      f"{probe['epochs']} epochs) is projected at {probe['projected_seconds_full_training'] / 3600:.1f} h "
                      f"on these 2 cores; inference {probe['sentences_per_second']} sentences/s."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dev", type=Path, default=None)
    p.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--mpnet", action="store_true", help="also fine-tune all-mpnet-base-v2 on the dev run (hours on 2 cores)")
    p.add_argument("--mpnet-probe", type=int, default=None, metavar="N",
                   help="time one mpnet epoch on N rows and project the full training time")
    p.add_argument("--output", type=Path, default=Path("artifacts/experiments/compare"))
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--bootstrap", type=int, default=1000)
    args = p.parse_args(argv)
    dev = read_labelled_jsonl(args.dev) if args.dev else None
    comparison = Comparison(args.output, dev, args.seed, args.folds, args.bootstrap)
    comparison.save()
    if "dev" in args.runs:
        comparison.run_dev(args.output / "models")
    if args.mpnet or args.mpnet_probe:
        comparison.run_mpnet(args.mpnet_probe)
    if "cross" in args.runs:
        comparison.run_cross()
    if "cv" in args.runs:
        comparison.run_cv()


if __name__ == "__main__":
    main()
