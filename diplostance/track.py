"""Pledges over time: project pledges grouped by project, commitments and support by actor and
target, from scored files (`diplostance score` output with actors, targets and projects).

- Projects: name variants are merged by a key built from the states the name mentions (in any
  form: "China-Kyrgyzstan-Uzbekistan", "China Kyrgyzstan Uzbekistan"), its head noun
  (railway, plant, centre, ...) and its other content words; an acronym variant ("the CKU
  railway") joins the key with the same head whose states' initials spell it.
- Dates: a row's own ``date`` (YYYY-MM-DD) or ``year`` column, else ``--metadata CSV`` with
  ``doc_id,date`` columns (data/raw/metadata.csv for the seed articles).

Writes ``projects.csv``, ``pairs.csv``, ``pledges.jsonl`` (one row per pledge, with its
project key) and ``timeline.png`` (matplotlib, when installed) into the output directory.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import defaultdict
from pathlib import Path

from data.atomic import write_text_atomic
from data.errors import DataError, DiplostanceError
from data.parties import find_parties
from models.actors import PROJECT_HEADS

_HEADS = sorted(PROJECT_HEADS, key=len, reverse=True)
_FILLER = {"the", "a", "an", "project", "projects", "of", "and", "in", "new", "construction", "joint", "programme"}


def read_scored(path: Path) -> list[dict]:
    """Rows of a scored .jsonl, .csv or .parquet file (optionally .gz for jsonl/csv)."""
    name = path.name.removesuffix(".gz")
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        with opener(path, "rt", encoding="utf-8-sig") as fh:
            if name.endswith(".jsonl"):
                rows = []
                for lineno, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            rows.append(json.loads(line))
                        except json.JSONDecodeError as exc:
                            raise DataError(path, lineno, f"not JSON ({exc.msg})") from None
                return rows
            if name.endswith(".csv"):
                rows = list(csv.DictReader(fh))
                for r in rows:  # CSV output: labels, actors, targets ";"-joined; projects JSON text
                    for key in ("labels", "actors", "targets", "projects"):
                        value = r.get(key)
                        if isinstance(value, str):
                            r[key] = json.loads(value) if value.startswith("[") else [v for v in value.split(";") if v]
                return rows
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(path, None, f"cannot read scored file ({exc})") from None
    raise DataError(path, None, "a scored file must be .jsonl, .csv or .parquet (optionally .gz)")


def read_dates(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    with path.open(encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"doc_id", "date"} <= set(reader.fieldnames):
            raise DataError(path, 1, "metadata CSV needs doc_id and date columns")
        return {r["doc_id"]: r["date"] for r in reader}


def row_date(row: dict, dates: dict[str, str]) -> str:
    for key in ("date",):
        value = str(row.get(key) or "")
        if re.match(r"\d{4}(-\d{2}){0,2}$", value):
            return value
    if row.get("year"):
        return str(row["year"])
    return dates.get(str(row.get("doc_id")), "")


def project_key(name: str) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """(states, head, other words) of a project name.

    >>> project_key("China-Kyrgyzstan-Uzbekistan railway project")
    (('CHN', 'KGZ', 'UZB'), 'railway', ())
    >>> project_key("China Kyrgyzstan Uzbekistan Railway") == project_key("the China-Kyrgyzstan-Uzbekistan railway")
    True
    """
    states = tuple(sorted({code for _, _, code in find_parties(name)}))
    rest = name
    for s, e, _ in sorted(find_parties(name), reverse=True):
        rest = rest[:s] + " " + rest[e:]
    rest = rest.lower()
    head = next((h for h in _HEADS if re.search(r"\b" + re.escape(h) + r"\b", rest) and h not in ("project", "projects")),
                "project")
    rest = re.sub(r"\b" + re.escape(head) + r"\b", " ", rest)
    words = tuple(w for w in re.findall(r"[a-z0-9]+", rest) if w not in _FILLER)
    return states, head, words


def _acronym(name: str) -> str | None:
    m = re.search(r"\b([A-Z]{2,6})\b", name)
    return m.group(1) if m and not find_parties(m.group(1)) else None


def merge_variants(names: list[str]) -> dict[str, str]:
    """name -> canonical key string; acronym variants join the key whose states spell them."""
    keys = {n: project_key(n) for n in names}
    by_head: dict[str, list[tuple]] = defaultdict(list)
    for n, k in keys.items():
        if k[0]:
            by_head[k[1]].append((n, k))
    out = {}
    for n, (states, head, words) in keys.items():
        acronym = _acronym(n)
        if not states and acronym:
            for other, (o_states, _, _) in by_head.get(head, []):
                initials = "".join(other[s] for s, _, _ in find_parties(other))
                if initials.upper() == acronym:
                    states, words = o_states, tuple(w for w in words if w != acronym.lower())
                    break
        out[n] = "+".join(states) + ("|" if states else "") + " ".join((*words, head))
    return out


def track(rows: list[dict], dates: dict[str, str]) -> dict:
    """{"projects": [...], "pairs": [...], "pledges": [...]} from scored rows."""
    pledges = []
    for r in rows:
        labels = r.get("labels") or []
        if "project_pledge" in labels:
            for span in r.get("projects") or []:
                name = span["text"] if isinstance(span, dict) else str(span)
                pledges.append({"project": name, "doc_id": r.get("doc_id"), "sent_idx": r.get("sent_idx"),
                                "date": row_date(r, dates), "actors": list(r.get("actors") or []), "text": r.get("text")})
    keys = merge_variants(sorted({p["project"] for p in pledges}))
    groups: dict[str, list[dict]] = defaultdict(list)
    for p in pledges:
        key = keys[p["project"]]
        # a bare head ("Fund", "the facility") names no particular project: never merged across documents
        p["key"] = key if ("|" in key or " " in key) else f"{key}@{p['doc_id']}"
        groups[p["key"]].append(p)
    projects = []
    for key, items in groups.items():
        dated = sorted(p["date"] for p in items if p["date"])
        names = defaultdict(int)
        for p in items:
            names[p["project"]] += 1
        projects.append({
            "project": max(names, key=lambda n: (names[n], len(n))), "key": key,
            "first": dated[0] if dated else "", "last": dated[-1] if dated else "",
            "pledges": len(items), "documents": len({p["doc_id"] for p in items}),
            "actors": ";".join(sorted({a for p in items for a in p["actors"]})),
            "variants": " | ".join(sorted(names)),
        })
    projects.sort(key=lambda p: (-p["documents"], -p["pledges"], p["project"]))

    pair_rows: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        labels = r.get("labels") or []
        for label in ("commitment", "support_declaration"):
            if label not in labels:
                continue
            targets = (r.get("targets") or ["-"]) if label == "support_declaration" else ["-"]
            for actor in r.get("actors") or ["?"]:
                for target in targets:
                    pair_rows[(actor, target, label)].append(r)
    pairs = []
    for (actor, target, label), items in pair_rows.items():
        dated = sorted(d for d in (row_date(r, dates) for r in items) if d)
        pairs.append({"actor": actor, "target": target, "label": label, "sentences": len(items),
                      "documents": len({r.get("doc_id") for r in items}),
                      "first": dated[0] if dated else "", "last": dated[-1] if dated else ""})
    pairs.sort(key=lambda p: (-p["sentences"], p["actor"], p["target"], p["label"]))
    return {"projects": projects, "pairs": pairs, "pledges": pledges}


def _csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def timeline_figure(result: dict, path: Path, top: int = 15) -> bool:
    """Pledges of the most pledged projects over time; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    projects = [p for p in result["projects"] if p["first"]][:top]
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(projects), 2) + 1.5))
    for i, p in enumerate(projects):
        when = [q["date"] for q in result["pledges"] if q["key"] == p["key"] and q["date"]]
        xs = [_as_year(d) for d in when]
        ax.scatter(xs, [i] * len(xs), s=30)
        ax.hlines(i, min(xs), max(xs), alpha=0.3)
    ax.set_yticks(range(len(projects)), [p["project"][:50] for p in projects], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("year")
    ax.set_title("Project pledges over time (one dot per pledging sentence)")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.partial.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return True


def _as_year(date: str) -> float:
    parts = [int(x) for x in date.split("-")]
    return parts[0] + ((parts[1] - 1) / 12 if len(parts) > 1 else 0.5) + ((parts[2] - 1) / 365 if len(parts) > 2 else 0)


_COMPUTED = ("doc_id", "sent_idx", "start", "end", "text", "boilerplate", "labels", "scores", "actors", "targets",
             "projects", "source_file")


def reextract(rows: list[dict]) -> list[dict]:
    """Actors, targets and projects recomputed from each row's text and labels with the current
    extractor (models.actors), in file order (a scores file keeps each document's sentences
    together): no model is run, so an improved extractor needs no re-scoring."""
    from models.actors import ActorAnnotator

    annotate = ActorAnnotator()
    out = []
    for r in rows:
        meta = {k: v for k, v in r.items() if k not in _COMPUTED}
        x = annotate(str(r.get("doc_id")), str(r.get("text", "")), r.get("labels") or [], meta)
        start = int(r.get("start") or 0)
        out.append({**r, "actors": list(x.actors), "targets": list(x.targets),
                    "projects": [{"start": start + a, "end": start + b, "text": t} for a, b, t in x.projects]})
    return out


def write_tracking(inputs: list[Path], output: Path, metadata: Path | None = None, recompute: bool = False) -> dict:
    rows = [r for path in inputs for r in read_scored(Path(path))]
    if recompute:
        rows = reextract(rows)
    elif rows and not any("actors" in r for r in rows):
        raise DiplostanceError(f"{inputs[0]}: no actors/targets/projects columns; score it again with this version, "
                               "or give --reextract")
    result = track(rows, read_dates(metadata))
    output.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output / "projects.csv", _csv(result["projects"], ["project", "first", "last", "pledges", "documents",
                                                                          "actors", "variants", "key"]))
    write_text_atomic(output / "pairs.csv", _csv(result["pairs"], ["actor", "target", "label", "sentences", "documents",
                                                                   "first", "last"]))
    write_text_atomic(output / "pledges.jsonl", "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in result["pledges"]))
    result["figure"] = timeline_figure(result, output / "timeline.png")
    return result
