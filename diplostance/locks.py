"""One lock file per output, so that two runs never write the same output at once.

``output_lock(path)`` holds an ``fcntl.flock`` on ``PATH.lock`` (beside the output) for the
duration of a run. The operating system releases a flock when its process dies, even by
``kill -9``, so a lock never outlives its run: a lock file left behind by a killed run is
taken over by the next one. A second run on a locked output fails at once with a
DiplostanceError naming the lock and the PID that holds it; it never waits.

The lock file is removed when the run ends. To make that safe against a third process that
opened the file just before the removal, a lock counts as taken only when the file locked is
still the one at PATH.lock (same inode).

Locks are re-entrant within one process (the CLI takes the lock of ``--output`` and
``score_archive`` takes it again), and they are advisory: only diplostance runs honour them.
"""

from __future__ import annotations

import errno
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from data.errors import DiplostanceError

_HELD: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth) for the locks this process holds


def _forget_in_child() -> None:
    """After a fork (the reader process of diplostance.reader): the child closes its copies of
    the lock files. A flock belongs to every copy of its descriptor, so a child that kept them
    would hold the output's lock after its parent was killed, and a --resume would be refused."""
    for fd, _ in _HELD.values():
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def lock_path(output: str | Path) -> Path:
    """``out.jsonl`` -> ``out.jsonl.lock``; a directory ``models/m`` -> ``models/m.lock``."""
    output = Path(os.path.abspath(output))
    if not output.name:
        raise DiplostanceError(f"{output}: not a usable output path")
    return output.with_name(output.name + ".lock")


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="utf-8").strip()
    except OSError:
        pid = ""
    return f" (process {pid})" if pid.isdigit() else ""


def _acquire(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DiplostanceError(f"{path.parent}: cannot create the output directory ({exc.strerror})") from None
    for _ in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DiplostanceError(f"{path.parent}: cannot write there ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise DiplostanceError(
                    f"{path}: another diplostance run is writing this output{_holder(path)}; "
                    "wait for it to finish or choose another --output") from None
            raise DiplostanceError(f"{path}: cannot lock the output ({exc.strerror})") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # the file was removed by the run that just finished: lock the new one
    raise DiplostanceError(f"{path}: could not take the lock (it keeps changing)")


@contextmanager
def output_lock(output: str | Path) -> Iterator[Path]:
    """Hold the lock of ``output`` for the block; DiplostanceError at once if another run
    holds it. Yields the lock file's path."""
    path = lock_path(output)
    key = os.path.abspath(path)
    if key in _HELD:
        fd, depth = _HELD[key]
        _HELD[key] = (fd, depth + 1)
    else:
        _HELD[key] = (_acquire(path), 1)
    try:
        yield path
    finally:
        fd, depth = _HELD[key]
        if depth > 1:
            _HELD[key] = (fd, depth - 1)
        else:
            del _HELD[key]
            try:
                path.unlink(missing_ok=True)  # while still locked: nobody else can hold it now
            finally:
                os.close(fd)
