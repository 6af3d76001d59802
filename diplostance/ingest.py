"""Ingestion for the retraining loop: split new documents, pre-label every sentence with
the current model, and choose which sentences a person should label.

Strategies:
- uncertain: the N sentences closest to a decision threshold (smallest margin over labels);
- diverse: N sentences spread across documents and the sentence-embedding space (greedy
  k-center on MiniLM vectors, at most ceil(N / documents) per document while others remain),
  starting from the most uncertain sentence;
- random: a seeded uniform sample (the stratum that keeps label rates honest);
- all: every sentence.
Boilerplate segments (datelines, captions, ...) are never selected by random/uncertain/diverse,
nor are sentences whose id is in ``exclude`` (already labelled or already picked).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from data.errors import DiplostanceError
from data.labels import LABELS
from data.documents import iter_documents, iter_sentence_rows
from diplostance.engines import score_rows
from models.base import StanceModel

STRATEGIES = ("uncertain", "diverse", "random", "all")
_ROW_KEYS = ("doc_id", "sent_idx", "text", "labels", "scores", "boilerplate", "start", "end")


def prelabel(model: StanceModel, inputs: list[str | Path], text_field="text", id_field="id") -> list[dict]:
    """Every sentence of the inputs with the model's suggested labels and scores."""
    rows = []
    for row in score_rows(model, iter_sentence_rows(iter_documents(inputs, text_field, id_field))):
        margins = [abs(row["scores"][n] - t) for n, t in zip(LABELS, model.thresholds_)]
        rows.append({
            # document metadata (country, date, ...) travels with each sentence; the computed
            # keys below come after it, so a metadata field of the same name never replaces them
            **{k: v for k, v in row.items() if k not in _ROW_KEYS and k != "source_file"},
            "id": f"{row['doc_id']}:{row['sent_idx']:03d}",
            "doc_id": row["doc_id"], "sent_idx": row["sent_idx"], "text": row["text"],
            "labels": row["labels"], "scores": row["scores"],
            "uncertainty": round(1.0 - min(margins), 6),
            "boilerplate": row.get("boilerplate", ""), "source_file": row.get("source_file", ""),
            "start": row["start"], "end": row["end"],
        })
    return rows


def select_random(rows: list[dict], n: int, seed: int = 0) -> list[dict]:
    candidates = [r for r in rows if not r["boilerplate"]]
    if len(candidates) <= n:
        return candidates
    picked = np.random.default_rng(seed).choice(len(candidates), size=n, replace=False)
    return [candidates[i] for i in sorted(picked)]


def select_uncertain(rows: list[dict], n: int) -> list[dict]:
    candidates = [r for r in rows if not r["boilerplate"]]
    return sorted(candidates, key=lambda r: (-r["uncertainty"], r["id"]))[:n]


def select_diverse(rows: list[dict], n: int, embed) -> list[dict]:
    """embed: list[str] -> (M, H) unit vectors."""
    candidates = [r for r in rows if not r["boilerplate"]]
    if len(candidates) <= n:
        return candidates
    X = embed([r["text"] for r in candidates])
    docs = [r["doc_id"] for r in candidates]
    cap = math.ceil(n / len(set(docs)))
    per_doc: dict[str, int] = {}
    first = int(np.argmax([r["uncertainty"] for r in candidates]))
    chosen = [first]
    per_doc[docs[first]] = 1
    min_dist = np.linalg.norm(X - X[first], axis=1)
    while len(chosen) < n:
        allowed = np.array([per_doc.get(d, 0) < cap for d in docs])
        allowed[chosen] = False
        if not allowed.any():  # every document at its cap: lift the cap
            cap += 1
            continue
        i = int(np.argmax(np.where(allowed, min_dist, -1.0)))
        chosen.append(i)
        per_doc[docs[i]] = per_doc.get(docs[i], 0) + 1
        min_dist = np.minimum(min_dist, np.linalg.norm(X - X[i], axis=1))
    return [candidates[i] for i in chosen]


def select(rows: list[dict], strategy: str, n: int | None, embed=None, exclude=frozenset(), seed: int = 0) -> list[dict]:
    if strategy not in STRATEGIES:
        raise DiplostanceError(f"unknown selection {strategy!r} (choose from {', '.join(STRATEGIES)})")
    rows = [r for r in rows if r["id"] not in exclude]
    if strategy == "all" or n is None:
        return rows
    if n <= 0:
        raise DiplostanceError("--n must be positive")
    if strategy == "random":
        return select_random(rows, n, seed)
    if strategy == "uncertain":
        return select_uncertain(rows, n)
    if embed is None:
        from models.encoder import SentenceEncoder, resolve_base_model

        encoder = SentenceEncoder(*resolve_base_model(None))
        embed = encoder.encode
    return select_diverse(rows, n, embed)


def read_excluded_ids(paths) -> set[str]:
    """Ids of sentences already labelled or picked: every `id` in the given JSONL files."""
    import json

    from data.errors import DataError
    from data.records import iter_text_lines

    ids: set[str] = set()
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise DataError(path, None, "no such file")
        for lineno, line in iter_text_lines(path):
            if not line.strip():
                continue
            try:
                ids.add(str(json.loads(line)["id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DataError(path, lineno, "expected a JSON object with an 'id'") from None
    return ids
