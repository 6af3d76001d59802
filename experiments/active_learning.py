"""Does labelling the sentences the model is least sure about beat labelling random ones?

    .venv/bin/python -m experiments.active_learning --model artifacts/models/default \
        --output artifacts/experiments/active_learning

1. Ingest the seven documents behind ../shared/dev/dev.jsonl (from ../shared/corpus) with
   the model: every sentence pre-labelled and given an uncertainty.
2. Pool = ingested sentences whose text matches a dev sentence (their gold labels are known).
3. Pick 120 by `--select uncertain` and 120 at random (seeded) from the pool; label them with
   the dev labels (for this experiment only: the dev set is never training data of the product).
4. Retrain the model's arch on the bundled data plus each pick; evaluate the original model
   and both retrained models on the dev sentences picked by neither strategy, and each
   retrained model also on the dev sentences its own strategy did not pick.
Everything is written under --output (git-ignored); dev text never enters the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from data.records import read_labelled_jsonl, write_jsonl
from diplostance.ingest import prelabel, select_uncertain
from evaluation.harness import evaluate_model
from evaluation.metrics import paired_bootstrap_difference
from evaluation.report import format_table
from models.registry import load_model
from training.train import gather_training_rows, train_model

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--output", type=Path, default=Path("artifacts/experiments/active_learning"))
    p.add_argument("--n", type=int, default=120)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--data-weight", type=int, default=1, help="repeat each picked row this many times in training")
    args = p.parse_args(argv)
    dev_path = SHARED / "dev" / "dev.jsonl"
    if not dev_path.is_file():
        print(f"skipped: {dev_path} is absent", file=sys.stderr)
        return 0
    args.output.mkdir(parents=True, exist_ok=True)
    dev = read_labelled_jsonl(dev_path)
    docs = sorted({SHARED / "corpus" / "communiques" / r["doc_id"] for r in dev})
    model = load_model(args.model)
    ingested = prelabel(model, docs)
    gold = {_norm(r["text"]): r for r in dev}
    pool = [r for r in ingested if _norm(r["text"]) in gold]
    picks = {
        "uncertain": select_uncertain(pool, args.n),
        "random": random.Random(args.seed).sample([r for r in pool if not r["boilerplate"]], args.n),
    }
    picked_ids = {name: {gold[_norm(r["text"])]["id"] for r in rows} for name, rows in picks.items()}
    untouched = [r for r in dev if r["id"] not in picked_ids["uncertain"] | picked_ids["random"]]
    results = {"ingested_sentences": len(ingested), "pool": len(pool), "dev": len(dev), "untouched": len(untouched),
               "n": args.n, "arch": model.arch, "data_weight": args.data_weight}
    base_eval = evaluate_model(model, untouched)
    results["original_on_untouched"] = base_eval.metrics
    text = [f"# Uncertainty vs random selection ({model.arch}, {args.n} labelled sentences each, "
            f"data weight {args.data_weight})", "",
            f"Ingested {len(ingested)} sentences from {len(docs)} documents; {len(pool)} match a dev sentence.",
            f"Held-out set picked by neither strategy: {len(untouched)} dev sentences.", "",
            "## Original model on the untouched sentences", "", format_table(base_eval.metrics), ""]
    for name, rows in picks.items():
        labelled = [{"id": f"al-{name}-{i:03d}", "text": r["text"], "labels": gold[_norm(r["text"])]["labels"]}
                    for i, r in enumerate(rows)]
        path = args.output / f"picked-{name}.jsonl"
        write_jsonl(labelled, path)
        positives = sum(bool(r["labels"]) for r in labelled)
        train_rows, files = gather_training_rows([path], data_weight=args.data_weight)
        retrained = train_model(model.config, train_rows, files)
        retrained.save(args.output / f"model-{name}")
        on_untouched = evaluate_model(retrained, untouched)
        own_rest = [r for r in dev if r["id"] not in picked_ids[name]]
        on_own_rest = evaluate_model(retrained, own_rest)
        base_on_own = evaluate_model(model, own_rest)
        diff = paired_bootstrap_difference(base_eval.gold, base_eval.predicted, on_untouched.predicted)
        results[name] = {
            "picked_with_any_label": positives, "untouched": on_untouched.metrics, "own_rest_n": len(own_rest),
            "own_rest": on_own_rest.metrics, "original_on_own_rest": base_on_own.metrics,
            "macro_f1_gain_on_untouched": diff["macro"]["f1"],
        }
        gain = diff["macro"]["f1"]
        text += [f"## Retrained with {args.n} {name} sentences ({positives} with a label)", "",
                 f"On the untouched set: macro-F1 {on_untouched.metrics['rows']['macro']['f1']:.3f}, "
                 f"gain over the original {gain['difference']:+.3f} [95% CI {gain['ci'][0]:+.3f}, {gain['ci'][1]:+.3f}]", "",
                 format_table(on_untouched.metrics), "",
                 f"On the {len(own_rest)} dev sentences this strategy did not pick: macro-F1 "
                 f"{on_own_rest.metrics['rows']['macro']['f1']:.3f} (original model: "
                 f"{base_on_own.metrics['rows']['macro']['f1']:.3f})", ""]
    (args.output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.output / "results.md").write_text("\n".join(text))
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
