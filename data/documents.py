"""Reading documents for scoring: files or directories (recursive) of .txt/.md, .jsonl and
.csv, each optionally .gz. Yields, in a fixed order, either a Document or an InputProblem
(undecodable bytes, empty document, malformed JSON/CSV row, over-long line), so that a long
run can count and skip bad input instead of dying, and a resumed run sees the same order.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from data.errors import DataError
from data.splitting import split_document

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
SUPPORTED = TEXT_SUFFIXES + JSONL_SUFFIXES + CSV_SUFFIXES
MAX_LINE_BYTES = 5_000_000  # a JSONL/CSV row, or a whole text document, larger than this is skipped
# Keys the tagger computes for every sentence row (and `score_<label>` columns). A document field
# of the same name is carried as `meta_<name>`, so it never replaces a computed value and is not
# lost either: a CSV with `start`/`end` date columns gives `meta_start`/`meta_end`.
RESERVED_FIELDS = ("doc_id", "sent_idx", "start", "end", "text", "boilerplate", "labels", "scores", "source_file",
                   "actors", "targets", "projects")
READ_ERRORS = (OSError, EOFError, zlib.error)  # unreadable file, bad or truncated gzip stream


def _namespaced(key: str, taken) -> str:
    """``start`` -> ``meta_start`` (``meta_meta_start`` if a field of that name exists too)."""
    if key not in RESERVED_FIELDS and not key.startswith("score_"):
        return key
    key = "meta_" + key
    while key in taken:
        key = "meta_" + key
    return key


@dataclass
class Document:
    doc_id: str
    text: str
    where: str  # "path" or "path:line"
    meta: dict = field(default_factory=dict)
    derived_id: bool = False  # the id came from the file name (and line), not from the document


@dataclass
class InputProblem:
    path: str
    line: int | None
    reason: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def as_error(self) -> DataError:
        return DataError(self.path, self.line, self.reason)


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffixes, kind in ((TEXT_SUFFIXES, "text"), (JSONL_SUFFIXES, "jsonl"), (CSV_SUFFIXES, "csv")):
        if name.endswith(suffixes):
            return kind
    return None


def discover(inputs: list[str | Path]) -> list[Path]:
    """Input files in a fixed order: each argument in turn, directories walked recursively
    (sorted), keeping supported files only; a file reached twice is kept once. A missing path,
    an unsupported file named directly, or no input file at all is a DataError."""
    files, seen = [], set()
    for arg in map(Path, inputs):
        if arg.is_dir():
            found = sorted(p for p in arg.rglob("*") if p.is_file() and _kind(p))
        elif arg.is_file():
            if _kind(arg) is None:
                raise DataError(arg, None, f"unsupported input type (use {', '.join(SUPPORTED)}, optionally .gz)")
            found = [arg]
        else:
            raise DataError(arg, None, "no such file or directory")
        for path in found:  # a file named twice (`dir dir/a.txt`, `a.txt ./a.txt`) is read once
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                files.append(path)
    if not files:
        where = inputs[0] if len(inputs) == 1 else " ".join(map(str, inputs))
        raise DataError(where, None, f"no input files ({', '.join(SUPPORTED)}, optionally .gz)")
    return files


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _doc_id_from_path(path: Path) -> str:
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return name.rsplit(".", 1)[0]


def read_units(paths: list[Path], text_field: str = "text", id_field: str = "id") -> Iterator[Document | InputProblem]:
    """Documents and problems of every file in order. Document ids are unique within a run: a
    document whose own id was seen before is a problem ("duplicate document id"); one whose id
    comes from its file name (two directories holding ``a.txt``) is named by its path instead."""
    seen: dict[str, str] = {}  # doc_id -> where it was first seen
    for unit in _read_all(paths, text_field, id_field):
        if isinstance(unit, Document):
            if unit.doc_id in seen and unit.derived_id:
                unit.doc_id = _path_id(unit.where)
            if unit.doc_id in seen:
                path, line = _split_where(unit.where)
                unit = InputProblem(path, line, f"duplicate document id {unit.doc_id!r} (first at {seen[unit.doc_id]})")
            else:
                seen[unit.doc_id] = unit.where
        yield unit


def _split_where(where: str) -> tuple[str, int | None]:
    """``dir/rows.jsonl:3`` -> (``dir/rows.jsonl``, 3); ``a.txt`` -> (``a.txt``, None)."""
    path, sep, line = where.rpartition(":")
    return (path, int(line)) if sep and line.isdigit() else (where, None)


def _path_id(where: str) -> str:
    """``wires/2024/a.txt`` -> ``wires/2024/a``; ``dir/rows.jsonl:3`` -> ``dir/rows:3``."""
    path, line = _split_where(where)
    name = path[:-3] if path.lower().endswith(".gz") else path
    stem = name.rsplit(".", 1)[0] if "." in Path(name).name else name
    return f"{stem}:{line}" if line else stem


def _read_all(paths, text_field, id_field):
    for path in paths:
        kind = _kind(path)
        try:
            if kind == "text":
                yield from _read_text(path)
            elif kind == "jsonl":
                yield from _read_jsonl(path, text_field, id_field)
            else:
                yield from _read_csv(path, text_field, id_field)
        except READ_ERRORS as exc:
            reason = "not a gzip file or a corrupt one" if isinstance(exc, (gzip.BadGzipFile, zlib.error)) \
                else "truncated gzip file" if isinstance(exc, EOFError) else exc.strerror or str(exc)
            yield InputProblem(str(path), None, f"cannot read file ({reason})")


def _read_text(path: Path):
    with _open_binary(path) as fh:
        raw = fh.read(MAX_LINE_BYTES + 1)
    if len(raw) > MAX_LINE_BYTES:
        yield InputProblem(str(path), None, f"document larger than {MAX_LINE_BYTES} bytes")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        yield InputProblem(str(path), line, f"undecodable bytes (not UTF-8) at byte {exc.start}")
        return
    if not text.strip():
        yield InputProblem(str(path), None, "empty document")
        return
    yield Document(_doc_id_from_path(path), text, str(path), {"source_file": str(path)}, derived_id=True)


def _read_jsonl(path: Path, text_field: str, id_field: str):
    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            if len(raw) > MAX_LINE_BYTES:
                yield InputProblem(str(path), lineno, f"line longer than {MAX_LINE_BYTES} bytes")
                continue
            if not raw.strip():
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield InputProblem(str(path), lineno, f"undecodable bytes (not UTF-8) at column {exc.start + 1}")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield InputProblem(str(path), lineno, f"malformed JSON ({exc.msg})")
                continue
            yield _row_document(obj, path, lineno, text_field, id_field)


class _Lines:
    """The physical lines of a text stream, fed to csv.reader, keeping the lines of the current
    record so that a bad record can be re-read from its second line: one stray quote then
    costs its own row, not every row after it."""

    def __init__(self, fh):
        self._fh, self._back, self.taken = fh, [], []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self._back.pop() if self._back else next(self._fh)
        self.taken.append(line)
        return line

    def rewind(self) -> None:
        """Give back every line of the current record but its first."""
        self._back.extend(reversed(self.taken[1:]))
        self.taken = self.taken[:1]


def _read_csv(path: Path, text_field: str, id_field: str):
    csv.field_size_limit(MAX_LINE_BYTES)
    with _open_binary(path) as fh:
        # utf-8-sig: a byte-order mark (spreadsheet exports) is not part of the first column's name
        lines = _Lines(io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline=""))
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            yield InputProblem(str(path), None, "empty CSV file")
            return
        except csv.Error as exc:
            yield InputProblem(str(path), 1, f"malformed CSV header ({exc})")
            return
        if text_field not in header:
            yield InputProblem(str(path), 1, f"CSV header has no column '{text_field}'")
            return
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            yield InputProblem(str(path), 1, f"CSV header repeats column '{repeated[0]}'")
            return
        line = len(lines.taken)
        while True:
            start = line + 1
            lines.taken = []
            try:
                values, problem = next(reader), None
            except StopIteration:
                return
            except csv.Error as exc:
                values, problem = None, f"malformed CSV row ({exc})"
            if values is not None and len(values) != len(header) and values:
                problem = f"malformed CSV row ({len(values)} fields, header has {len(header)})"
            if problem and len(lines.taken) > 1:
                # the record ran over several lines (an unclosed quote): report its first line
                # and read on from the next one
                lines.rewind()
                reader = csv.reader(lines, strict=True)
            line = start - 1 + len(lines.taken)
            if problem:
                yield InputProblem(str(path), start, problem)
            elif not values:  # a blank line
                continue
            elif any(0xDC80 <= ord(ch) <= 0xDCFF for v in values for ch in v):  # surrogateescape'd bytes
                yield InputProblem(str(path), start, "undecodable bytes (not UTF-8)")
            else:
                yield _row_document(dict(zip(header, values)), path, start, text_field, id_field)


def _row_document(obj, path, lineno, text_field, id_field):
    if not isinstance(obj, dict):
        return InputProblem(str(path), lineno, "row is not an object")
    text = obj.get(text_field)
    if not isinstance(text, str):
        return InputProblem(str(path), lineno, f"row has no string field '{text_field}'")
    if not text.strip():
        return InputProblem(str(path), lineno, "empty document")
    derived = obj.get(id_field) in (None, "")
    doc_id = f"{_doc_id_from_path(path)}:{lineno}" if derived else str(obj[id_field])
    meta = {}
    for key, value in obj.items():
        if key not in (text_field, id_field, "labels"):
            meta[_namespaced(key, obj)] = value
    meta["source_file"] = str(path)
    return Document(doc_id, text, f"{path}:{lineno}", meta, derived_id=derived)


def iter_documents(inputs, text_field: str = "text", id_field: str = "id") -> Iterator[Document]:
    """Documents only; the first problem raises DataError (for ingestion and small jobs)."""
    for unit in read_units(discover(inputs), text_field, id_field):
        if isinstance(unit, InputProblem):
            raise unit.as_error()
        yield unit


def count_units(paths: list[Path]) -> int | None:
    """Rough number of units (documents or rows) for an ETA; None when it would be slow."""
    total = 0
    for path in paths:
        if _kind(path) == "text":
            total += 1
        else:
            try:
                if path.stat().st_size > 2_000_000_000:
                    return None
                with _open_binary(path) as fh:
                    total += sum(1 for _ in fh)
            except READ_ERRORS:  # read_units reports the file; the ETA just counts less
                pass
    return total


def iter_sentence_rows(documents, split: bool = True) -> Iterator[dict]:
    """Documents -> sentence rows {doc_id, sent_idx, start, end, text, boilerplate, **metadata};
    the computed keys win over any metadata field of the same name."""
    for doc in documents:
        if not split:
            yield {**doc.meta, "doc_id": doc.doc_id, "sent_idx": 0, "start": 0, "end": len(doc.text),
                   "text": doc.text.strip(), "boilerplate": ""}
            continue
        for s in split_document(doc.text, doc.doc_id):
            yield {**doc.meta, "doc_id": doc.doc_id, "sent_idx": s.sent_idx, "start": s.start, "end": s.end,
                   "text": s.text, "boilerplate": s.boilerplate or ""}
