"""Model selection by measurement: every arch x every training-data variant, scored by
leave-one-article-out CV on the seeds and by a held-out labelled set (the shared dev set),
with training time and model size, in one side-by-side report."""

from __future__ import annotations

import json
import time
from pathlib import Path

from data.bundled import load_authored_rows, load_seed_rows
from data.atomic import write_text_atomic
from data.labels import LABELS
from evaluation.harness import evaluate_model, leave_one_article_out
from evaluation.report import format_table
from models.config import TrainConfig
from models.provenance import library_versions
from training.train import train_model

VARIANTS = ("seeds", "seeds+authored", "seeds+authored+real")  # the last, richest one is what `train` uses


def _dir_size_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def summarise(metrics: dict) -> dict:
    """Flat per-label precision/recall/F1, macro-F1 with its CI, micro-F1 and the lowest precision."""
    rows = metrics["rows"]
    out = {f"{name}_{m}": rows[name][m] for name in LABELS for m in ("precision", "recall", "f1")}
    out["macro_f1"] = rows["macro"]["f1"]
    out["macro_f1_ci"] = rows["macro"]["ci"]["f1"]
    out["micro_f1"] = rows["micro"]["f1"]
    out["min_precision"] = min(rows[name]["precision"] for name in LABELS)
    return out


def compare_archs(
    archs: list[str], dev_rows: list[dict] | None, output: Path, variants=VARIANTS,
    base_config: TrainConfig | None = None, n_bootstrap: int = 1000, progress=print,
) -> dict:
    base_config = base_config or TrainConfig()
    output = Path(output)
    from data.real import load_real_rows

    seeds, authored, real = load_seed_rows(), load_authored_rows(), load_real_rows()
    runs = []
    for variant in variants:
        extra = {"seeds": [], "seeds+authored": authored, "seeds+authored+real": authored + real}[variant]
        for arch in archs:
            config = base_config.replace(arch=arch)
            progress(f"[{variant} / {arch}] leave-one-article-out CV")
            cv = leave_one_article_out(config, seeds, extra, n_bootstrap=n_bootstrap, progress=progress)
            progress(f"[{variant} / {arch}] training on all {len(seeds) + len(extra)} rows")
            model = train_model(config, seeds + extra)
            model_dir = model.save(output / "models" / f"{variant}-{arch}")
            run = {
                "variant": variant, "arch": arch, "train_rows": len(seeds) + len(extra),
                "train_seconds": model.training_seconds_, "model_mb": _dir_size_mb(model_dir),
                "cv": cv.metrics, "cv_summary": summarise(cv.metrics), "cv_seconds": cv.info["seconds"],
            }
            if dev_rows:
                started = time.perf_counter()
                dev = evaluate_model(model, dev_rows, n_bootstrap=n_bootstrap)
                run.update(dev=dev.metrics, dev_summary=summarise(dev.metrics),
                           dev_sentences_per_second=round(len(dev_rows) / (time.perf_counter() - started), 1))
            runs.append(run)
            _write(output, runs, dev_rows is not None)  # after every run: a long comparison keeps its results
    return _write(output, runs, dev_rows is not None)


def choose_winner(runs: list[dict], has_dev: bool) -> dict:
    """Best dev macro-F1 (CV macro-F1 without a dev set) among the runs of the richest variant."""
    key = "dev_summary" if has_dev else "cv_summary"
    richest = [r for r in runs if r["variant"] == runs[-1]["variant"]]
    best = max(richest, key=lambda r: r[key]["macro_f1"])
    return {"arch": best["arch"], "variant": best["variant"], "by": f"{key.split('_')[0]} macro-F1",
            "macro_f1": best[key]["macro_f1"]}


def _write(output: Path, runs: list[dict], has_dev: bool) -> dict:
    output.mkdir(parents=True, exist_ok=True)
    result = {"runs": runs, "winner": choose_winner(runs, has_dev), "library_versions": library_versions()}
    write_text_atomic(output / "selection.json", json.dumps(result, indent=2) + "\n")
    write_text_atomic(output / "selection.md", format_selection(result, has_dev))
    return result


def format_selection(result: dict, has_dev: bool) -> str:
    head = ["variant", "arch", "train rows", "train s", "MB"]
    evals = [("cv", "CV")] + ([("dev", "dev")] if has_dev else [])
    cols = [f"{tag} {short} {m}" for tag, label in evals for short in ("C", "S", "P") for m in ("P", "R")]
    cols += [f"{label} macro-F1 [95% CI]" for _, label in evals]
    lines = ["| " + " | ".join(head + cols) + " |", "|" + "---|" * (len(head) + len(cols))]
    for r in result["runs"]:
        cells = [r["variant"], r["arch"], str(r["train_rows"]), str(r["train_seconds"]), str(r["model_mb"])]
        for tag, _ in evals:
            s = r[f"{tag}_summary"]
            for name in LABELS:
                cells += [f"{s[name + '_precision']:.2f}", f"{s[name + '_recall']:.2f}"]
        for tag, _ in evals:
            s = r[f"{tag}_summary"]
            cells.append(f"{s['macro_f1']:.3f} [{s['macro_f1_ci'][0]:.2f}, {s['macro_f1_ci'][1]:.2f}]")
        lines.append("| " + " | ".join(cells) + " |")
    w = result["winner"]
    text = [
        "# Model comparison",
        "",
        "C = commitment, S = support_declaration, P = project_pledge; P/R = precision/recall.",
        "CV = leave-one-article-out on the five seed articles (authored rows only ever train).",
        "",
        *lines,
        "",
        f"Winner ({w['by']}, {w['variant']}): **{w['arch']}** ({w['macro_f1']:.3f}).",
        "",
    ]
    for r in result["runs"]:
        for tag, label in evals:
            text += [f"## {r['variant']} / {r['arch']} — {label}", "", format_table(r[tag]), ""]
    return "\n".join(text)


def format_summary(result: dict, has_dev: bool) -> str:
    """The side-by-side table and the winner, without the per-run detail tables."""
    return format_selection(result, has_dev).split("\n## ")[0]
