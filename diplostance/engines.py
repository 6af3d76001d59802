"""Scoring engines: turn a group of documents into scored sentence rows.

- local: this process, the loaded model (``LocalEngine``);
- ray: Ray Data actors, each loading the model once with the same runtime
  (``diplostance.ray_engine.RayEngine``, optional extra [distributed]), built on this one.

Both give the same rows in the same order; diplostance.scoring chooses and drives either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from data.documents import Document
from data.errors import DiplostanceError
from data.labels import LABELS
from data.records import ScoredSentence
from diplostance.reader import rows_preparer
from models.base import StanceModel


def load_model_checked(directory: str | Path, runtime: str = "torch") -> StanceModel:
    """``models.registry.load_model``, with any failure to read the directory (a corrupt
    config.json, truncated or foreign weights, undecodable bytes) as a one-line
    DiplostanceError naming it: a model directory is user input."""
    from models.registry import load_model

    try:
        return load_model(directory, runtime=runtime)
    except (DiplostanceError, ImportError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the loaders raise on damaged files
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        raise DiplostanceError(f"{directory}: cannot load the model; its files are damaged or incomplete "
                               f"({type(exc).__name__}{': ' + detail if detail else ''})") from None


def label_rows(rows: list[dict], P, thresholds) -> list[ScoredSentence]:
    """Sentence rows + probabilities P of shape (N, K) -> scored sentences (scores {label: p}
    and the labels whose score reaches their threshold)."""
    out = []
    for row, p in zip(rows, P):
        meta = {k: v for k, v in row.items() if k not in ("doc_id", "sent_idx", "start", "end", "text", "boilerplate")}
        out.append(ScoredSentence(
            row["doc_id"], row["sent_idx"], row["start"], row["end"], row["text"], row["boilerplate"],
            labels=[name for name, v, t in zip(LABELS, p, thresholds) if v >= t],
            scores={name: round(float(v), 6) for name, v in zip(LABELS, p)}, meta=meta))
    return out


def with_actors(rows: list[ScoredSentence]) -> list[ScoredSentence]:
    """Actors, targets and project spans of each labelled sentence (models.actors), resolved
    in document order; ``rows`` hold whole documents, as every engine returns them."""
    import dataclasses

    from models.actors import ActorAnnotator

    annotate = ActorAnnotator()
    out = []
    for row in rows:
        x = annotate(row.doc_id, row.text, row.labels, row.meta)
        projects = tuple({"start": row.start + s, "end": row.start + e, "text": t} for s, e, t in x.projects)
        out.append(dataclasses.replace(row, actors=x.actors, targets=x.targets, projects=projects))
    return out


def score_rows(model: StanceModel, rows: Iterable[dict], chunk: int = 512,
               batch_size: int | None = None) -> Iterator[ScoredSentence]:
    """Add `scores` and `labels` to each sentence row, ``chunk`` rows at a time."""
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == chunk:
            yield from label_rows(batch, model.predict_proba([r["text"] for r in batch], batch_size), model.thresholds_)
            batch = []
    if batch:
        yield from label_rows(batch, model.predict_proba([r["text"] for r in batch], batch_size), model.thresholds_)


class LocalEngine:
    """Scores in this process. ``prepare`` (splitting: a picklable function, run by the reader
    process of diplostance.reader) and ``score_prepared`` (the model) are separate, so the next
    group is split while the model scores this one."""

    def __init__(self, model: StanceModel, split: bool = True, batch_size: int | None = None):
        self.model, self.split, self.batch_size = model, split, batch_size
        self.prepare = rows_preparer(split)

    def score_prepared(self, rows: list[dict]) -> list[ScoredSentence]:
        if not rows:
            return []
        return label_rows(rows, self.model.predict_proba([r["text"] for r in rows], self.batch_size),
                          self.model.thresholds_)

    def score_group(self, documents: list[Document]) -> list[ScoredSentence]:
        return self.score_prepared(self.prepare(documents))

    def close(self):
        pass
