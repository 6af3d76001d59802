"""Labelled rows that came from `diplostance ingest` name their source file, document and
sentence index. Before training, each is re-split from that file (when it still exists) and
its text must still be the sentence its id names: a label never drifts onto another text."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from data.splitting import split_document
from data.documents import iter_documents


def check_rows_against_sources(rows: list[dict]) -> int:
    """Raise DataError at the first row whose text differs from its source sentence;
    return how many rows were checked."""
    by_file: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row.get("source_file") and Path(row["source_file"]).is_file():
            by_file[row["source_file"]].append(row)
    checked = 0
    for source, file_rows in by_file.items():
        wanted = {row["doc_id"] for row in file_rows}
        sentences = {
            doc.doc_id: split_document(doc.text, doc.doc_id) for doc in iter_documents([source]) if doc.doc_id in wanted
        }
        for row in file_rows:
            sents = sentences.get(row["doc_id"])
            idx = row["sent_idx"]
            if sents is None or idx >= len(sents) or " ".join(sents[idx].text.split()) != " ".join(row["text"].split()):
                raise row["where"].error(f"text of {row['id']} no longer matches sentence {idx} of "
                                         f"{row['doc_id']} in {source}")
            checked += 1
    return checked
