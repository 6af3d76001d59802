"""The one command-line entry point: `diplostance SUBCOMMAND ...`.

Each subcommand registers itself with ``@command`` (name, help, its arguments) and is a thin
layer over an importable function; user mistakes are printed as one line
`diplostance: error: ...` with exit status 2, never a traceback. Training options are
generated from ``models.config.TrainConfig``: every field is a flag with its help text.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

from data.errors import DiplostanceError

from models.shipped import SHIPPED_DIR

DEFAULT_MODEL_DIR = SHIPPED_DIR  # every command's --model: the trained model that ships in models/default/
TRAINED_MODEL_DIR = Path("artifacts/models/default")  # where `train` writes by default (never the shipped one)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable
    arguments: Callable[[argparse.ArgumentParser], None]
    aliases: tuple[str, ...] = ()


COMMANDS: list[Command] = []


def command(name: str, help: str, arguments: Callable, aliases: tuple[str, ...] = ()):
    """Register the decorated ``run(args)`` as subcommand ``name``."""

    def register(run):
        COMMANDS.append(Command(name, help, run, arguments, aliases))
        return run

    return register


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- training options, generated from the typed config ----------------------------------
def _config_fields():
    from models.config import TrainConfig

    return fields(TrainConfig)


def add_config_arguments(p: argparse.ArgumentParser, data_switches: bool = True) -> None:
    """One flag per TrainConfig field (``--target-precision``, ``--char-ngrams/--no-char-ngrams``,
    ...), with the field's help text and default; plus the data switches where the command
    honours them."""
    from models.config import ARCHS

    group = p.add_argument_group("training configuration")
    for f in _config_fields():
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "") + " (default: %(default)s)"
        kind = str(f.type).split(" |")[0]
        if f.name == "arch":
            group.add_argument(flag, choices=ARCHS, default=f.default, help=help_text)
        elif kind == "bool":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text)
        else:
            group.add_argument(flag, type={"int": int, "float": float, "str": str}[kind], default=f.default,
                               help=help_text)
    if data_switches:
        p.add_argument("--no-authored", action="store_true", help="leave the authored sentences out of training")
        p.add_argument("--no-real", action="store_true",
                       help="leave the real labelled sentences (data/real) out of training")


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise DiplostanceError(f"{name} must be at least 1, not {value}")


def config_from_args(args):
    from models.config import TrainConfig

    return TrainConfig(**{f.name: getattr(args, f.name) for f in _config_fields()})


# ---- data ---------------------------------------------------------------------------------
def _build_data_arguments(p):
    p.add_argument("--output", default="artifacts/data")
    p.add_argument("--no-authored", action="store_true")
    p.add_argument("--no-real", action="store_true")
    p.add_argument("--update-card", action="store_true", help="rewrite the counts in data/README.md")


@command("build-data", "validate the bundled labelled data; write it as JSONL and as a Hugging Face dataset",
         _build_data_arguments)
def build_data_cli(args) -> None:
    from data.atomic import write_text_atomic
    from data.bundled import load_bundled
    from data.publish import write_hf_dataset
    from data.real import batch_statuses
    from data.records import rows_hash, write_jsonl
    from training.train import describe_rows

    if args.update_card and (args.no_authored or args.no_real):
        raise DiplostanceError("--update-card describes the whole bundled set: drop --no-authored/--no-real")
    rows = load_bundled(include_authored=not args.no_authored, include_real=not args.no_real)
    out = Path(args.output)
    columns = ["id", "doc_id", "text", "labels", "source", "register", "boilerplate", "rationale", "start", "end",
               "sent_idx", "publisher", "url", "date", "country", "session", "year", "stratum", "batch"]
    write_jsonl(rows, out / "bundled.jsonl", fields=columns)
    summary = describe_rows(rows)
    write_text_atomic(out / "bundled.summary.json", json.dumps(summary, indent=2) + "\n")
    print(f"{len(rows)} labelled sentences (sha256 {rows_hash(rows)[:16]}) -> {out / 'bundled.jsonl'}")
    print(f"positives per label: {summary['label_counts']}; rows per source: {summary['source_counts']}")
    parquet = write_hf_dataset(rows, out / "hf", rows_hash(rows))
    print(f"Hugging Face dataset (Parquet + card) -> {parquet.parent.parent}")
    pending = {k: v for k, v in batch_statuses().items() if v != "labelled"}
    if pending:
        print(f"{len(pending)} real batches still pending (not used): {', '.join(sorted(pending))}")
    if args.update_card:
        from data.card import CARD, update_card

        print(f"{CARD} " + ("updated" if update_card(rows) else "already current"))


def _import_labelstudio_arguments(p):
    p.add_argument("export", type=Path)
    p.add_argument("--output", type=Path, required=True)


@command("import-labelstudio", "read a Label Studio JSON export into labelled JSONL", _import_labelstudio_arguments)
def import_labelstudio_cli(args) -> None:
    from data.labelstudio import read_export
    from data.records import write_jsonl

    rows, counts = read_export(args.export)
    write_jsonl(rows, args.output)
    print(f"{counts['labelled']} labelled tasks -> {args.output} ({counts['unlabelled']} without annotation skipped, "
          f"{counts['cancelled']} cancelled annotations ignored)")


# ---- training -----------------------------------------------------------------------------
def _train_arguments(p):
    add_config_arguments(p)
    p.add_argument("--output", type=Path, default=TRAINED_MODEL_DIR)
    p.add_argument("--data", action="append", default=[], help="extra labelled JSONL (repeatable)")
    p.add_argument("--no-bundled", action="store_true", help="train on --data files only")
    p.add_argument("--data-weight", type=int, default=1, help="count each --data row this many times (default 1)")


@command("train", "train a model on the bundled data (plus --data files)", _train_arguments)
def train_cli(args) -> None:
    from training.train import train

    from models.base import check_model_output

    config = config_from_args(args)
    if args.data_weight < 1:
        raise DiplostanceError("--data-weight must be at least 1")
    check_model_output(args.output)
    _say(f"training {config.arch} -> {args.output}")
    model = train(config, args.output, data_files=args.data, bundled=not args.no_bundled,
                  authored=not args.no_authored, real=not args.no_real, data_weight=args.data_weight)
    data = model.training_data_
    print(f"trained {model.arch} on {data['rows']} sentences in {model.training_seconds_}s; saved to {args.output}")
    print("thresholds: " + ", ".join(f"{k}={v:.3f}" for k, v in model.metadata()["thresholds"].items()))


def _audit_arguments(p):
    add_config_arguments(p, data_switches=False)
    p.add_argument("--output", type=Path, default=Path("artifacts/audit/flagged.jsonl"))
    p.add_argument("--top", type=int, default=None, help="keep only the N most suspicious rows")


@command("audit", "flag likely label errors in the real data (out-of-fold model + cleanlab)", _audit_arguments)
def audit_cli(args) -> None:
    from data.bundled import load_bundled
    from data.records import write_jsonl
    from training.audit import flag_label_issues, out_of_fold_real

    rows = load_bundled()
    real = [r for r in rows if r["source"] == "real"]
    if not real:
        raise DiplostanceError("no labelled real rows to audit (data/real has no complete batch)")
    other = [r for r in rows if r["source"] != "real"]
    config = config_from_args(args)
    _say(f"out-of-fold {config.arch} probabilities for {len(real)} real rows ({len(other)} other rows train every fold)")
    flagged = flag_label_issues(real, out_of_fold_real(real, other, config))
    kept = flagged[: args.top] if args.top else flagged
    write_jsonl(kept, args.output)
    print(f"{len(flagged)} of {len(real)} real rows flagged by cleanlab; {len(kept)} most suspicious -> {args.output}")


def _verify_model_arguments(p):
    p.add_argument("model", type=Path, nargs="?", default=DEFAULT_MODEL_DIR,
                   help="a shipped model directory (default: models/default/)")


@command("verify-model", "check a shipped model's files against its manifest and whether its training data is current",
         _verify_model_arguments)
def verify_model_cli(args) -> None:
    from models.shipped import staleness, verify

    manifest = verify(args.model)
    print(f"{args.model}: {len(manifest['files'])} files match {args.model / 'manifest.json'} "
          f"({manifest['total_bytes'] / 2**20:.1f} MB, {manifest['arch']}, weights {manifest['weights_dtype']})")
    from models.base import read_model_metadata

    held = read_model_metadata(args.model).get("heldout_metrics", {})
    if held:
        print(f"held-out figures recorded at training ({held['sentences']} sentences of validation documents): "
              + ", ".join(f"{n} P {held[n]['precision']:.2f} R {held[n]['recall']:.2f}" for n in manifest["thresholds"])
              + f"; macro-F1 {held['macro']['f1']:.3f}")
    warning = staleness(args.model)
    if warning:
        print(f"warning: {warning}")
    else:
        print(f"trained on the current bundled data (sha256 {manifest['training_data_sha256'][:12]})")


def _ship_model_arguments(p):
    p.add_argument("source", type=Path, help="a trained model directory (e.g. artifacts/models/default)")
    p.add_argument("--output", type=Path, default=DEFAULT_MODEL_DIR, help="default: models/default/")
    p.add_argument("--float32", action="store_true", help="keep float32 weights (default: float16)")


@command("ship-model", "export a trained model as the shipped default (float16 weights, manifest, seed check)",
         _ship_model_arguments)
def ship_model_cli(args) -> None:
    from models.shipped import ship

    manifest = ship(args.source, args.output, half=not args.float32)
    print(f"shipped {args.source} -> {args.output}: {manifest['total_bytes'] / 2**20:.1f} MB, "
          f"{len(manifest['files'])} files; seed check {manifest['seed_check']}")


# ---- evaluation ---------------------------------------------------------------------------
def _evaluate_arguments(p):
    add_config_arguments(p)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model directory (default: the shipped model)")
    p.add_argument("--data", type=Path)
    p.add_argument("--cv", action="store_true", help="leave-one-article-out CV on the seeds")
    p.add_argument("--output", type=Path, default=Path("artifacts/eval/latest"))
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs")


@command("evaluate", "evaluate a saved model on labelled data, or run seed CV", _evaluate_arguments)
def evaluate_cli(args) -> None:
    from evaluation.report import format_confusion, format_table

    _positive("--bootstrap", args.bootstrap)
    if args.cv:
        from data.bundled import load_authored_rows, load_seed_rows
        from data.real import load_real_rows
        from evaluation.harness import leave_one_article_out

        config = config_from_args(args)
        extra = [] if args.no_authored else load_authored_rows()
        real = [] if args.no_real else load_real_rows()
        result = leave_one_article_out(config, load_seed_rows(), extra + real, n_bootstrap=args.bootstrap, progress=_say)
        title = (f"Leave-one-article-out CV on the seeds ({config.arch}, +{len(extra)} authored "
                 f"and {len(real)} real training rows)")
    else:
        if not args.data:
            raise DiplostanceError("evaluate needs --data FILE (and --model DIR, default the shipped model), or --cv")
        from data.records import file_sha256, read_labelled_jsonl
        from evaluation.harness import evaluate_model
        from diplostance.engines import load_model_checked as load_model

        model = load_model(args.model)
        rows = read_labelled_jsonl(args.data)
        result = evaluate_model(model, rows, n_bootstrap=args.bootstrap)
        result.info.update({"model": str(args.model), "data": str(args.data), "data_sha256": file_sha256(args.data)})
        title = f"{model.arch} model {args.model} on {args.data}"
    out = result.save(args.output, title)
    print(f"## {title}\n")
    print(format_table(result.metrics))
    print()
    print(format_confusion(result.metrics))
    print(f"\nwrote {out / 'report.json'}, {out / 'report.md'} and {out / 'predictions.jsonl'}")


def _compare_arguments(p):
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--output", type=Path, default=Path("artifacts/compare/latest"))
    p.add_argument("--bootstrap", type=int, default=1000)


@command("compare", "compare two saved models on labelled data (difference CI, flipped sentences)",
         _compare_arguments)
def compare_cli(args) -> None:
    from data.records import read_labelled_jsonl
    from evaluation.compare import compare_models, format_comparison, write_comparison
    from diplostance.engines import load_model_checked as load_model

    _positive("--bootstrap", args.bootstrap)
    old, new = load_model(args.old), load_model(args.new)
    rows = read_labelled_jsonl(args.data)
    result = compare_models(old, new, rows, n_bootstrap=args.bootstrap)
    out = write_comparison(result, args.output, str(args.old), str(args.new))
    print(format_comparison(result, str(args.old), str(args.new)).split("\n## Fixed")[0])
    print(f"wrote {out / 'comparison.md'}, {out / 'comparison.json'} and {out / 'flips.jsonl'}")


def _select_arch_arguments(p):
    from models.config import ARCHS

    add_config_arguments(p, data_switches=False)
    p.add_argument("--archs", nargs="+", default=["tfidf", "embedding", "finetune"], choices=ARCHS)
    p.add_argument("--variants", nargs="+", default=["seeds", "seeds+authored", "seeds+authored+real"],
                   choices=["seeds", "seeds+authored", "seeds+authored+real"],
                   help="training data variants; the winner is chosen on the last one")
    p.add_argument("--dev", type=Path, default=None, help="labelled JSONL for held-out comparison")
    p.add_argument("--output", type=Path, default=Path("artifacts/selection"))
    p.add_argument("--bootstrap", type=int, default=1000)


@command("select-arch", "train every arch and choose by measurement (seed CV and a dev set)",
         _select_arch_arguments, aliases=("compare-archs",))
def select_arch_cli(args) -> None:
    from data.records import read_labelled_jsonl
    from evaluation.arch_selection import compare_archs, format_summary

    _positive("--bootstrap", args.bootstrap)
    dev_rows = read_labelled_jsonl(args.dev) if args.dev else None
    if dev_rows is None:
        _say("no --dev file: comparing on the seed CV only")
    result = compare_archs(args.archs, dev_rows, args.output, variants=args.variants,
                           base_config=config_from_args(args), n_bootstrap=args.bootstrap, progress=_say)
    print(format_summary(result, dev_rows is not None))
    print(f"wrote {args.output / 'selection.json'} and {args.output / 'selection.md'}; winner: {result['winner']['arch']}")


def _notebook_arguments(p):
    p.add_argument("--eval-dir", type=Path, default=None, help="evaluation directory (default: latest run)")
    p.add_argument("--compare", type=Path, default=None, help="second evaluation directory for disagreements")
    p.add_argument("--track-dir", type=Path, action="append", default=[],
                   help="run the tracking notebook instead, on these `diplostance track` outputs (repeatable)")
    p.add_argument("--output", type=Path, default=None,
                   help="default: artifacts/notebooks/error_analysis.executed.ipynb (tracking.executed.ipynb with --track-dir)")


@command("notebook", "execute the error-analysis notebook (or, with --track-dir, the tracking notebook) headless",
         _notebook_arguments)
def notebook_cli(args) -> None:
    from evaluation.notebook import execute_notebook, execute_tracking_notebook

    if args.track_dir:
        out = execute_tracking_notebook(args.track_dir, args.output or Path("artifacts/notebooks/tracking.executed.ipynb"))
    else:
        out = execute_notebook(args.eval_dir, args.output or Path("artifacts/notebooks/error_analysis.executed.ipynb"),
                               args.compare)
    print(f"executed notebook written to {out}")


# ---- the application: ingestion and scoring -----------------------------------------------
def _ingest_arguments(p):
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


@command("ingest", "split new documents, pre-label them and select sentences to label", _ingest_arguments)
def ingest_cli(args) -> None:
    from data.records import write_jsonl
    from diplostance.ingest import prelabel, read_excluded_ids, select
    from diplostance.engines import load_model_checked as load_model

    exclude = read_excluded_ids(args.exclude)
    model = load_model(args.model)
    rows = prelabel(model, args.inputs, args.text_field, args.id_field)
    chosen = select(rows, args.select, args.n, exclude=exclude, seed=args.seed)
    if args.format == "labelstudio":
        from data.atomic import write_text_atomic
        from data.labelstudio import to_task

        tasks = [to_task(r, f"{model.arch}:{model.training_data_.get('sha256', '')[:12]}") for r in chosen]
        write_text_atomic(args.output, json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    else:
        write_jsonl(chosen, args.output)
    print(f"{len(rows)} sentences pre-labelled; {len(chosen)} selected ({args.select}) -> {args.output}")
    if args.format == "jsonl":
        print("edit the `labels` lists, then: diplostance train --data " + str(args.output))


def _score_arguments(p):
    p.add_argument("inputs", nargs="+", help="files or directories (searched recursively)")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--output", type=Path, required=True, help="output file: .jsonl, .csv or .parquet")
    p.add_argument("--no-split", action="store_true", help="score each document/row as one sentence")
    p.add_argument("--text-field", default="text", help="JSONL/CSV field holding the text")
    p.add_argument("--id-field", default="id", help="JSONL/CSV field used as document id")
    p.add_argument("--batch-size", type=int, default=None,
                   help="sentences per forward pass (finetune; default: batches of up to 4,096 padded tokens)")
    p.add_argument("--summary", type=Path, default=None, help="per-document label counts (.csv or .jsonl)")
    p.add_argument("--errors", type=Path, default=None, help="errors file (default: OUTPUT.errors.jsonl)")
    p.add_argument("--on-error", choices=["skip", "fail"], default="skip", help="bad input: skip and report, or stop")
    p.add_argument("--strict", action="store_true", help="exit non-zero when any input was skipped")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run of the same command")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=["local", "ray"], default="local")
    p.add_argument("--address", default=None, help="Ray cluster address (default: local Ray)")
    p.add_argument("--runtime", choices=["auto", "torch", "bf16", "onnx", "onnx-fp32"], default="auto",
                   help="finetune models: auto (bf16 where the CPU has native bfloat16, else torch), torch "
                        "(float32), bf16, ONNX Runtime int8 (onnx) or float32 (onnx-fp32)")


@command("score", "tag every sentence of files or directories (txt, md, jsonl, csv; .gz)", _score_arguments)
def score_cli(args) -> None:
    from diplostance.scoring import ScoreOptions, score_archive
    from diplostance.engines import load_model_checked as load_model

    if args.batch_size is not None:
        _positive("--batch-size", args.batch_size)
    model = load_model(args.model, runtime=args.runtime)
    options = ScoreOptions(
        split=not args.no_split, text_field=args.text_field, id_field=args.id_field, batch_size=args.batch_size,
        on_error=args.on_error, strict=args.strict, resume=args.resume, quiet=args.quiet,
        errors_path=args.errors, summary_path=args.summary, engine=args.engine, address=args.address,
        runtime=getattr(model, "runtime_", args.runtime),  # "auto" resolved: the resume fingerprint names it
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
            from data.errors import IncompleteRun

            raise IncompleteRun(message + " (--strict)")
        _say(message)


def _evaluate_actors_arguments(p):
    p.add_argument("--output", type=Path, default=Path("artifacts/eval/actors"), help="directory for report.md and report.json")


@command("evaluate-actors", "measure actors, targets and project spans against the double-read gold sample (data/actors/)",
         _evaluate_actors_arguments)
def evaluate_actors_cli(args) -> None:
    from data.atomic import write_text_atomic
    from evaluation.actor_eval import evaluate_actors, format_actor_report

    report = evaluate_actors()
    text = format_actor_report(report)
    write_text_atomic(args.output / "report.md", "# Actors, targets and project spans\n\n" + text)
    write_text_atomic(args.output / "report.json", json.dumps(report, indent=1) + "\n")
    print(text)


def _track_arguments(p):
    p.add_argument("inputs", nargs="+", type=Path, help="scored files (.jsonl, .csv, .parquet) from `diplostance score`")
    p.add_argument("--output", type=Path, required=True, help="directory for projects.csv, pairs.csv, timeline.png")
    p.add_argument("--metadata", type=Path, default=None, help="CSV with doc_id,date columns (when rows carry no date)")
    p.add_argument("--reextract", action="store_true",
                   help="recompute actors, targets and projects from the text and labels (no model runs)")


@command("track", "group project pledges by project and stances by actor and target, over time", _track_arguments)
def track_cli(args) -> None:
    from diplostance.track import write_tracking

    result = write_tracking(args.inputs, args.output, args.metadata, recompute=args.reextract)
    print(f"{len(result['pledges'])} project pledges in {len(result['projects'])} projects; "
          f"{len(result['pairs'])} actor/target pairs -> {args.output}/projects.csv, pairs.csv"
          + (", timeline.png" if result["figure"] else " (no matplotlib: no timeline figure)"))
    for p in result["projects"][:10]:
        print(f"  {p['project']}: {p['pledges']} pledges in {p['documents']} documents, {p['first']} .. {p['last']} ({p['actors']})")


# ---- entry point --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diplostance", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, aliases=list(cmd.aliases))
        cmd.arguments(p)
        p.set_defaults(func=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        from contextlib import nullcontext

        from diplostance.locks import output_lock
        from diplostance.preflight import check_arguments

        check_arguments(args)  # every argument, before any work (README "Exit codes")
        with output_lock(args.output) if getattr(args, "output", None) else nullcontext():
            args.func(args)
    except DiplostanceError as exc:
        print(f"diplostance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the system refused (disk full, permissions): one line, state kept
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"diplostance: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("diplostance: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
