"""Double reading of real sentences: batches for readers, their readings, adjudication.

A batch lives in ``data/real/<batch>/``:

- ``sentences.jsonl``: the sentences to read, numbered ``n`` = 1..N, each with its id,
  text, document id, sentence index, character offsets and source (publisher, URL or UN
  speech id, date, country, selection stratum);
- ``reading_a.tsv``, ``reading_b.tsv``: two independent first readings, one line
  ``n<TAB>codes`` per sentence (codes: letters from ``CODES``, ``-`` for none);
- ``adjudication.tsv``: ``n<TAB>codes<TAB>rationale`` for every sentence on which the two
  readings differ (an empty file when they agree everywhere).

A batch counts as labelled only when all four files are there and complete; until then it
is pending and never trains anything. Final labels are computed here from the readings, so
they cannot drift from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from data.atomic import write_text_atomic
from data.errors import DataError, Where
from data.labels import LABELS

# One letter per label, from the one label list: C(ommitment), S(upport), P(roject).
CODES: dict[str, str] = {name[0].upper(): name for name in LABELS}
assert len(CODES) == len(LABELS), "label initials must be unique"
NONE_CODE = "-"
BATCH_FILES = ("sentences.jsonl", "reading_a.tsv", "reading_b.tsv", "adjudication.tsv")


def encode(labels) -> str:
    """["commitment", "project_pledge"] -> "CP"; [] -> "-"."""
    return "".join(code for code, name in CODES.items() if name in labels) or NONE_CODE


def decode(codes: str, path, lineno: int) -> list[str]:
    """"PC" -> ["commitment", "project_pledge"] (canonical order); raises DataError."""
    codes = codes.strip().upper().replace(",", "").replace(" ", "")
    if not codes:
        raise DataError(path, lineno, f"no codes (write {NONE_CODE} for none)")
    if codes in (NONE_CODE, "NONE"):
        return []
    bad = sorted(set(codes) - set(CODES))
    if bad:
        raise DataError(path, lineno, f"unknown label code {bad[0]!r} (use {', '.join(CODES)} or {NONE_CODE})")
    return [name for code, name in CODES.items() if code in codes]


@dataclass(frozen=True)
class Reading:
    labels: list[str]
    note: str
    where: Where


def read_tsv(path: Path, n_items: int, *, need_note: bool = False) -> dict[int, Reading]:
    """A reading or adjudication file -> {n: Reading}; raises DataError naming file and line."""
    if not path.is_file():
        raise DataError(path, None, "no such file")
    out: dict[int, Reading] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                raise DataError(path, lineno, "expected 'n<TAB>codes' (tab-separated)")
            try:
                n = int(parts[0].strip().strip("[]"))
            except ValueError:
                raise DataError(path, lineno, f"sentence number {parts[0]!r} is not an integer") from None
            if not 1 <= n <= n_items:
                raise DataError(path, lineno, f"sentence number {n} outside 1..{n_items}")
            if n in out:
                raise DataError(path, lineno, f"sentence {n} read twice (first at {out[n].where})")
            note = "\t".join(parts[2:]).strip()
            if need_note and not note:
                raise DataError(path, lineno, f"sentence {n}: an adjudication needs a one-line rationale")
            out[n] = Reading(decode(parts[1], path, lineno), note, Where(str(path), lineno))
    return out


def read_batch_sentences(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(path, lineno, f"malformed JSON ({exc.msg})") from None
            if row.get("n") != len(rows) + 1:
                raise DataError(path, lineno, f"expected n={len(rows) + 1}, found {row.get('n')!r}")
            for key in ("id", "text", "doc_id"):
                if not isinstance(row.get(key), str) or not row[key].strip():
                    raise DataError(path, lineno, f"missing or empty '{key}'")
            row["where"] = Where(str(path), lineno)
            rows.append(row)
    if not rows:
        raise DataError(path, None, "batch has no sentences")
    return rows


@dataclass
class Batch:
    """One batch read twice and adjudicated."""

    name: str
    sentences: list[dict]
    reading_a: dict[int, Reading]
    reading_b: dict[int, Reading]
    adjudication: dict[int, Reading]

    def disagreements(self) -> list[int]:
        return [n for n in range(1, len(self.sentences) + 1) if self.reading_a[n].labels != self.reading_b[n].labels]

    def rows(self) -> list[dict]:
        """Final labelled rows: the agreed reading, or the adjudication where they differ."""
        rows = []
        for s in self.sentences:
            n = s["n"]
            a, b = self.reading_a[n], self.reading_b[n]
            final = a if a.labels == b.labels else self.adjudication[n]
            row = {k: v for k, v in s.items() if k != "n"}
            row.update({
                "labels": final.labels, "source": "real", "batch": self.name,
                "reading_a": a.labels, "reading_b": b.labels,
                "rationale": final.note if a.labels != b.labels else "",
            })
            rows.append(row)
        return rows


def batch_status(directory: Path) -> str:
    """'labelled', or 'pending' with what is missing."""
    missing = [f for f in BATCH_FILES if not (directory / f).is_file()]
    return "labelled" if not missing else "pending (no " + ", ".join(missing) + ")"


def load_batch(directory: Path) -> Batch:
    """Read and cross-check one complete batch; raises DataError on any gap or mismatch."""
    sentences = read_batch_sentences(directory / "sentences.jsonl")
    n_items = len(sentences)
    a = read_tsv(directory / "reading_a.tsv", n_items)
    b = read_tsv(directory / "reading_b.tsv", n_items)
    for reading, name in ((a, "reading_a.tsv"), (b, "reading_b.tsv")):
        missing = [n for n in range(1, n_items + 1) if n not in reading]
        if missing:
            raise DataError(directory / name, None, f"{len(missing)} sentences unread (first: {missing[0]})")
    adj = read_tsv(directory / "adjudication.tsv", n_items, need_note=True)
    batch = Batch(directory.name, sentences, a, b, adj)
    needed = set(batch.disagreements())
    unsettled = sorted(needed - set(adj))
    if unsettled:
        raise DataError(directory / "adjudication.tsv", None,
                        f"{len(unsettled)} disagreements not adjudicated (first: sentence {unsettled[0]})")
    extra = sorted(set(adj) - needed)
    if extra:
        raise adj[extra[0]].where.error(f"sentence {extra[0]} is adjudicated but the two readings agree")
    return batch


def reader_view(sentences: list[dict]) -> str:
    """The text a reader sees: numbered sentences, grouped under their document's header,
    with the previous sentence of the document where the batch does not show it."""
    lines, last_doc, last_n_of_doc = [], None, {}
    for s in sentences:
        if s["doc_id"] != last_doc:
            lines.append("")
            lines.append("=== " + s.get("header", s["doc_id"]))
            last_doc = s["doc_id"]
        prev = s.get("context_before")
        shown_prev = last_n_of_doc.get(s["doc_id"]) == s.get("sent_idx", -2) - 1
        if prev and not shown_prev:
            lines.append(f"      (previous sentence, context only: {prev})")
        lines.append(f"[{s['n']}] {s['text']}")
        last_n_of_doc[s["doc_id"]] = s.get("sent_idx")
    return "\n".join(lines).lstrip("\n") + "\n"


def write_batches(sentences: list[dict], out_dir: Path, prefix: str, size: int,
                  views_dir: Path | None = None, keep_docs_whole: bool = True) -> list[Path]:
    """Cut sentences into batches of about ``size`` (whole documents stay in one batch when
    ``keep_docs_whole``) and write ``<out_dir>/<prefix>-NN/sentences.jsonl``; a reader view
    (``reader_view``) goes to ``views_dir`` when given. Refuses to overwrite a batch."""
    groups: list[list[dict]] = []
    for s in sentences:
        new_doc = not groups or groups[-1][-1]["doc_id"] != s["doc_id"]
        if not groups or (len(groups[-1]) >= size and (new_doc or not keep_docs_whole)):
            groups.append([])
        groups[-1].append(s)
    written = []
    for i, group in enumerate(groups, 1):
        name = f"{prefix}-{i:02d}"
        directory = out_dir / name
        if directory.exists():
            raise DataError(directory, None, "batch exists already; choose another prefix")
        numbered = [{"n": n, **s} for n, s in enumerate(group, 1)]
        # the context shown to readers is re-read from the source, never stored with the batch
        stored = [{k: v for k, v in s.items() if k != "context_before"} for s in numbered]
        write_text_atomic(directory / "sentences.jsonl",
                          "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in stored))
        if views_dir is not None:
            write_text_atomic(views_dir / f"{name}.txt", reader_view(numbered))
        written.append(directory)
    return written
