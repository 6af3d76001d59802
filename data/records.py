"""Labelled sentence records: reading, validation, hashing and the `datasets.Dataset` view.

A labelled row is a JSON object with at least ``id``, ``text`` and ``labels`` (a list drawn
from data.labels.LABELS; an empty list means "none"). Optional: ``doc_id`` (grouping for
cross-validation; defaults to the part of ``id`` before its last ':'), ``source``,
``register``, ``boilerplate``, ``rationale``.

Every problem is raised as DataError("path:line: message"): a file is never loaded with
rows silently skipped.
"""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import hashlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator

import numpy as np

from data.errors import DataError, Where
from data.labels import LABELS

STRING_FIELDS = ("id", "doc_id", "text", "source", "register", "boilerplate", "rationale")
DATASET_COLUMNS = ("id", "doc_id", "text", "labels", "source", "register", "boilerplate")


def dataset_features():
    """Explicit `datasets.Features` of the training view (labels: a list of ClassLabel)."""
    from datasets import ClassLabel, Features, List, Value

    return Features({name: List(ClassLabel(names=list(LABELS))) if name == "labels" else Value("string")
                     for name in DATASET_COLUMNS})


_CORE_FIELDS = ("id", "doc_id", "text", "labels", "source", "register", "boilerplate", "rationale", "where")


class _RecordView(Mapping):
    """The read-only JSON view shared by the record types: typed fields first (``_fields``),
    then ``meta``; tuples read as lists and mappings as dicts, as in the JSON rows."""

    _fields: tuple[str, ...] = ()

    def __getitem__(self, key: str):
        if key in self._fields:
            value = getattr(self, key)
            return list(value) if isinstance(value, tuple) else dict(value) if isinstance(value, Mapping) else value
        return self.meta[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._fields
        yield from self.meta

    def __len__(self) -> int:
        return len(self._fields) + len(self.meta)


@dataclass(frozen=True)
class LabelledRow(_RecordView):
    """One labelled sentence: a typed, frozen record that knows where it was read.

    Attribute access is typed (``row.labels`` is a tuple in the order of LABELS); the read-only
    mapping view (``row["labels"]``, ``row.get("start")``) gives the JSON form, so a row reads
    like the JSONL it came from. Extra fields (offsets, source metadata, the readings of a real
    row, the fold of a CV row) live in ``meta``. Change a row with ``row.replace(...)``.
    """

    id: str
    doc_id: str
    text: str
    labels: tuple[str, ...]
    source: str
    register: str = ""
    boilerplate: str = ""
    rationale: str = ""
    where: Where | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    _fields = _CORE_FIELDS

    def __post_init__(self):
        object.__setattr__(self, "labels", tuple(name for name in LABELS if name in self.labels))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))


    def __hash__(self) -> int:
        return hash((self.id, self.text, self.labels))

    def __reduce__(self):  # picklable for multiprocessing (meta is a read-only proxy)
        return (LabelledRow, (self.id, self.doc_id, self.text, self.labels, self.source, self.register,
                              self.boilerplate, self.rationale, self.where, dict(self.meta)))

    def replace(self, **changes) -> "LabelledRow":
        """A copy with ``changes``; names that are not fields go to ``meta``."""
        core = {k: v for k, v in changes.items() if k in _CORE_FIELDS and k != "meta"}
        extra = {k: v for k, v in changes.items() if k not in _CORE_FIELDS}
        return dataclasses.replace(self, **core, meta={**self.meta, **extra})

    def to_json(self) -> dict:
        """The row as a JSON object (``where`` as ``path:line``)."""
        return {k: (str(v) if isinstance(v, Where) else v) for k, v in self.items() if v is not None}


_SCORED_FIELDS = ("doc_id", "sent_idx", "start", "end", "text", "boilerplate", "labels", "scores", "actors", "targets",
                  "projects")


@dataclass(frozen=True)
class ScoredSentence(_RecordView):
    """One sentence as the tagger outputs it: its place in the document, the label decisions
    and the score of every label, who commits or backs (``actors``), whom they back
    (``targets``), the projects it names (``projects``: {start, end, text} with offsets into the
    document), plus the document's metadata (``meta``). Read-only; the mapping view is the JSON
    row of a scores file, whose computed keys win over metadata."""

    doc_id: str
    sent_idx: int
    start: int
    end: int
    text: str
    boilerplate: str
    labels: tuple[str, ...]
    scores: Mapping[str, float]
    actors: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    projects: tuple[Mapping[str, Any], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    _fields = _SCORED_FIELDS

    def __post_init__(self):
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "actors", tuple(self.actors))
        object.__setattr__(self, "targets", tuple(self.targets))
        object.__setattr__(self, "projects", tuple(dict(p) for p in self.projects))
        object.__setattr__(self, "scores", MappingProxyType(dict(self.scores)))
        object.__setattr__(self, "meta", MappingProxyType({k: v for k, v in self.meta.items() if k not in _SCORED_FIELDS}))


    def to_json(self) -> dict:
        return dict(self.items())

    @classmethod
    def from_json(cls, obj: dict) -> "ScoredSentence":
        optional = ("actors", "targets", "projects")
        return cls(**{k: obj[k] for k in _SCORED_FIELDS if k not in optional or k in obj},
                   meta={k: v for k, v in obj.items() if k not in _SCORED_FIELDS})


def parse_labelled_line(line: str, path, lineno: int, default_source: str) -> LabelledRow:
    """One JSONL line -> a LabelledRow (raises DataError on any problem)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(path, lineno, f"malformed JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise DataError(path, lineno, "a row must be a JSON object")
    for key in ("id", "text", "labels"):
        if key not in obj:
            raise DataError(path, lineno, f"missing field '{key}'")
    if not isinstance(obj["id"], str) or not obj["id"].strip():
        raise DataError(path, lineno, "'id' must be a non-empty string")
    if not isinstance(obj["text"], str) or not obj["text"].strip():
        raise DataError(path, lineno, f"empty text for id {obj['id']!r}")
    labels = obj["labels"]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise DataError(path, lineno, "'labels' must be a list of label names")
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise DataError(path, lineno, f"unknown label {unknown[0]!r} (known: {', '.join(LABELS)})")
    values = {
        "id": obj["id"],
        "doc_id": obj.get("doc_id") or obj.get("doc") or obj["id"].rsplit(":", 1)[0],
        "text": obj["text"],
        "source": obj.get("source") or default_source,
        "register": obj.get("register") or "",
        "boilerplate": obj.get("boilerplate") or "",
        "rationale": obj.get("rationale") or "",
    }
    for key in STRING_FIELDS:
        if not isinstance(values[key], str):
            raise DataError(path, lineno, f"'{key}' must be a string")
    meta = {}
    # sentences that came out of `diplostance ingest` remember where they were split from
    if isinstance(obj.get("source_file"), str) and isinstance(obj.get("sent_idx"), int):
        meta = {"source_file": obj["source_file"], "sent_idx": obj["sent_idx"]}
    return LabelledRow(**values, labels=tuple(labels), where=Where(str(path), lineno), meta=meta)


def iter_text_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a UTF-8 text file, gzipped or not (recognised by its first bytes,
    whatever its name); a byte-order mark is dropped. Raises DataError naming the file and
    line for a missing file, undecodable bytes, or a truncated or corrupt gzip stream."""
    path = Path(path)
    try:
        with path.open("rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
    except FileNotFoundError:
        raise DataError(path, None, "no such file") from None
    except IsADirectoryError:
        raise DataError(path, None, "is a directory, not a file") from None
    lineno = 0
    try:
        with (gzip.open(path, "rb") if gzipped else path.open("rb")) as fh:
            for lineno, raw in enumerate(fh, 1):
                if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataError(path, lineno, f"undecodable bytes (not UTF-8) at column {exc.start + 1}") from None
                yield lineno, text
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise DataError(path, lineno + 1, "truncated or corrupt gzip file") from None


def read_text_file(path: str | Path) -> str:
    """The whole text of a file read as ``iter_text_lines`` reads it (same errors)."""
    return "".join(line for _, line in iter_text_lines(path))


def read_labelled_jsonl(path: str | Path, default_source: str | None = None) -> list[LabelledRow]:
    """Read and validate a labelled JSONL file.

    Raises DataError naming file and line for: a missing or empty file, malformed JSON,
    a missing field, empty text, an unknown label, or a duplicate id.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file")
    source = default_source or (path.stem[:-6] if path.stem.endswith(".jsonl") else path.stem)
    rows, seen = [], {}
    for lineno, line in iter_text_lines(path):
        if not line.strip():
            continue
        row = parse_labelled_line(line, path, lineno, source)
        if row["id"] in seen:
            raise DataError(path, lineno, f"duplicate id {row['id']!r} (first at line {seen[row['id']]})")
        seen[row["id"]] = lineno
        rows.append(row)
    if not rows:
        raise DataError(path, None, "file has no rows")
    return rows


def check_unique_ids(rows: list[dict]) -> None:
    """Raise DataError at the second occurrence of any id across several files."""
    first: dict[str, str] = {}
    for row in rows:
        if row["id"] in first:
            raise row["where"].error(f"duplicate id {row['id']!r} (also at {first[row['id']]})")
        first[row["id"]] = row["where"]


def multi_hot(label_lists) -> np.ndarray:
    """Label-name lists -> (N, K) 0/1 matrix in the column order of LABELS (the one place
    that builds label matrices; sklearn's MultiLabelBinarizer with the fixed class order).

    >>> multi_hot([["project_pledge", "commitment"], []]).tolist()
    [[1, 0, 1], [0, 0, 0]]
    """
    from sklearn.preprocessing import MultiLabelBinarizer

    return MultiLabelBinarizer(classes=list(LABELS)).fit_transform(label_lists).astype(int).reshape(-1, len(LABELS))


def texts_and_targets(rows: list[dict]) -> tuple[list[str], np.ndarray, list[str]]:
    """rows -> (texts, Y of shape (N, K), groups = document ids)."""
    return [r["text"] for r in rows], multi_hot([r["labels"] for r in rows]), [r["doc_id"] for r in rows]


def rows_hash(rows: list[dict]) -> str:
    """sha256 over (id, text, labels) of the rows in order: the training-data fingerprint."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps([row["id"], row["text"], row["labels"]], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def to_dataset(rows: list[dict]):
    """Rows -> datasets.Dataset with explicit features (labels as a list of ClassLabel)."""
    from datasets import Dataset

    columns = {name: [row[name] for row in rows] for name in DATASET_COLUMNS}
    return Dataset.from_dict(columns, features=dataset_features())


def write_jsonl(rows, path: str | Path, fields=None) -> None:
    """Write rows atomically: a temporary file renamed into place when complete."""
    from data.atomic import atomic_path

    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            obj = row.to_json() if isinstance(row, LabelledRow) else row
            if fields:
                obj = {k: obj[k] for k in fields if k in obj}
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")


def check_consistent_labels(rows: list[dict]) -> None:
    """Raise DataError when the same sentence text carries different labels in two rows."""
    first: dict[str, dict] = {}
    for row in rows:
        key = " ".join(row["text"].split()).lower()
        other = first.setdefault(key, row)
        if other is not row and other["labels"] != row["labels"]:
            raise row["where"].error(
                f"conflicting labels for the same sentence: {row['labels']} here, {other['labels']} at {other['where']}")
