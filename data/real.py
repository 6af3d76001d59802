"""The real labelled sentences (issue 10): communiqués and UN General Debate speeches, each
read twice independently and adjudicated (see data.annotation), then corrected by the label
audit (``data/real/audit.tsv``).

Only complete batches load; a batch still being read is reported as pending and never trains
anything. The label of a row is computed from its readings here, so it cannot drift from them.
"""

from __future__ import annotations

from pathlib import Path

from data.annotation import batch_status, decode, encode, load_batch
from data.errors import DataError, Where
from data.records import LabelledRow

REAL_DIR = Path(__file__).resolve().parent / "real"
AUDIT_FILE = REAL_DIR / "audit.tsv"
EXCLUDED_FILE = REAL_DIR / "excluded.tsv"  # ids left out: they share text with evaluation-only documents
# metadata that each real row keeps (source, place in its document, selection stratum)
META_FIELDS = ("sent_idx", "start", "end", "publisher", "url", "date", "title", "country", "session", "year",
               "speech_id", "stratum")


def batch_dirs(directory: Path = REAL_DIR) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir() and (p / "sentences.jsonl").is_file()) \
        if directory.is_dir() else []


def batch_statuses(directory: Path = REAL_DIR) -> dict[str, str]:
    return {p.name: batch_status(p) for p in batch_dirs(directory)}


def excluded_ids(path: Path = EXCLUDED_FILE) -> set[str]:
    if not path.is_file():
        return set()
    return {line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}


def read_audit(path: Path = AUDIT_FILE) -> dict[str, dict]:
    """id -> {old, new, rationale, where}: every row the audit re-checked (new == old when the
    label was confirmed, a correction otherwise)."""
    if not path.is_file():
        return {}
    out = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or not parts[3].strip():
                raise DataError(path, lineno, "expected 'id<TAB>old codes<TAB>new codes<TAB>rationale'")
            if parts[0] in out:
                raise DataError(path, lineno, f"{parts[0]} corrected twice")
            out[parts[0]] = {"old": decode(parts[1], path, lineno), "new": decode(parts[2], path, lineno),
                             "rationale": parts[3].strip(), "where": Where(str(path), lineno)}
    return out


def load_real_rows(directory: Path = REAL_DIR, audit_path: Path | None = None) -> list[LabelledRow]:
    """Every labelled real row of the complete batches, audit corrections applied."""
    audit = read_audit(audit_path or directory / "audit.tsv")
    rows = []
    for d in batch_dirs(directory):
        if batch_status(d) != "labelled":
            continue
        for r in load_batch(d).rows():
            row = LabelledRow(
                id=r["id"], doc_id=r["doc_id"], text=r["text"], labels=r["labels"], source="real",
                register=r.get("register", ""), boilerplate=r.get("boilerplate", ""), rationale=r["rationale"],
                where=r["where"],
                meta={"batch": r["batch"], "reading_a": r["reading_a"], "reading_b": r["reading_b"],
                      **{k: r[k] for k in META_FIELDS if k in r}},
            )
            fix = audit.pop(row.id, None)
            if fix is not None:
                if list(fix["old"]) != row["labels"]:
                    raise fix["where"].error(f"{row.id}: the audit corrects {encode(fix['old'])} "
                                             f"but the adjudicated label is {encode(row.labels)}")
                if fix["new"] != row["labels"]:
                    row = row.replace(labels=fix["new"], audit="changed", rationale=f"audit: {fix['rationale']}")
                else:
                    row = row.replace(audit="confirmed")
            rows.append(row)
    if audit:
        stale = next(iter(audit.values()))
        raise stale["where"].error(f"audit row {next(iter(audit))} matches no labelled real sentence")
    return rows
