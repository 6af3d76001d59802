"""Tables and files written by `diplostance evaluate`: report.json, report.md, predictions.jsonl."""

from __future__ import annotations


from data.labels import LABELS

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
