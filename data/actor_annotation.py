"""The actor gold sample: who commits, whom they back, which project (issue 15).

A batch lives in ``data/actors/<batch>/``:

- ``sentences.jsonl``: numbered sentences (``n``) with id, text, document id, sentence index,
  offsets, stance labels (the adjudicated ones), register, country (UN speeches) and header;
- ``reading_a.tsv``, ``reading_b.tsv``: two independent readings, one line per sentence,
  ``n<TAB>actors<TAB>targets<TAB>projects`` (data/ACTORS.md says how to read);
- ``adjudication.tsv``: ``n<TAB>actors<TAB>targets<TAB>projects<TAB>rationale`` for every
  sentence on which the readings differ.

Gold values are computed here from the readings at load time; a batch missing a file is pending.
The reader view adds up to three previous sentences of the document, re-read from the source at
view time and never stored.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from data.atomic import write_text_atomic
from data.errors import DataError
from data.parties import is_party_code

ACTORS_DIR = Path(__file__).resolve().parent / "actors"
BATCH_FILES = ("sentences.jsonl", "reading_a.tsv", "reading_b.tsv", "adjudication.tsv")
EMPTY = "-"
PROJECT_SEPARATOR = " | "


@dataclass(frozen=True)
class ActorReading:
    """One reading of one sentence: actor codes, target codes, project spans (exact substrings)."""

    actors: tuple[str, ...]
    targets: tuple[str, ...]
    projects: tuple[str, ...]

    @classmethod
    def parse(cls, fields: list[str], text: str, path, lineno: int) -> "ActorReading":
        if len(fields) != 3:
            raise DataError(path, lineno, f"expected actors, targets and projects, found {len(fields)} field(s)")
        actors, targets = (tuple(c.strip() for c in f.split(";") if c.strip()) if f.strip() != EMPTY else ()
                           for f in fields[:2])
        for code in actors + targets:
            if not is_party_code(code):
                raise DataError(path, lineno, f"{code!r} is not an ISO 3166 alpha-3 code, an organisation code "
                                              "of data/ACTORS.md or '?'")
        projects = tuple(p.strip() for p in fields[2].split("|") if p.strip()) if fields[2].strip() != EMPTY else ()
        for p in projects:
            if p not in text:
                raise DataError(path, lineno, f"project span {p!r} is not in the sentence")
        return cls(actors, targets, projects)

    def key(self) -> tuple:
        return (tuple(sorted(self.actors)), tuple(sorted(self.targets)), tuple(sorted(self.projects)))

    def to_fields(self) -> list[str]:
        return [";".join(self.actors) or EMPTY, ";".join(self.targets) or EMPTY,
                PROJECT_SEPARATOR.join(self.projects) or EMPTY]


def sample_gold(real_rows: list, quotas: dict[tuple[str, str], int], seed: int) -> list:
    """A seeded stratified sample of labelled real rows. quotas: {(register, stratum): n} with
    stratum "project" (has project_pledge), "support" (support_declaration, no project) or
    "commitment" (commitment only)."""
    def stratum(r):
        labels = set(r["labels"])
        if "project_pledge" in labels:
            return "project"
        if "support_declaration" in labels:
            return "support"
        return "commitment" if labels else None

    rng = random.Random(seed)
    picked = []
    for (register, name), n in sorted(quotas.items()):
        pool = [r for r in real_rows if r["register"] == register and stratum(r) == name]
        picked += rng.sample(pool, min(n, len(pool)))
    return picked


def write_batch(sentences: list[dict], directory: Path) -> Path:
    if directory.exists():
        raise DataError(directory, None, "batch exists already; choose another name")
    numbered = [{"n": n, **{k: v for k, v in s.items() if k != "context_before"}} for n, s in enumerate(sentences, 1)]
    write_text_atomic(directory / "sentences.jsonl", "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in numbered))
    return directory


def reader_view(sentences: list[dict]) -> str:
    """Numbered sentences under their document header, each with its stance labels and up to
    three previous sentences of its document as context (``context_before``: [[sent_idx, text],
    ...]; a sentence already shown above is not repeated)."""
    lines, last_doc, shown = [], None, set()
    for n, s in enumerate(sentences, 1):
        if s["doc_id"] != last_doc:
            lines += ["", "=== " + s.get("header", s["doc_id"])]
            last_doc, shown = s["doc_id"], set()
        for idx, prev in s.get("context_before", []):
            if idx not in shown:
                lines.append(f"      (context: {prev})")
            shown.add(idx)
        shown.add(s.get("sent_idx"))
        labels = ", ".join(s["labels"]) or "none"
        lines.append(f"[{s.get('n', n)}] ({labels}) {s['text']}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _read_tsv(path: Path, sentences: list[dict], extra: int = 0) -> dict[int, tuple]:
    out = {}
    by_n = {s["n"]: s for s in sentences}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            try:
                n = int(fields[0])
            except ValueError:
                raise DataError(path, lineno, f"first field must be the sentence number, not {fields[0]!r}") from None
            if n not in by_n:
                raise DataError(path, lineno, f"sentence {n} is not in the batch")
            if n in out:
                raise DataError(path, lineno, f"sentence {n} read twice")
            reading = ActorReading.parse(fields[1:4], by_n[n]["text"], path, lineno)
            out[n] = (reading, *fields[4:4 + extra])
    return out


@dataclass(frozen=True)
class GoldSentence:
    sentence: dict
    a: ActorReading
    b: ActorReading
    gold: ActorReading
    rationale: str


def load_batch(directory: Path) -> list[GoldSentence]:
    """Every sentence of a complete batch with both readings and the gold reading."""
    missing = [f for f in BATCH_FILES if not (directory / f).is_file()]
    if missing:
        raise DataError(directory, None, f"batch is pending: missing {', '.join(missing)}")
    path = directory / "sentences.jsonl"
    sentences = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    a, b = (_read_tsv(directory / f, sentences) for f in ("reading_a.tsv", "reading_b.tsv"))
    adjudicated = _read_tsv(directory / "adjudication.tsv", sentences, extra=1)
    out = []
    for s in sentences:
        n = s["n"]
        for name, reading in (("reading_a.tsv", a), ("reading_b.tsv", b)):
            if n not in reading:
                raise DataError(directory / name, None, f"sentence {n} has no reading")
        ra, rb = a[n][0], b[n][0]
        if ra.key() == rb.key():
            gold, why = ra, ""
        elif n in adjudicated:
            gold, why = adjudicated[n][0], (adjudicated[n][1] if len(adjudicated[n]) > 1 else "")
        else:
            raise DataError(directory / "adjudication.tsv", None, f"sentence {n}: the readings differ and it is not adjudicated")
        out.append(GoldSentence({**s, "batch": directory.name}, ra, rb, gold, why))
    return out


def batch_dirs(directory: Path = ACTORS_DIR) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []


def load_gold(directory: Path = ACTORS_DIR) -> list[GoldSentence]:
    """Every sentence of every complete batch; pending batches are left out."""
    out = []
    for d in batch_dirs(directory):
        if all((d / f).is_file() for f in BATCH_FILES):
            out += load_batch(d)
    return out


def check_reading(directory: Path, filename: str) -> str:
    """Validate one reading file against its batch (every sentence once, valid codes, spans
    inside their sentence): a one-line summary, or DataError naming the file and line."""
    sentences = [json.loads(line) for line in (directory / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    readings = _read_tsv(directory / filename, sentences)
    missing = [s["n"] for s in sentences if s["n"] not in readings]
    if missing:
        raise DataError(directory / filename, None, f"{len(missing)} sentence(s) without a reading, first {missing[:5]}")
    return f"{directory / filename}: {len(readings)} readings, all valid"


if __name__ == "__main__":
    import sys

    try:
        print(check_reading(Path(sys.argv[1]), sys.argv[2]))
    except DataError as exc:
        sys.exit(f"error: {exc}")
