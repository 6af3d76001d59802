"""The reading side of scoring: input files -> checkpointed groups of whole documents, each with
its sentence rows already split, produced ahead of the model in a second process.

Splitting is pure Python and holds the GIL, so a reader *thread* stalls the model's kernels
(every operator needs the GIL to start); a reader *process* runs on the other core and hands
over finished groups through a bounded queue (``depth`` groups: memory stays flat). The
groups, their order and their contents are exactly those of reading in turn (``depth=0``).

The reader process exits when its groups are done, when scoring leaves early (it is
terminated), or when its parent dies (it checks while waiting to hand over a group).
"""

from __future__ import annotations

import functools
import os
import pickle
import queue
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from data.documents import Document, InputProblem, iter_sentence_rows, read_units
from data.errors import DiplostanceError

Group = tuple[list[Document], list[InputProblem], int, object]  # documents, problems, units consumed, prepared


def split_rows(documents: list[Document], split: bool = True) -> list[dict]:
    """The sentence rows of these documents (what the local engine scores)."""
    return list(iter_sentence_rows(documents, split))


def unchanged(documents: list[Document]) -> list[Document]:
    """For engines that split elsewhere (Ray's actors)."""
    return documents


def rows_preparer(split: bool) -> Callable:
    return functools.partial(split_rows, split=split)


@dataclass(frozen=True)
class Reader:
    """What to read and how to group it; picklable, so a second process can run it."""

    files: tuple[Path, ...]
    text_field: str
    id_field: str
    skip_units: int  # units an interrupted run already finished
    on_error: str  # skip | fail
    split: bool
    group_sentences: int
    prepare: Callable  # documents -> what the engine scores (module-level, picklable)

    def groups(self) -> Iterator[Group]:
        """(documents, input problems, units consumed, prepare(documents)) per group, in input
        order; the first problem raises under on_error="fail"."""
        units = read_units(list(self.files), self.text_field, self.id_field)
        for _ in range(self.skip_units):
            next(units, None)
        group: list[Document] = []
        problems: list[InputProblem] = []
        group_units = group_sentences = 0
        for unit in units:
            group_units += 1
            if isinstance(unit, InputProblem):
                if self.on_error == "fail":
                    raise unit.as_error()
                problems.append(unit)
                continue
            group.append(unit)
            # rough sentence estimate (a --no-split document is one sentence)
            group_sentences += len(unit.text) // 120 + 1 if self.split else 1
            if group_sentences >= self.group_sentences:
                yield group, problems, group_units, self.prepare(group)
                group, problems, group_units, group_sentences = [], [], 0, 0
        if group_units:
            yield group, problems, group_units, self.prepare(group) if group else []


_END = "end"
_ERROR = "error"
_GROUP = "group"


def prefetched(reader: Reader, depth: int) -> Iterator[Group]:
    """``reader.groups()``, produced ``depth`` groups ahead in a second process (on a machine
    with one core, or with ``depth`` 0, in turn in this process). An error of the reader is
    raised here, after the groups before it."""
    if depth < 1 or (os.cpu_count() or 1) < 2:
        yield from reader.groups()
        return
    import multiprocessing

    # fork where there is one: the child only reads and splits (no torch), and a fork does not
    # re-run the caller's __main__ script, which spawn would
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    q = ctx.Queue(maxsize=depth)
    proc = ctx.Process(target=_run, args=(reader, q, os.getpid()), name="diplostance-reader", daemon=True)
    proc.start()
    try:
        while True:
            try:
                kind, payload = q.get(timeout=1.0)
            except queue.Empty:
                if not proc.is_alive():
                    raise DiplostanceError(f"the reader process stopped unexpectedly (exit code {proc.exitcode})") from None
                continue
            if kind == _END:
                return
            if kind == _ERROR:
                raise payload
            yield payload
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=10)
        q.cancel_join_thread()
        q.close()


def _run(reader: Reader, q, parent: int) -> None:
    """The reader process: every group into ``q``, then the end mark (or the error)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    os.nice(19)  # the model's threads come first: the reader fills the time they leave idle

    def put(item) -> bool:
        while os.getppid() == parent:
            try:
                q.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False  # the parent is gone (killed): nobody reads what we would write

    try:
        for group in reader.groups():
            if not put((_GROUP, group)):
                return
    except Exception as exc:  # noqa: BLE001 - handed to the parent, raised there
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel: its text does
            exc = DiplostanceError(f"{type(exc).__name__}: {exc}")
        put((_ERROR, exc))
        return
    put((_END, None))
