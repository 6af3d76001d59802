"""The one command-line entry point: `diplostance SUBCOMMAND ...`.

Each subcommand parses its arguments and calls an importable function; user mistakes are
printed as one line `diplostance: error: ...` with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from data.errors import DiplostanceError

DEFAULT_MODEL_DIR = Path("artifacts/models/default")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- subcommands ---------------------------------------------------------------------------
def build_data_cli(args) -> None:
    from data.bundled import load_bundled
    from data.records import rows_hash, write_jsonl
    from training.train import describe_rows

    rows = load_bundled(include_authored=not args.no_authored, include_real=not args.no_real)
    out = Path(args.output)
    fields = ["id", "doc_id", "text", "labels", "source", "register", "boilerplate", "rationale", "start", "end",
              "sent_idx", "publisher", "url", "date", "country", "session", "year", "stratum", "batch"]
    write_jsonl(rows, out / "bundled.jsonl", fields=fields)
    summary = describe_rows(rows)
    (out / "bundled.summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{len(rows)} labelled sentences (sha256 {rows_hash(rows)[:16]}) -> {out / 'bundled.jsonl'}")
    print(f"positives per label: {summary['label_counts']}; rows per source: {summary['source_counts']}")
    from data.publish import write_hf_dataset

    parquet = write_hf_dataset(rows, out / "hf", rows_hash(rows))
    print(f"Hugging Face dataset (Parquet + card) -> {parquet.parent.parent}")
    from data.real import batch_statuses

    pending = {k: v for k, v in batch_statuses().items() if v != "labelled"}
    if pending:
        print(f"{len(pending)} real batches still pending (not used): {', '.join(sorted(pending))}")
    if args.update_card:
        from data.card import CARD, update_card

        print(f"{CARD} " + ("updated" if update_card(rows) else "already current"))


def train_cli(args) -> None:
    from training.train import train

    config = _config_from_args(args)
    _say(f"training {config.arch} -> {args.output}")
    if args.data_weight < 1:
        raise DiplostanceError("--data-weight must be at least 1")
    model = train(config, args.output, data_files=args.data, bundled=not args.no_bundled,
                  authored=not args.no_authored, real=not args.no_real, data_weight=args.data_weight)
    data = model.training_data_
    print(f"trained {model.arch} on {data['rows']} sentences in {model.training_seconds_}s; saved to {args.output}")
    print("thresholds: " + ", ".join(f"{k}={v:.3f}" for k, v in model.metadata()["thresholds"].items()))


def evaluate_cli(args) -> None:
    from evaluation.report import format_confusion, format_table, write_report

    if args.cv:
        from data.bundled import load_authored_rows, load_seed_rows
        from data.real import load_real_rows
        from evaluation.harness import leave_one_article_out

        config = _config_from_args(args)
        extra = [] if args.no_authored else load_authored_rows()
        real = [] if args.no_real else load_real_rows()
        result = leave_one_article_out(config, load_seed_rows(), extra + real, n_bootstrap=args.bootstrap, progress=_say)
        title = (f"Leave-one-article-out CV on the seeds ({config.arch}, +{len(extra)} authored "
                 f"and {len(real)} real training rows)")
    else:
        if not args.model or not args.data:
            raise DiplostanceError("evaluate needs --model DIR and --data FILE, or --cv")
        from data.records import file_sha256, read_labelled_jsonl
        from evaluation.harness import evaluate_model
        from models.registry import load_model

        model = load_model(args.model)
        rows = read_labelled_jsonl(args.data)
        result = evaluate_model(model, rows, n_bootstrap=args.bootstrap)
        result.info.update({"model": str(args.model), "data": str(args.data), "data_sha256": file_sha256(args.data)})
        title = f"{model.arch} model {args.model} on {args.data}"
    out = write_report(result, args.output, title)
    print(f"## {title}\n")
    print(format_table(result.metrics))
    print()
    print(format_confusion(result.metrics))
    print(f"\nwrote {out / 'report.json'}, {out / 'report.md'} and {out / 'predictions.jsonl'}")


def score_cli(args) -> None:
    from diplostance.scoring import ScoreOptions, score_archive
    from models.registry import load_model

    model = load_model(args.model)
    if args.runtime != "torch":
        from models.onnx_runtime import OnnxFinetuneModel

        model = OnnxFinetuneModel.from_model(model, args.model, args.runtime)
    options = ScoreOptions(
        split=not args.no_split, text_field=args.text_field, id_field=args.id_field, batch_size=args.batch_size,
        on_error=args.on_error, strict=args.strict, resume=args.resume, quiet=args.quiet,
        errors_path=args.errors, summary_path=args.summary, engine=args.engine, address=args.address,
    )
    state = score_archive(model, str(args.model), args.inputs, args.output, options)
    print(
        f"scored {state['sentences']} sentences from {state['documents']} documents -> {args.output}; "
        + ", ".join(f"{k}: {state[k]}" for k in ("commitment", "support_declaration", "project_pledge"))
    )
    if args.summary:
        print(f"per-document counts -> {args.summary}")
    if state["skipped"]:
        message = f"{state['skipped']} bad inputs skipped; see {state['errors_file']}"
        if args.strict:
            raise DiplostanceError(message + " (--strict)")
        _say(message)


def compare_archs_cli(args) -> None:
    from data.records import read_labelled_jsonl
    from evaluation.selection import compare_archs

    dev_rows = read_labelled_jsonl(args.dev) if args.dev else None
    if dev_rows is None:
        _say("no --dev file: comparing on the seed CV only")
    result = compare_archs(args.archs, dev_rows, args.output, variants=args.variants,
                           base_config=_config_from_args(args), n_bootstrap=args.bootstrap, progress=_say)
    print((args.output / "selection.md").read_text().split("\n## ")[0])
    print(f"wrote {args.output / 'selection.json'} and {args.output / 'selection.md'}; winner: {result['winner']['arch']}")


def notebook_cli(args) -> None:
    from evaluation.notebook import execute_notebook

    out = execute_notebook(args.eval_dir, args.output, args.compare)
    print(f"executed notebook written to {out}")


def ingest_cli(args) -> None:
    from data.records import write_jsonl
    from diplostance.ingest import prelabel, read_excluded_ids, select
    from models.registry import load_model

    exclude = read_excluded_ids(args.exclude)
    model = load_model(args.model)
    rows = prelabel(model, args.inputs, args.text_field, args.id_field)
    chosen = select(rows, args.select, args.n, exclude=exclude, seed=args.seed)
    if args.format == "labelstudio":
        from diplostance.labelstudio import to_task

        tasks = [to_task(r, f"{model.arch}:{model.training_data_.get('sha256', '')[:12]}") for r in chosen]
        args.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.output.with_name(args.output.name + ".partial")
        tmp.write_text(json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
        tmp.replace(args.output)
    else:
        write_jsonl(chosen, args.output)
    print(f"{len(rows)} sentences pre-labelled; {len(chosen)} selected ({args.select}) -> {args.output}")
    if args.format == "jsonl":
        print("edit the `labels` lists, then: diplostance train --data " + str(args.output))


def audit_cli(args) -> None:
    from data.bundled import load_bundled
    from data.records import write_jsonl
    from training.audit import flag_label_issues, out_of_fold_real

    rows = load_bundled()
    real = [r for r in rows if r["source"] == "real"]
    if not real:
        raise DiplostanceError("no labelled real rows to audit (data/real has no complete batch)")
    other = [r for r in rows if r["source"] != "real"]
    config = _config_from_args(args)
    _say(f"out-of-fold {config.arch} probabilities for {len(real)} real rows ({len(other)} other rows train every fold)")
    flagged = flag_label_issues(real, out_of_fold_real(real, other, config))
    write_jsonl(flagged[: args.top] if args.top else flagged, args.output)
    print(f"{len(flagged)} of {len(real)} real rows flagged by cleanlab; "
          f"{min(len(flagged), args.top or len(flagged))} most suspicious -> {args.output}")


def import_labelstudio_cli(args) -> None:
    from data.records import write_jsonl
    from diplostance.labelstudio import read_export

    rows, counts = read_export(args.export)
    write_jsonl(rows, args.output)
    print(f"{counts['labelled']} labelled tasks -> {args.output} ({counts['unlabelled']} without annotation skipped, "
          f"{counts['cancelled']} cancelled annotations ignored)")


def compare_cli(args) -> None:
    from data.records import read_labelled_jsonl
    from evaluation.compare import compare_models, format_comparison, write_comparison
    from models.registry import load_model

    old, new = load_model(args.old), load_model(args.new)
    rows = read_labelled_jsonl(args.data)
    result = compare_models(old, new, rows, n_bootstrap=args.bootstrap)
    out = write_comparison(result, args.output, str(args.old), str(args.new))
    print(format_comparison(result, str(args.old), str(args.new)).split("\n## Fixed")[0])
    print(f"wrote {out / 'comparison.md'}, {out / 'comparison.json'} and {out / 'flips.jsonl'}")


# ---- argument parsing ----------------------------------------------------------------------
def _add_config_args(p: argparse.ArgumentParser) -> None:
    from models.config import TrainConfig
    from models.registry import ARCHS

    d = TrainConfig()
    p.add_argument("--arch", choices=ARCHS, default=d.arch, help="model family (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed (default: %(default)s)")
    p.add_argument("--target-precision", type=float, default=None,
                   help="choose thresholds for this held-out precision instead of best F1")
    p.add_argument("--base-model", default=None, help="encoder directory or hub id (default: bundled MiniLM)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="finetune: maximum epochs (default: %(default)s)")
    p.add_argument("--no-authored", action="store_true", help="leave the authored sentences out of training")
    p.add_argument("--no-real", action="store_true", help="leave the real labelled sentences (data/real) out of training")


def _config_from_args(args):
    from models.config import TrainConfig

    return TrainConfig(arch=args.arch, seed=args.seed, target_precision=args.target_precision,
                       base_model=args.base_model, epochs=args.epochs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diplostance", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-data", help="validate the bundled labelled data and write it as one JSONL")
    p.add_argument("--output", default="artifacts/data")
    p.add_argument("--no-authored", action="store_true")
    p.add_argument("--no-real", action="store_true")
    p.add_argument("--update-card", action="store_true", help="rewrite the counts in data/README.md")
    p.set_defaults(func=build_data_cli)

    p = sub.add_parser("train", help="train a model on the bundled data (plus --data files)")
    _add_config_args(p)
    p.add_argument("--output", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--data", action="append", default=[], help="extra labelled JSONL (repeatable)")
    p.add_argument("--no-bundled", action="store_true", help="train on --data files only")
    p.add_argument("--data-weight", type=int, default=1, help="count each --data row this many times (default 1)")
    p.set_defaults(func=train_cli)

    p = sub.add_parser("evaluate", help="evaluate a saved model on labelled data, or run seed CV")
    _add_config_args(p)
    p.add_argument("--model", type=Path)
    p.add_argument("--data", type=Path)
    p.add_argument("--cv", action="store_true", help="leave-one-article-out CV on the seeds")
    p.add_argument("--output", type=Path, default=Path("artifacts/eval/latest"))
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs")
    p.set_defaults(func=evaluate_cli)

    p = sub.add_parser("compare-archs", help="train and compare every arch on the seed CV and a dev set")
    _add_config_args(p)
    p.add_argument("--archs", nargs="+", default=["tfidf", "embedding", "finetune"])
    p.add_argument("--variants", nargs="+", default=["seeds", "seeds+authored"], choices=["seeds", "seeds+authored"])
    p.add_argument("--dev", type=Path, default=None, help="labelled JSONL for held-out comparison")
    p.add_argument("--output", type=Path, default=Path("artifacts/selection"))
    p.add_argument("--bootstrap", type=int, default=1000)
    p.set_defaults(func=compare_archs_cli)

    p = sub.add_parser("ingest", help="split new documents, pre-label them and select sentences to label")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--select", choices=["uncertain", "diverse", "random", "all"], default="uncertain")
    p.add_argument("--n", type=int, default=None, help="how many sentences to select (default: all)")
    p.add_argument("--exclude", type=Path, action="append", default=[],
                   help="JSONL file of sentences already labelled or picked (their ids are never selected); repeatable")
    p.add_argument("--seed", type=int, default=0, help="seed of the random selection")
    p.add_argument("--format", choices=["jsonl", "labelstudio"], default="jsonl")
    p.add_argument("--text-field", default="text")
    p.add_argument("--id-field", default="id")
    p.set_defaults(func=ingest_cli)

    p = sub.add_parser("audit", help="flag likely label errors in the real data (out-of-fold model + cleanlab)")
    _add_config_args(p)
    p.add_argument("--output", type=Path, default=Path("artifacts/audit/flagged.jsonl"))
    p.add_argument("--top", type=int, default=None, help="keep only the N most suspicious rows")
    p.set_defaults(func=audit_cli)

    p = sub.add_parser("import-labelstudio", help="read a Label Studio JSON export into labelled JSONL")
    p.add_argument("export", type=Path)
    p.add_argument("--output", type=Path, required=True)
    p.set_defaults(func=import_labelstudio_cli)

    p = sub.add_parser("compare", help="compare two saved models on labelled data")
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--output", type=Path, default=Path("artifacts/compare/latest"))
    p.add_argument("--bootstrap", type=int, default=1000)
    p.set_defaults(func=compare_cli)

    p = sub.add_parser("notebook", help="execute the error-analysis notebook headless on an evaluation")
    p.add_argument("--eval-dir", type=Path, default=None, help="evaluation directory (default: latest run)")
    p.add_argument("--compare", type=Path, default=None, help="second evaluation directory for disagreements")
    p.add_argument("--output", type=Path, default=Path("artifacts/notebooks/error_analysis.executed.ipynb"))
    p.set_defaults(func=notebook_cli)

    p = sub.add_parser("score", help="tag every sentence of files or directories (txt, md, jsonl, csv; .gz)")
    p.add_argument("inputs", nargs="+", help="files or directories (searched recursively)")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--output", type=Path, required=True, help="output file: .jsonl, .csv or .parquet")
    p.add_argument("--no-split", action="store_true", help="score each document/row as one sentence")
    p.add_argument("--text-field", default="text", help="JSONL/CSV field holding the text")
    p.add_argument("--id-field", default="id", help="JSONL/CSV field used as document id")
    p.add_argument("--batch-size", type=int, default=16, help="sentences per forward pass (finetune)")
    p.add_argument("--summary", type=Path, default=None, help="per-document label counts (.csv or .jsonl)")
    p.add_argument("--errors", type=Path, default=None, help="errors file (default: OUTPUT.errors.jsonl)")
    p.add_argument("--on-error", choices=["skip", "fail"], default="skip", help="bad input: skip and report, or stop")
    p.add_argument("--strict", action="store_true", help="exit non-zero when any input was skipped")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run of the same command")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=["local", "ray"], default="local")
    p.add_argument("--address", default=None, help="Ray cluster address (default: local Ray)")
    p.add_argument("--runtime", choices=["torch", "onnx", "onnx-fp32"], default="torch",
                   help="finetune models: torch, ONNX Runtime int8 (onnx) or float32 (onnx-fp32)")
    p.set_defaults(func=score_cli)
    return parser


def main(argv: list[str] | None = None) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except DiplostanceError as exc:
        print(f"diplostance: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("diplostance: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
