"""Two saved models on the same labelled data: metrics of both, bootstrap intervals of the
difference (same resampled sentences for both), and the sentences whose predictions flipped."""

from __future__ import annotations

import json
from pathlib import Path

from data.labels import LABELS
from data.records import write_jsonl
from evaluation.harness import evaluate_model
from evaluation.metrics import paired_bootstrap_difference
from evaluation.report import format_table
from models.base import StanceModel


def compare_models(old: StanceModel, new: StanceModel, rows: list[dict], n_bootstrap: int = 1000, seed: int = 0) -> dict:
    a = evaluate_model(old, rows, n_bootstrap=n_bootstrap, seed=seed)
    b = evaluate_model(new, rows, n_bootstrap=n_bootstrap, seed=seed)
    diff = paired_bootstrap_difference(a.gold, a.predicted, b.predicted, n_bootstrap=n_bootstrap, seed=seed)
    flips = []
    for row, pa, pb, sa, sb in zip(rows, a.predicted, b.predicted, a.scores, b.scores):
        for k, name in enumerate(LABELS):
            if pa[k] != pb[k]:
                gold = name in row["labels"]
                flips.append({
                    "id": row["id"], "text": row["text"], "label": name, "gold": gold,
                    "old": bool(pa[k]), "new": bool(pb[k]), "old_score": round(float(sa[k]), 4),
                    "new_score": round(float(sb[k]), 4), "change": "fixed" if bool(pb[k]) == gold else "broken",
                })
    same = float((a.predicted == b.predicted).all(1).mean()) if len(rows) else 1.0
    return {"n": len(rows), "old": a.metrics, "new": b.metrics, "difference": diff, "flips": flips,
            "identical_label_sets": same}


def format_comparison(result: dict, old_name: str, new_name: str) -> str:
    d = result["difference"]
    lines = [
        f"# {new_name} vs {old_name} on {result['n']} sentences",
        "",
        f"Identical label sets: {result['identical_label_sets']:.1%} of sentences.",
        "",
        "| category | metric | old | new | new - old [95% CI] |",
        "|---|---|---|---|---|",
    ]
    for name in (*LABELS, "micro", "macro"):
        for m in ("precision", "recall", "f1"):
            ci = d[name][m]["ci"]
            lines.append(
                f"| {name} | {m} | {result['old']['rows'][name][m]:.3f} | {result['new']['rows'][name][m]:.3f} | "
                f"{d[name][m]['difference']:+.3f} [{ci[0]:+.2f}, {ci[1]:+.2f}] |"
            )
    fixed = [f for f in result["flips"] if f["change"] == "fixed"]
    broken = [f for f in result["flips"] if f["change"] == "broken"]
    lines += ["", f"Flipped decisions: {len(fixed)} fixed, {len(broken)} broken.", ""]
    for title, items in (("Fixed", fixed), ("Broken", broken)):
        lines += [f"## {title}", "", "| label | gold | old → new | text |", "|---|---|---|---|"]
        lines += [f"| {f['label']} | {int(f['gold'])} | {int(f['old'])} → {int(f['new'])} | {f['text'][:200]} |" for f in items]
        lines.append("")
    lines += ["## Old model", "", format_table(result["old"]), "", "## New model", "", format_table(result["new"]), ""]
    return "\n".join(lines)


def write_comparison(result: dict, out_dir: str | Path, old_name: str, new_name: str) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(result["flips"], out_dir / "flips.jsonl")
    (out_dir / "comparison.md").write_text(format_comparison(result, old_name, new_name))
    (out_dir / "comparison.json").write_text(json.dumps({**result, "old_model": old_name, "new_model": new_name}, indent=2) + "\n")
    return out_dir
