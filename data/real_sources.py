"""The real documents that may be labelled: communiqués other than the dev documents, and
UN General Debate speeches of sessions 70-76. Text is read from ../shared at run time."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

from data.errors import DataError
from data.splitting import split_document

UN_TRAIN_SESSIONS = range(70, 77)  # 2015-2021; sessions 77-79 are evaluation only
PUBLISHERS = {"kremlin": "en.kremlin.ru", "whitehouse": "whitehouse.gov"}
LICENCES = {
    "kremlin": "CC BY 4.0, credit en.kremlin.ru and the source URL",
    "whitehouse": "U.S. federal government work (public domain in the U.S.)",
    "ungd": "UN General Debate Corpus (Jankin, Baturo, Dasandi; Baturo, Dasandi, Mikhaylov 2017)",
}


EVALUATION_RUN = 16  # words: a sentence sharing a run this long with evaluation-only text is left out


def word_runs(text: str, n: int = EVALUATION_RUN) -> set[str]:
    """Every run of ``n`` consecutive words (lower-cased letters and digits)."""
    import re

    words = re.findall(r"[a-z0-9]+", text.lower())
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def evaluation_only_runs(shared: Path) -> set[str]:
    """Word runs of the text that must never enter the repository: the dev sentences, the
    seven dev documents, and UN General Debate sessions 77-79."""
    dev_path = shared / "dev" / "dev.jsonl"
    runs: set[str] = set()
    with dev_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                runs |= word_runs(json.loads(line)["text"])
    for doc in dev_documents(dev_path):
        runs |= word_runs((shared / "corpus" / "communiques" / doc).read_text(encoding="utf-8"))
    with gzip.open(shared / "corpus" / "ungd-2015-2024.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj["session"] not in UN_TRAIN_SESSIONS:
                runs |= word_runs(obj["text"])
    return runs


def without_evaluation_text(sentences: list[dict], runs: set[str]) -> tuple[list[dict], list[dict]]:
    """(kept, left out): a sentence that shares a word run with evaluation-only text (a quoted
    passage, a stock paragraph repeated in a dev document or a 2022-2024 speech) is left out."""
    kept, left = [], []
    for s in sentences:
        (left if word_runs(s["text"]) & runs else kept).append(s)
    return kept, left


def dev_documents(dev_path: Path) -> set[str]:
    """The documents behind the dev set: never labelled, never trained on."""
    docs = set()
    with dev_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                docs.add(json.loads(line)["doc"])
    return docs


def communique_sentences(corpus_dir: Path, dev_path: Path) -> list[dict]:
    """Every sentence of every communiqué not behind the dev set, in document order."""
    excluded = dev_documents(dev_path)
    if not excluded:
        raise DataError(dev_path, None, "no dev documents found; refusing to label blind")
    manifest = corpus_dir / "manifest.tsv"
    with manifest.open(encoding="utf-8") as fh:
        entries = list(csv.DictReader(fh, delimiter="\t"))
    rows = []
    for m in entries:
        if m["file"] in excluded:
            continue
        raw = (corpus_dir / m["file"]).read_text(encoding="utf-8")
        collection = m["file"].split("/", 1)[0]
        doc_id = m["file"].removesuffix(".txt")
        for s in split_document(raw, doc_id):
            rows.append({
                "id": f"{doc_id}:{s.sent_idx:03d}", "text": s.text, "doc_id": doc_id,
                "sent_idx": s.sent_idx, "start": s.start, "end": s.end, "boilerplate": s.boilerplate or "",
                "register": "communique", "publisher": PUBLISHERS[collection], "url": m["source_url"],
                "date": m["date"], "title": m["title"],
                "header": f"{PUBLISHERS[collection]}, {m['date']}: {m['title']}",
            })
    return rows


def un_speeches(path: Path, sessions=UN_TRAIN_SESSIONS):
    """UN General Debate speeches of the given sessions (default: the trainable 70-76)."""
    allowed = set(sessions)
    if not allowed <= set(UN_TRAIN_SESSIONS):
        raise ValueError("sessions 77-79 are for evaluation only")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj["session"] in allowed:
                yield obj
