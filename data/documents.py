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


@dataclass
class Document:
    doc_id: str
    text: str
    where: str  # "path" or "path:line"
    meta: dict = field(default_factory=dict)


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
    (sorted), keeping supported files only. A missing path or an unsupported file named
    directly is a DataError."""
    files = []
    for arg in map(Path, inputs):
        if arg.is_dir():
            files += sorted(p for p in arg.rglob("*") if p.is_file() and _kind(p))
        elif arg.is_file():
            if _kind(arg) is None:
                raise DataError(arg, None, f"unsupported input type (use {', '.join(SUPPORTED)}, optionally .gz)")
            files.append(arg)
        else:
            raise DataError(arg, None, "no such file or directory")
    return files


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _doc_id_from_path(path: Path) -> str:
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return name.rsplit(".", 1)[0]


def read_units(paths: list[Path], text_field: str = "text", id_field: str = "id") -> Iterator[Document | InputProblem]:
    for path in paths:
        kind = _kind(path)
        try:
            if kind == "text":
                yield from _read_text(path)
            elif kind == "jsonl":
                yield from _read_jsonl(path, text_field, id_field)
            else:
                yield from _read_csv(path, text_field, id_field)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            yield InputProblem(str(path), None, f"cannot read file ({exc})")


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
    yield Document(_doc_id_from_path(path), text, str(path), {"source_file": str(path)})


def _read_jsonl(path: Path, text_field: str, id_field: str):
    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            if len(raw) > MAX_LINE_BYTES:
                yield InputProblem(str(path), lineno, f"line longer than {MAX_LINE_BYTES} bytes")
                continue
            if not raw.strip():
                continue
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


def _read_csv(path: Path, text_field: str, id_field: str):
    csv.field_size_limit(MAX_LINE_BYTES)
    with _open_binary(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            yield InputProblem(str(path), None, "empty CSV file")
            return
        if text_field not in header:
            yield InputProblem(str(path), 1, f"CSV header has no column '{text_field}'")
            return
        line = reader.line_num
        while True:
            start = line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield InputProblem(str(path), start, f"malformed CSV row ({exc})")
                line = reader.line_num
                continue
            line = reader.line_num
            if any(0xDC80 <= ord(ch) <= 0xDCFF for v in values for ch in v):  # surrogateescape'd bytes
                yield InputProblem(str(path), start, "undecodable bytes (not UTF-8)")
                continue
            if len(values) != len(header):
                yield InputProblem(str(path), start, f"malformed CSV row ({len(values)} fields, header has {len(header)})")
                continue
            yield _row_document(dict(zip(header, values)), path, start, text_field, id_field)


def _row_document(obj, path, lineno, text_field, id_field):
    if not isinstance(obj, dict):
        return InputProblem(str(path), lineno, "row is not an object")
    text = obj.get(text_field)
    if not isinstance(text, str):
        return InputProblem(str(path), lineno, f"row has no string field '{text_field}'")
    if not text.strip():
        return InputProblem(str(path), lineno, "empty document")
    doc_id = str(obj[id_field]) if obj.get(id_field) not in (None, "") else f"{_doc_id_from_path(path)}:{lineno}"
    meta = {k: v for k, v in obj.items() if k not in (text_field, id_field, "labels")}
    meta["source_file"] = str(path)
    return Document(doc_id, text, f"{path}:{lineno}", meta)


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
            if path.stat().st_size > 2_000_000_000:
                return None
            with _open_binary(path) as fh:
                total += sum(1 for _ in fh)
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
