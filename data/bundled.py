"""The labelled data that ships with the project.

- seeds: the five raw articles in data/raw/, split by data.splitting, joined by sentence id
  with the hand labels in data/annotations/seeds.jsonl. The join checks that every sentence
  has a label and that each label's text still matches its sentence, so a change to the
  splitter can never silently shift labels onto other sentences.
- authored: data/authored/*.jsonl, sentences written fresh for the project (issue 4).
- real: data/real/, real communiqué and UN speech sentences read twice and adjudicated
  (issue 10; see data.real).
"""

from __future__ import annotations

import csv
from pathlib import Path

from data.errors import DataError
from data.records import check_unique_ids, read_labelled_jsonl
from data.splitting import split_document

DATA_DIR = Path(__file__).resolve().parent
RAW_DIR = DATA_DIR / "raw"
SEED_ANNOTATIONS = DATA_DIR / "annotations" / "seeds.jsonl"
AUTHORED_DIR = DATA_DIR / "authored"
AUTHORED_GROUP_SIZE = 20  # authored rows are grouped in blocks of this size for inner CV splits


def seed_metadata() -> list[dict]:
    with (RAW_DIR / "metadata.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def seed_documents(raw_dir: Path = RAW_DIR) -> dict[str, str]:
    """doc_id -> raw text of each seed article."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(raw_dir.glob("*.txt"))}


def load_seed_rows(raw_dir: Path = RAW_DIR, annotations_path: Path = SEED_ANNOTATIONS) -> list[dict]:
    """Split the raw seeds and attach hand labels; raises DataError on any mismatch."""
    annotations = {row["id"]: row for row in read_labelled_jsonl(annotations_path, "seed")}
    rows = []
    for doc_id, raw in seed_documents(raw_dir).items():
        for sent in split_document(raw, doc_id):
            sid = f"{doc_id}:{sent.sent_idx:03d}"
            ann = annotations.pop(sid, None)
            if ann is None:
                raise DataError(annotations_path, None, f"sentence {sid} has no label row: {sent.text[:60]!r}")
            if ann["text"] != sent.text:
                raise ann["where"].error(f"text of {sid} no longer matches the split sentence")
            rows.append(ann.replace(doc_id=doc_id, source="seed", boilerplate=sent.boilerplate or "",
                                    start=sent.start, end=sent.end, sent_idx=sent.sent_idx))
    if annotations:
        stale = next(iter(annotations.values()))
        raise stale["where"].error(f"label row {stale['id']} matches no sentence of the raw seeds")
    return rows


def load_authored_rows(directory: Path = AUTHORED_DIR) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        file_rows = read_labelled_jsonl(path, "authored")
        for i, row in enumerate(file_rows):
            if row.source != "authored":
                raise row.where.error("authored rows must carry source 'authored'")
            rows.append(row.replace(doc_id=f"authored/{row.register or path.stem}/{i // AUTHORED_GROUP_SIZE:03d}"))
    return rows


def load_bundled(include_authored: bool = True, include_real: bool = True) -> list[dict]:
    """All bundled labelled rows (seeds, then authored, then real), ids checked unique across files."""
    rows = load_seed_rows()
    if include_authored:
        rows += load_authored_rows()
    if include_real:
        from data.real import load_real_rows

        rows += load_real_rows()
    check_unique_ids(rows)
    return rows

