"""Argument checks that run before any command does any work.

``check_arguments(args)`` looks at the parsed arguments of a subcommand and raises a one-line
DiplostanceError for what would otherwise fail (or do harm) only after the work: an output
that is a directory or sits under a file, an output naming one of the command's own inputs,
an input that does not exist, a count that must be positive. Reading and validating the
inputs themselves stays with the commands (they report FILE:LINE).
"""

from __future__ import annotations

from pathlib import Path

from data.errors import DataError, DiplostanceError

# command -> what its --output is: "dir", or the file extensions it accepts (None: any)
_OUTPUTS: dict[str, str | tuple[str, ...] | None] = {
    "build-data": "dir", "train": "dir", "evaluate": "dir", "compare": "dir", "select-arch": "dir",
    "compare-archs": "dir", "import-labelstudio": None, "audit": None, "notebook": (".ipynb",),
    "ingest": None, "score": None, "track": "dir", "evaluate-actors": "dir", "ship-model": "dir",
}


def check_output_dir(path: Path) -> None:
    """An output directory: absent, or a directory; under a folder that can be created."""
    from diplostance.scoring import creatable_in

    if path.exists() and not path.is_dir():
        raise DiplostanceError(f"{path}: --output exists and is not a directory; choose another --output")
    creatable_in(path)


def _input_file(path: Path | None, flag: str) -> None:
    if path is not None and not Path(path).is_file():
        raise DataError(path, None, "no such file" + (" (it is a directory)" if Path(path).is_dir() else "") + f" ({flag})")


def _input_dir(path: Path | None, flag: str) -> None:
    if path is not None and not Path(path).is_dir():
        raise DiplostanceError(f"{path}: {flag}: no such directory")


def _model_dir(path: Path | None, flag: str) -> None:
    """A diplostance model directory (its config.json is read; the weights are checked when
    the command loads them)."""
    from models.base import read_model_metadata

    if path is None:
        return
    try:
        read_model_metadata(path)
    except DiplostanceError:
        raise
    except (OSError, ValueError) as exc:  # undecodable config.json, unreadable file
        raise DiplostanceError(f"{path}: {flag}: cannot read the model's config.json ({exc})") from None


def _not_an_input(output: Path, inputs: dict[str, list], inside_dirs: bool = False) -> None:
    """Refuse an output that is one of the inputs, or (inside_dirs) lies in an input directory
    or is a directory holding an input."""
    out = output.resolve()
    for flag, paths in inputs.items():
        for path in paths:
            if path is None:
                continue
            src = Path(path).resolve()
            if out == src:
                raise DiplostanceError(f"{output}: --output is also the {flag} input; refusing to overwrite an input")
            if inside_dirs and src.is_dir() and out.is_relative_to(src):
                raise DiplostanceError(f"{output}: --output is inside the {flag} input directory {path}; "
                                       "write it elsewhere")
            if src.is_file() and src.is_relative_to(out):
                raise DiplostanceError(f"{output}: --output holds the {flag} input {path}; "
                                       "writing it would replace that input")


def check_arguments(args) -> None:
    """Raise DiplostanceError for a bad argument of ``args.command`` before any work."""
    name = getattr(args, "command", None)
    output = getattr(args, "output", None)
    kind = _OUTPUTS.get(name, "unknown")
    if output is not None and kind != "unknown":
        output = Path(output)
        if kind == "dir":
            check_output_dir(output)
        else:
            from diplostance.scoring import check_writable_file

            if kind and output.suffix not in kind:
                raise DiplostanceError(f"{output}: --output must end in {' or '.join(kind)}")
            check_writable_file(output)
    for flag in ("bootstrap", "top", "n", "data_weight", "batch_size"):
        value = getattr(args, flag, None)
        if value is not None and not isinstance(value, (list, str)) and value < 1:
            raise DiplostanceError(f"--{flag.replace('_', '-')} must be at least 1, not {value}")
    check = _CHECKS.get(name)
    if check:
        check(args)


def _import_labelstudio(args):
    _input_file(args.export, "export")
    _not_an_input(Path(args.output), {"export": [args.export]})


def _train(args):
    for path in args.data:
        _input_file(Path(path), "--data")
    _not_an_input(Path(args.output), {"--data": args.data})


def _evaluate(args):
    if args.cv:
        return
    _input_file(args.data, "--data")
    _model_dir(args.model, "--model")
    _not_an_input(Path(args.output), {"--data": [args.data], "--model": [args.model]}, inside_dirs=True)


def _compare(args):
    _model_dir(args.old, "OLD model")
    _model_dir(args.new, "NEW model")
    _input_file(args.data, "--data")
    _not_an_input(Path(args.output), {"--data": [args.data], "OLD model": [args.old], "NEW model": [args.new]},
                  inside_dirs=True)


def _select_arch(args):
    _input_file(args.dev, "--dev")
    _not_an_input(Path(args.output), {"--dev": [args.dev]})


def _notebook(args):
    from evaluation.harness import EvalResult

    for directory in args.track_dir:
        _input_dir(directory, "--track-dir")
    for flag, directory in (("--eval-dir", args.eval_dir), ("--compare", args.compare)):
        if directory is not None:
            _input_dir(directory, flag)
            EvalResult.load(directory)  # DiplostanceError when it is not an evaluation directory


def _ingest(args):
    from data.documents import discover

    for path in args.exclude:
        _input_file(path, "--exclude")
    files = discover(args.inputs)
    _model_dir(args.model, "--model")
    _not_an_input(Path(args.output), {"document": files, "--exclude": args.exclude, "--model": [args.model]})
    _not_an_input(Path(args.output), {"document": [Path(p) for p in args.inputs if Path(p).is_dir()],
                                      "--model": [args.model]}, inside_dirs=True)


def _score(args):
    from diplostance.scoring import ScoreOptions, check_score_paths

    check_score_paths(args.inputs, args.output, ScoreOptions(
        split=not args.no_split, text_field=args.text_field, id_field=args.id_field, batch_size=args.batch_size,
        on_error=args.on_error, errors_path=args.errors, summary_path=args.summary))
    _model_dir(args.model, "--model")
    _not_an_input(Path(args.output), {"--model": [args.model]}, inside_dirs=True)


def _track(args):
    for path in args.inputs:
        _input_file(path, "scored")
    _input_file(args.metadata, "--metadata")
    _not_an_input(Path(args.output), {"scored": args.inputs, "--metadata": [args.metadata]})


def _ship_model(args):
    _model_dir(args.source, "SOURCE model")
    if Path(args.output).resolve() == Path(args.source).resolve():
        raise DiplostanceError(f"{args.output}: --output is the SOURCE model; ship it somewhere else")


_CHECKS = {"track": _track, "ship-model": _ship_model, "import-labelstudio": _import_labelstudio, "train": _train, "evaluate": _evaluate, "compare": _compare,
           "select-arch": _select_arch, "compare-archs": _select_arch, "notebook": _notebook, "ingest": _ingest,
           "score": _score}
