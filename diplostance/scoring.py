"""Batch scoring at archive scale: documents -> sentences -> probabilities -> rows on disk.

Streaming end to end: documents are read one at a time, scored in groups of whole
documents, appended to a spool, and forgotten; memory does not grow with the input.
After every group the run writes a checkpoint (units consumed, bytes of spool and errors
file), so `resume=True` after a kill -9 truncates the spool to the checkpoint and skips the
units already done: no row lost, none duplicated. The output appears under its final name
only when the run is complete.

Bad input (undecodable bytes, empty documents, malformed JSON/CSV rows, over-long lines)
is counted, written with file:line to the errors file and skipped (on_error="skip"), or
stops the run at the first one (on_error="fail"). strict=True turns any skip into a failure
of the run after it has finished.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from data.atomic import write_text_atomic
from data.errors import DiplostanceError
from data.labels import LABELS
from data.documents import Document, InputProblem, count_units, discover, read_units
from diplostance.engines import LocalEngine
from diplostance.outputs import finalize, iter_spool, output_format, write_summary
from models.base import StanceModel



@dataclass(frozen=True)
class ScoreOptions:
    split: bool = True  # False: every document/row is scored as one sentence
    text_field: str = "text"
    id_field: str = "id"
    batch_size: int = 16  # sentences per forward pass (fastest on 2 cores in benchmarks/throughput.py)
    group_sentences: int = 512  # sentences per checkpointed group (whole documents)
    on_error: str = "skip"  # skip | fail
    strict: bool = False  # any skipped input makes the run fail (after it completes)
    resume: bool = False
    quiet: bool = False
    errors_path: Path | None = None  # default: OUTPUT + ".errors.jsonl"
    summary_path: Path | None = None
    engine: str = "local"  # local | ray
    address: str | None = None  # ray cluster address; None = local Ray
    runtime: str = "torch"  # inference runtime of the model (finetune: torch, onnx, onnx-fp32)


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


def _fingerprint(model_dir: str, files: list[Path], options: ScoreOptions) -> str:
    h = hashlib.sha256()
    h.update(str(model_dir).encode())
    h.update(options.runtime.encode())
    for f in files:
        st = f.stat()
        h.update(f"{f}:{st.st_size}:{int(st.st_mtime)}".encode())
    h.update(json.dumps([options.split, options.text_field, options.id_field]).encode())
    return h.hexdigest()


def _write_checkpoint(paths: _Paths, state: dict) -> None:
    write_text_atomic(paths.checkpoint, json.dumps(state))


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
    """Score every input into `output` (.jsonl, .csv or .parquet); returns run counts."""
    output = Path(output)
    output_format(output)
    if options.on_error not in ("skip", "fail"):
        raise DiplostanceError(f"--on-error must be skip or fail, not {options.on_error!r}")
    files = discover(inputs)
    paths = _Paths.for_output(output, options.errors_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(model_dir, files, options)
    state = {"fingerprint": fingerprint, "units_done": 0, "spool_bytes": 0, "errors_bytes": 0,
             "documents": 0, "sentences": 0, "skipped": 0, **{n: 0 for n in LABELS}}
    if paths.checkpoint.exists():
        if not options.resume:
            raise DiplostanceError(f"{paths.spool}: an interrupted run left partial output; "
                                   "add --resume to continue it, or delete the .partial files to start again")
        saved = json.loads(paths.checkpoint.read_text())
        if saved["fingerprint"] != fingerprint:
            raise DiplostanceError(f"{paths.checkpoint}: the inputs, model or options differ from the interrupted run")
        state = saved
        if not paths.spool.exists() and output.exists():  # it was killed after the final rename
            paths.checkpoint.unlink()
            return state
        _truncate(paths.spool, state["spool_bytes"])
        if paths.errors_partial.exists():
            _truncate(paths.errors_partial, state["errors_bytes"])
    else:  # without a checkpoint, leftovers cannot be trusted
        paths.spool.unlink(missing_ok=True)
        paths.errors_partial.unlink(missing_ok=True)
        _write_checkpoint(paths, state)

    engine = make_engine(model, model_dir, options)
    group_target = max(options.group_sentences, getattr(engine, "window_sentences", 0))
    progress = _Progress(count_units(files), state["units_done"], options.quiet)
    units = read_units(files, options.text_field, options.id_field)
    for _ in range(state["units_done"]):  # skip what the interrupted run finished
        next(units, None)
    try:
        with paths.spool.open("ab") as spool, paths.errors_partial.open("ab") as errors:
            group: list[Document] = []
            group_units = group_sentences = 0
            for unit in units:
                group_units += 1
                if isinstance(unit, InputProblem):
                    if options.on_error == "fail":
                        raise unit.as_error()
                    errors.write((json.dumps({"where": unit.where, "reason": unit.reason}) + "\n").encode())
                    state["skipped"] += 1
                    continue
                group.append(unit)
                # rough sentence estimate (a --no-split document is one sentence)
                group_sentences += len(unit.text) // 120 + 1 if options.split else 1
                if group_sentences >= group_target:
                    _flush_group(engine, group, group_units, spool, errors, state, paths, progress)
                    group, group_units, group_sentences = [], 0, 0
            _flush_group(engine, group, group_units, spool, errors, state, paths, progress)
    except DiplostanceError:
        # a bad input under on_error="fail": the user fixes the input and starts again, so
        # nothing is kept for --resume (a crash or kill keeps the partial files instead)
        for leftover in (paths.spool, paths.errors_partial, paths.checkpoint):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        progress.close()
        engine.close()

    # complete: summary, final output, errors file; then the checkpoint goes
    if options.summary_path:
        state["summary_documents"] = write_summary(iter_spool(paths.spool), Path(options.summary_path))
    finalize(paths.spool, output)
    if state["skipped"]:
        paths.errors_partial.replace(paths.errors)
    else:
        paths.errors_partial.unlink(missing_ok=True)
        paths.errors.unlink(missing_ok=True)
    paths.checkpoint.unlink()
    state["errors_file"] = str(paths.errors) if state["skipped"] else None
    return state


def _flush_group(engine, group, group_units, spool, errors, state, paths, progress) -> None:
    if group_units == 0:
        return
    rows = engine.score_group(group) if group else []
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
