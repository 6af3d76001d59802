"""Output files of batch scoring. Rows are first appended to a JSONL spool (so a run can be
checkpointed, truncated and resumed); when the run completes the spool becomes the output
in the format its extension names: .jsonl, .csv or .parquet."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

from data.atomic import atomic_path
from data.errors import DiplostanceError
from data.labels import LABELS

FORMATS = (".jsonl", ".csv", ".parquet")
SUMMARY_FORMATS = (".csv", ".jsonl")
CORE_COLUMNS = ("doc_id", "sent_idx", "start", "end", "text", "labels", "actors", "targets", "projects")


def output_format(path: Path) -> str:
    if path.suffix not in FORMATS:
        raise DiplostanceError(f"{path}: output must end in {', '.join(FORMATS)}")
    return path.suffix


def iter_spool(spool: Path):
    """Rows of a JSONL spool, one at a time."""
    with spool.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _flat(row: dict) -> dict:
    """scores {label: p} -> score_<label> columns; labels list kept."""
    flat = {k: v for k, v in row.items() if k != "scores"}
    for key in ("actors", "targets", "projects"):
        flat.setdefault(key, [])
    for name in LABELS:
        flat[f"score_{name}"] = row["scores"][name]
    return flat


def _column_types(spool: Path) -> dict[str, str]:
    """First pass: the type of every metadata column (int, float, bool or str). Any mix of
    kinds, nested values and integers beyond 64 bits become str (JSON text), so that the
    conversion that follows cannot fail on the data."""
    seen: dict[str, set] = defaultdict(set)
    for row in iter_spool(spool):
        for key, value in row.items():
            if key not in CORE_COLUMNS and key != "scores" and value is not None:
                kind = type(value).__name__
                if kind == "int" and not -(2**63) <= value < 2**63:
                    kind = "bigint"
                seen[key].add(kind)
    types = {}
    for key, names in seen.items():
        if names <= {"int"}:
            types[key] = "int"
        elif names <= {"int", "float"}:
            types[key] = "float"
        elif names == {"bool"}:
            types[key] = "bool"
        else:
            types[key] = "str"
    return types


def _as_column_value(value, kind: str):
    if value is None:
        return None
    if kind == "str" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if kind == "float":
        return float(value)
    return value


def finalize(spool: Path, output: Path) -> None:
    """Turn the complete spool into `output` (atomic rename for every format)."""
    fmt = output_format(output)
    if fmt == ".jsonl":
        spool.replace(output)
        return
    meta_types = _column_types(spool)
    columns = [*CORE_COLUMNS, *(f"score_{n}" for n in LABELS), *sorted(meta_types)]
    with atomic_path(output) as tmp:
        _convert(spool, tmp, fmt, columns, meta_types)
    spool.unlink()


def _convert(spool: Path, tmp: Path, fmt: str, columns: list[str], meta_types: dict) -> None:
    if fmt == ".csv":
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in iter_spool(spool):
                flat = _flat(row)
                for key in ("labels", "actors", "targets"):
                    flat[key] = ";".join(flat.get(key) or [])
                flat["projects"] = json.dumps(flat.get("projects") or [], ensure_ascii=False)
                writer.writerow({k: _as_column_value(flat.get(k), meta_types.get(k, "")) for k in columns})
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
        schema = pa.schema(
            [("doc_id", pa.string()), ("sent_idx", pa.int64()), ("start", pa.int64()), ("end", pa.int64()),
             ("text", pa.string()), ("labels", pa.list_(pa.string())), ("actors", pa.list_(pa.string())),
             ("targets", pa.list_(pa.string())),
             ("projects", pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string())])))]
            + [(f"score_{n}", pa.float64()) for n in LABELS]
            + [(k, arrow[t]) for k, t in sorted(meta_types.items())]
        )
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[dict] = []
            for row in iter_spool(spool):
                flat = _flat(row)
                batch.append({k: _as_column_value(flat.get(k), meta_types.get(k, "")) for k in schema.names})
                if len(batch) == 10_000:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))


def write_summary(spool_or_output_rows, path: Path) -> int:
    """Per-document counts per label -> .jsonl or .csv; returns the number of documents."""
    per_doc: dict[str, Counter] = {}
    for row in spool_or_output_rows:
        c = per_doc.setdefault(row["doc_id"], Counter())
        c["sentences"] += 1
        c.update(row["labels"])
    records = [{"doc_id": d, "sentences": c["sentences"], **{n: c[n] for n in LABELS}} for d, c in per_doc.items()]
    if path.suffix not in SUMMARY_FORMATS:
        raise DiplostanceError(f"{path}: summary must end in {' or '.join(SUMMARY_FORMATS)}")
    with atomic_path(path) as tmp:
        if path.suffix == ".csv":
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=["doc_id", "sentences", *LABELS])
                writer.writeheader()
                writer.writerows(records)
        else:
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return len(records)

