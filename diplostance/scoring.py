"""Batch scoring at archive scale: documents -> sentences -> probabilities -> rows on disk.

Streaming end to end: documents are read one at a time, scored in groups of whole
documents, appended to a spool, and forgotten; memory does not grow with the input.
After every group the run writes a checkpoint (units consumed, bytes of spool and errors
file), so `resume=True` after a kill -9 truncates the spool to the checkpoint and skips the
units already done: no row lost, none duplicated. The output appears under its final name
only when the run is complete.

Every argument is checked before any work starts (``check_score_paths``: extensions, an
output that is a directory, outputs that name an input or sit inside an input directory).
One lock per output (``diplostance.locks``) makes a second run on the same output refuse.
The checkpoint records sha256 fingerprints of the model's files, of the inputs' bytes and of
the options, so a resume after a model was retrained in place, or an input edited, refuses
instead of mixing two runs in one file. A kill at any moment leaves the previous output
untouched and either nothing or a resumable run; a checkpoint whose partial output is
missing (a kill during start-up) is simply started over.

Bad input (undecodable bytes, empty documents, malformed JSON/CSV rows, over-long lines)
is counted, written with file:line to the errors file and skipped (on_error="skip"), or
stops the run at the first one (on_error="fail"). strict=True turns any skip into a failure
of the run after it has finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from data.atomic import write_text_atomic
from data.errors import DiplostanceError, IncompleteRun
from data.labels import LABELS
from data.documents import count_units, discover
from diplostance.engines import LocalEngine, with_actors
from diplostance.locks import lock_path, output_lock
from diplostance.reader import Reader, prefetched
from diplostance.outputs import SUMMARY_FORMATS, finalize, iter_spool, output_format, write_summary
from models.base import StanceModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreOptions:
    split: bool = True  # False: every document/row is scored as one sentence
    text_field: str = "text"
    id_field: str = "id"
    batch_size: int | None = None  # sentences per forward pass; None: the model's own (finetune: by token count)
    group_sentences: int = 512  # sentences per checkpointed group (whole documents)
    on_error: str = "skip"  # skip | fail
    strict: bool = False  # any skipped input makes the run fail (after it completes)
    resume: bool = False
    quiet: bool = False
    errors_path: Path | None = None  # default: OUTPUT + ".errors.jsonl"
    summary_path: Path | None = None
    engine: str = "local"  # local | ray
    address: str | None = None  # ray cluster address; None = local Ray
    runtime: str = "torch"  # inference runtime of the loaded model (finetune: torch, bf16, onnx, onnx-fp32)


# ---- run state --------------------------------------------------------------------------
@dataclass
class _Paths:
    output: Path
    spool: Path
    checkpoint: Path
    errors: Path
    errors_partial: Path

    @classmethod
    def for_output(cls, output: Path, errors_path: Path | None) -> "_Paths":
        errors = errors_path or output.with_name(output.name + ".errors.jsonl")
        return cls(output, output.with_name(output.name + ".partial.jsonl"),
                   output.with_name(output.name + ".partial.checkpoint.json"), errors,
                   errors.with_name(errors.name + ".partial"))


def _hash_files(files, h=None, root: Path | None = None):
    h = h or hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(root) if root else f}\0".encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h


def model_fingerprint(model_dir: str | Path) -> str:
    """sha256 over the names and bytes of every file of a model directory: a model retrained
    in place (same path, new weights or thresholds) gets a new fingerprint."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return hashlib.sha256(str(model_dir).encode()).hexdigest()
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    return _hash_files(files, root=model_dir).hexdigest()


def _fingerprint(model_dir: str, files: list[Path], options: ScoreOptions) -> dict:
    """What a resumed run must share with the interrupted one: the model's files, the inputs'
    bytes (and order) and the options that shape the rows."""
    return {
        "model": model_fingerprint(model_dir) + ":" + options.runtime,
        "inputs": _hash_files(files).hexdigest(),
        "options": hashlib.sha256(json.dumps([options.split, options.text_field, options.id_field]).encode()).hexdigest(),
    }


_FINGERPRINT_PARTS = {"model": "the model's files", "inputs": "the input files", "options": "the options (--no-split, "
                      "--text-field, --id-field)"}


def check_score_paths(inputs: list[str | Path], output: str | Path, options: ScoreOptions = ScoreOptions()) -> list[Path]:
    """Check every path argument before any work; returns the input files in order.

    Raises DiplostanceError for: an output, --summary or --errors with the wrong extension or
    that is a directory, or whose folder cannot be created; two of them naming the same file;
    one that names an input file, or sits inside an input directory (it would be read as
    input on the next run); inputs that are missing or hold no supported file; a bad option.
    """
    output = Path(output)
    output_format(output)
    if options.on_error not in ("skip", "fail"):
        raise DiplostanceError(f"--on-error must be skip or fail, not {options.on_error!r}")
    if options.batch_size is not None and options.batch_size < 1:
        raise DiplostanceError(f"--batch-size must be at least 1, not {options.batch_size}")
    if options.summary_path and Path(options.summary_path).suffix not in SUMMARY_FORMATS:
        raise DiplostanceError(f"{options.summary_path}: summary must end in {' or '.join(SUMMARY_FORMATS)}")
    paths = _Paths.for_output(output, options.errors_path)
    written = {"--output": output, "--errors": paths.errors}
    if options.summary_path:
        written["--summary"] = Path(options.summary_path)
    for flag, path in written.items():
        check_writable_file(path, flag)
    seen: dict[Path, str] = {}
    for flag, path in written.items():
        key = path.resolve()
        if key in seen:
            raise DiplostanceError(f"{path}: {flag} and {seen[key]} name the same file")
        seen[key] = flag
    files = discover(inputs)
    ours = {p.resolve(): flag for flag, p in written.items()}
    ours.update({p.resolve(): "--output" for p in (paths.spool, paths.checkpoint, paths.errors_partial, lock_path(output))})
    for f in files:
        if f.resolve() in ours:
            raise DiplostanceError(f"{f}: is an input and the {ours[f.resolve()]} file; refusing to overwrite an input")
    for arg in map(Path, inputs):
        if arg.is_dir():
            top = arg.resolve()
            for flag, path in written.items():
                if path.resolve().is_relative_to(top):
                    raise DiplostanceError(f"{path}: {flag} is inside the input directory {arg}, where the next run "
                                           "would read it as input; write it elsewhere")
    return files


def creatable_in(path: Path, flag: str = "--output") -> Path:
    """The nearest existing folder above ``path``; DiplostanceError when it is not a folder
    (the output could never be created there)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise DiplostanceError(f"{path}: {flag} cannot be created ({parent} is not a directory)")
    return parent


def check_writable_file(path: str | Path, flag: str = "--output") -> None:
    """An output file: not a directory, in a folder that exists or can be created."""
    path = Path(path)
    if path.is_dir():
        raise DiplostanceError(f"{path}: {flag} is a directory; name a file")
    parent = creatable_in(path, flag)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DiplostanceError(f"{path}: {flag} cannot be written (no permission in {parent})")


def _write_checkpoint(paths: _Paths, state: dict) -> None:
    write_text_atomic(paths.checkpoint, json.dumps(state))


def _read_checkpoint(paths: _Paths) -> dict | None:
    """The saved state, or None when there is none or it is unreadable (it is written
    atomically, so unreadable means someone else wrote there)."""
    try:
        saved = json.loads(paths.checkpoint.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise DiplostanceError(f"{paths.checkpoint}: not a diplostance checkpoint; delete it to start again") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("fingerprint"), dict):
        raise DiplostanceError(f"{paths.checkpoint}: checkpoint of an older diplostance version; delete it and "
                               f"{paths.spool} to start again")
    return saved


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def _remove_stale_temporaries(*targets: Path) -> None:
    """Temporary files of data.atomic left beside ``targets`` by a killed run. Called with the
    output's lock held, so no other run is writing them."""
    for target in targets:
        for tmp in target.parent.glob(f".{target.name}.*.partial{target.suffix}"):
            tmp.unlink(missing_ok=True)


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as fh:
        fh.truncate(size)


class _Progress:
    """tqdm on stderr in a terminal (units, sentences/s, ETA); silent in pipes or with quiet."""

    def __init__(self, total: int | None, initial: int, quiet: bool):
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="doc", file=sys.stderr, dynamic_ncols=True)
        self.started, self.sentences = time.perf_counter(), 0

    def update(self, units: int, sentences: int):
        self.sentences += sentences
        if self.bar is not None:
            rate = self.sentences / max(time.perf_counter() - self.started, 1e-9)
            self.bar.set_postfix_str(f"{rate:,.0f} sentences/s", refresh=False)
            self.bar.update(units)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def score_archive(model: StanceModel, model_dir: str, inputs: list[str | Path], output: str | Path,
                  options: ScoreOptions = ScoreOptions()) -> dict:
    """Score every input into `output` (.jsonl, .csv or .parquet); returns run counts.

    Raises DiplostanceError before any work for a bad argument (see ``check_score_paths``),
    or when another run holds the output's lock; IncompleteRun when nothing could be scored
    (every input bad): the errors file is written, the output is not.
    """
    output = Path(output)
    files = check_score_paths(inputs, output, options)
    paths = _Paths.for_output(output, options.errors_path)
    with output_lock(output):
        return _score_locked(model, model_dir, files, paths, options)


def _score_locked(model, model_dir, files, paths: _Paths, options: ScoreOptions) -> dict:
    output = paths.output
    for path in (output, paths.errors, options.summary_path):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(output, *([Path(options.summary_path)] if options.summary_path else []))
    fingerprint = _fingerprint(model_dir, files, options)
    state = {"fingerprint": fingerprint, "units_done": 0, "spool_bytes": 0, "errors_bytes": 0,
             "documents": 0, "sentences": 0, "skipped": 0, **{n: 0 for n in LABELS}}
    saved = _read_checkpoint(paths)
    if saved is not None and saved["units_done"] == 0 and not saved.get("finalizing"):
        saved = None  # killed during start-up: nothing to keep
    if saved is not None:
        if not options.resume:
            raise DiplostanceError(f"{paths.spool}: an interrupted run left partial output; "
                                   "add --resume to continue it, or delete the .partial files to start again")
        changed = [_FINGERPRINT_PARTS[k] for k in _FINGERPRINT_PARTS if saved["fingerprint"].get(k) != fingerprint[k]]
        if changed:
            raise DiplostanceError(f"{paths.checkpoint}: {' and '.join(changed)} differ from the interrupted run; "
                                   "resuming would mix two runs in one output (delete the .partial files to start again)")
        if saved.get("finalizing") and not paths.spool.exists() and output.exists():
            saved["errors_file"] = _finish_errors(paths, saved)  # it was killed after the final rename
            paths.checkpoint.unlink()
            saved.pop("finalizing", None)
            return saved
        if _size(paths.spool) < saved["spool_bytes"] or _size(paths.errors_partial) < saved["errors_bytes"]:
            log.warning("%s: the partial output is missing or shorter than its checkpoint; starting again", paths.spool)
            saved = None
        else:
            state = saved
            _truncate(paths.spool, state["spool_bytes"])
            _truncate(paths.errors_partial, state["errors_bytes"])
    if saved is None:  # a fresh start: leftovers without a usable checkpoint cannot be trusted
        for path in (paths.spool, paths.errors_partial):
            path.unlink(missing_ok=True)
            path.touch()
        _write_checkpoint(paths, state)

    if not state.get("finalizing"):
        _score_units(model, model_dir, files, paths, options, state)
    state["finalizing"] = True
    _write_checkpoint(paths, state)

    if state["sentences"] == 0:  # nothing to write: leave any previous output as it was
        errors = _finish_errors(paths, state)
        paths.spool.unlink(missing_ok=True)
        paths.checkpoint.unlink()
        reason = (f"all {state['skipped']} inputs were bad; see {errors}" if state["skipped"]
                  else "the inputs hold no text")
        raise IncompleteRun(f"{output}: nothing scored: {reason}; no output written")
    # complete: summary, final output, errors file; then the checkpoint goes
    if options.summary_path:
        state["summary_documents"] = write_summary(iter_spool(paths.spool), Path(options.summary_path))
    finalize(paths.spool, output)
    state["errors_file"] = _finish_errors(paths, state)
    paths.checkpoint.unlink()
    state.pop("finalizing", None)
    return state


def _finish_errors(paths: _Paths, state: dict) -> str | None:
    if state["skipped"]:
        paths.errors_partial.replace(paths.errors)
        return str(paths.errors)
    paths.errors_partial.unlink(missing_ok=True)
    paths.errors.unlink(missing_ok=True)
    return None


PREFETCH_GROUPS = 2  # groups read and split ahead of the model by the reader process


def reader_depth(engine) -> int:
    """Groups the reader process works ahead: PREFETCH_GROUPS when the model leaves a core idle
    (tfidf predicts on one thread: +13% end to end on 2 cores), else 0, reading in turn (a model
    on every core, as finetune: the reader would only take cycles from it, -2% measured; see
    benchmarks/throughput.py). Ray's actors split for themselves."""
    if not isinstance(engine, LocalEngine):
        return 0
    return PREFETCH_GROUPS if (os.cpu_count() or 1) > engine.model.inference_threads() else 0


def _score_units(model, model_dir, files, paths: _Paths, options: ScoreOptions, state: dict) -> None:
    engine = make_engine(model, model_dir, options)
    reader = Reader(tuple(files), options.text_field, options.id_field, state["units_done"], options.on_error,
                    options.split, max(options.group_sentences, getattr(engine, "window_sentences", 0)),
                    engine.prepare)
    progress = _Progress(count_units(files), state["units_done"], options.quiet)
    try:
        with paths.spool.open("ab") as spool, paths.errors_partial.open("ab") as errors:
            for group, problems, group_units, prepared in prefetched(reader, reader_depth(engine)):
                for problem in problems:
                    errors.write((json.dumps({"where": problem.where, "reason": problem.reason}) + "\n").encode())
                    state["skipped"] += 1
                _flush_group(engine, group, prepared, group_units, spool, errors, state, paths, progress)
    except DiplostanceError:
        # a bad input under on_error="fail": the user fixes the input and starts again, so
        # nothing is kept for --resume (a crash or kill keeps the partial files instead)
        for leftover in (paths.spool, paths.errors_partial, paths.checkpoint):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        progress.close()
        engine.close()


def _flush_group(engine, group, prepared, group_units, spool, errors, state, paths, progress) -> None:
    if group_units == 0:
        return
    rows = with_actors(engine.score_prepared(prepared)) if group else []
    for row in rows:
        spool.write((json.dumps(row.to_json(), ensure_ascii=False) + "\n").encode())
        for name in row["labels"]:
            state[name] += 1
    spool.flush()
    errors.flush()
    state["units_done"] += group_units
    state["documents"] += len(group)
    state["sentences"] += len(rows)
    state["spool_bytes"], state["errors_bytes"] = spool.tell(), errors.tell()
    _write_checkpoint(paths, state)
    progress.update(group_units, len(rows))


def make_engine(model: StanceModel, model_dir: str, options: ScoreOptions):
    """The engine named by ``options.engine``."""
    if options.engine == "local":
        return LocalEngine(model, options.split, options.batch_size)
    if options.engine == "ray":
        from diplostance.ray_engine import RayEngine

        return RayEngine(model_dir, options.split, options.batch_size, options.runtime, options.address)
    raise DiplostanceError(f"unknown engine {options.engine!r} (local or ray)")
