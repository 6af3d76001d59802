"""Tables and files written by `diplostance evaluate`: report.json, report.md, predictions.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from data.labels import LABELS
from data.records import write_jsonl
from evaluation.harness import EvalResult
from models.provenance import library_versions

ROW_ORDER = (*LABELS, "micro", "macro")


def format_table(metrics: dict) -> str:
    """Markdown table: one row per label plus micro and macro, with 95% CIs."""
    conf = int(round(metrics["confidence"] * 100))
    lines = [
        f"| category | precision [{conf}% CI] | recall [{conf}% CI] | F1 [{conf}% CI] | support | predicted |",
        "|---|---|---|---|---|---|",
    ]
    for name in ROW_ORDER:
        r = metrics["rows"][name]
        cells = [f"{r[m]:.3f} [{r['ci'][m][0]:.2f}, {r['ci'][m][1]:.2f}]" for m in ("precision", "recall", "f1")]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r['support']} | {r['predicted']} |")
    return "\n".join(lines)


def format_confusion(metrics: dict) -> str:
    lines = ["| category | TP | FP | FN | TN |", "|---|---|---|---|---|"]
    for name in LABELS:
        c = metrics["rows"][name]["confusion"]
        lines.append(f"| {name} | {c['tp']} | {c['fp']} | {c['fn']} | {c['tn']} |")
    return "\n".join(lines)


def write_report(result: EvalResult, out_dir: str | Path, title: str, extra: dict | None = None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "title": title,
        **result.info,
        **(extra or {}),
        "n_sentences": len(result.rows),
        "thresholds": result.thresholds,
        "metrics": result.metrics,
        "library_versions": library_versions(),
    }
    write_jsonl(result.prediction_rows(), out_dir / "predictions.jsonl")
    md = [
        f"# {title}",
        "",
        f"{len(result.rows)} sentences; {result.metrics['n_bootstrap']} bootstrap resamples of sentences for the intervals.",
        "",
        format_table(result.metrics),
        "",
        "Per-label confusion counts:",
        "",
        format_confusion(result.metrics),
        "",
    ]
    (out_dir / "report.md").write_text("\n".join(md))
    tmp = out_dir / "report.json.partial"
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(out_dir / "report.json")  # written last: its presence marks a complete run
    return out_dir
