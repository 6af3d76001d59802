"""Batch scoring: documents -> sentences -> probabilities -> rows on disk, streamed.

Input kinds: .txt/.md files (one document each, split into sentences) and JSONL files
(one document per row: `text` plus `id` used as doc id; other fields are carried through
as metadata). With split=False every JSONL row is scored as one sentence.
Output rows: doc_id, sent_idx, start, end, text, scores {label: p}, labels [names], plus
carried metadata. Output is written to a temporary file renamed when complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from data.errors import DataError, DiplostanceError
from data.labels import LABELS
from data.splitting import split_document
from models.base import StanceModel

TEXT_SUFFIXES = {".txt", ".md"}
JSONL_SUFFIXES = {".jsonl", ".json"}


@dataclass
class Document:
    doc_id: str
    text: str
    where: str  # "path" or "path:line"
    meta: dict = field(default_factory=dict)


def iter_documents(paths: Iterable[str | Path], text_field: str = "text", id_field: str = "id") -> Iterator[Document]:
    for path in map(Path, paths):
        if not path.is_file():
            raise DataError(path, None, "no such file")
        if path.suffix in TEXT_SUFFIXES:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
            if not text.strip():
                raise DataError(path, None, "empty document")
            yield Document(path.stem, text, str(path), {"source_file": str(path)})
        elif path.suffix in JSONL_SUFFIXES:
            yield from _jsonl_documents(path, text_field, id_field)
        else:
            raise DataError(path, None, f"unsupported input type {path.suffix!r} (use .txt, .md or .jsonl)")


def _jsonl_documents(path: Path, text_field: str, id_field: str) -> Iterator[Document]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(path, lineno, f"malformed JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get(text_field), str):
                raise DataError(path, lineno, f"row needs a string field '{text_field}'")
            if not obj[text_field].strip():
                raise DataError(path, lineno, f"empty '{text_field}'")
            doc_id = str(obj.get(id_field, f"{path.stem}:{lineno}"))
            meta = {k: v for k, v in obj.items() if k not in (text_field, id_field, "labels")}
            meta["source_file"] = str(path)
            yield Document(doc_id, obj[text_field], f"{path}:{lineno}", meta)


def iter_sentence_rows(documents: Iterable[Document], split: bool = True) -> Iterator[dict]:
    for doc in documents:
        if not split:
            text = doc.text.strip()
            yield {"doc_id": doc.doc_id, "sent_idx": 0, "start": 0, "end": len(doc.text), "text": text, **doc.meta}
            continue
        for s in split_document(doc.text, doc.doc_id):
            yield {"doc_id": doc.doc_id, "sent_idx": s.sent_idx, "start": s.start, "end": s.end, "text": s.text,
                   "boilerplate": s.boilerplate or "", **doc.meta}


def _batched(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def score_rows(model: StanceModel, rows: Iterable[dict], batch_size: int = 256) -> Iterator[dict]:
    """Add `scores` and `labels` to each sentence row, a batch at a time."""
    for batch in _batched(iter(rows), batch_size):
        P = model.predict_proba([r["text"] for r in batch])
        for row, p in zip(batch, P):
            row["scores"] = {name: round(float(v), 6) for name, v in zip(LABELS, p)}
            row["labels"] = [name for name, v, t in zip(LABELS, p, model.thresholds_) if v >= t]
            yield row


def score_files(
    model: StanceModel, inputs: list[str | Path], output: str | Path, split: bool = True,
    text_field: str = "text", id_field: str = "id", batch_size: int = 256,
) -> dict:
    """Score every input and write JSONL rows to `output`; returns counts."""
    output = Path(output)
    if output.suffix != ".jsonl":
        raise DiplostanceError(f"{output}: output must end in .jsonl")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    counts = {"documents": 0, "sentences": 0, **{name: 0 for name in LABELS}}
    seen_docs = set()
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            rows = iter_sentence_rows(iter_documents(inputs, text_field, id_field), split)
            for row in score_rows(model, rows, batch_size):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                counts["sentences"] += 1
                seen_docs.add(row["doc_id"])
                for name in row["labels"]:
                    counts[name] += 1
    except BaseException:
        tmp.unlink(missing_ok=True)  # never leave a half-written file behind
        raise
    tmp.replace(output)
    counts["documents"] = len(seen_docs)
    return counts
