"""Sentence splitting: linear time on long paragraphs, boundaries unchanged (issue 14).

Prints, from one run:
- the time to split synthetic one-paragraph documents of growing size (up to 5 MB on one
  line), with the paragraph cut into pieces (today) and as one pysbd call (before);
- the time to split N UN General Debate speeches both ways, and every sentence boundary that
  differs between the two (there should be none);
- whether the seed articles split exactly as their labelled rows say.

    python -m benchmarks.splitting --ungd ../shared/corpus/ungd-2015-2024.jsonl.gz --speeches 500
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from contextlib import contextmanager
from pathlib import Path

from data import splitting
from data.splitting import split_document

WORDS = ("the delegation will continue to support the process of reform and we reaffirm our commitment to peace "
         "security development cooperation partners region climate finance").split()


def synthetic_paragraph(n_bytes: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    out, size = [], 0
    while size < n_bytes:
        s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
        s = s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", ";"])
        out.append(s)
        size += len(s) + 1
    return " ".join(out)


@contextmanager
def whole_paragraphs():
    """The splitter as it was: every paragraph to pysbd in one call."""
    saved = splitting._CHUNK
    splitting._CHUNK = 10**12
    try:
        yield
    finally:
        splitting._CHUNK = saved


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def bench_synthetic(sizes, old_limit: int) -> list[dict]:
    rows = []
    for n in sizes:
        text = synthetic_paragraph(n)
        new, t_new = timed(split_document, text, "synthetic")
        row = {"bytes": len(text), "sentences": len(new), "seconds_pieces": round(t_new, 2)}
        if n <= old_limit:
            with whole_paragraphs():
                old, t_old = timed(split_document, text, "synthetic")
            row.update(seconds_whole=round(t_old, 2), same_boundaries=[(s.start, s.end) for s in old] ==
                       [(s.start, s.end) for s in new])
        rows.append(row)
        print(json.dumps(row))
    return rows


def bench_ungd(path: Path, n: int, seed: int) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        speeches = [json.loads(line) for line in fh]
    speeches = random.Random(seed).sample(speeches, min(n, len(speeches)))
    chars = sum(len(s["text"]) for s in speeches)
    new, t_new = timed(lambda: [split_document(s["text"], s["id"]) for s in speeches])
    with whole_paragraphs():
        old, t_old = timed(lambda: [split_document(s["text"], s["id"]) for s in speeches])
    differences = []
    for sp, a, b in zip(speeches, old, new):
        sa, sb = {(x.start, x.end) for x in a}, {(x.start, x.end) for x in b}
        if sa != sb:
            differences.append({"speech": sp["id"], "only_before": sorted(sa - sb)[:5], "only_after": sorted(sb - sa)[:5]})
    out = {"speeches": len(speeches), "characters": chars, "sentences": sum(len(x) for x in new),
           "seconds_whole": round(t_old, 1), "seconds_pieces": round(t_new, 1),
           "speedup": round(t_old / max(t_new, 1e-9), 2),
           "longest_paragraph": max(len(p) for s in speeches for p in s["text"].split("\n")),
           "speeches_with_different_boundaries": len(differences), "differences": differences[:10]}
    print(json.dumps({k: v for k, v in out.items() if k != "differences"}))
    return out


def check_seeds() -> dict:
    from data.bundled import load_seed_rows

    rows = load_seed_rows()
    raw_dir = Path(splitting.__file__).resolve().parent / "raw"
    mismatched = 0
    for doc in sorted({r["doc_id"] for r in rows}):
        expected = [(r["start"], r["end"]) for r in rows if r["doc_id"] == doc]
        got = [(s.start, s.end) for s in split_document((raw_dir / f"{doc}.txt").read_text(encoding="utf-8"), doc)]
        mismatched += expected != got
    out = {"seed_documents": len({r["doc_id"] for r in rows}), "documents_with_changed_boundaries": mismatched}
    print(json.dumps(out))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ungd", type=Path, default=None)
    p.add_argument("--speeches", type=int, default=500)
    p.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000, 1_000_000, 5_000_000])
    p.add_argument("--old-limit", type=int, default=200_000, help="largest size also split the old way")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", type=Path, default=Path("artifacts/benchmarks/splitting.json"))
    args = p.parse_args(argv)
    result = {"synthetic": bench_synthetic(args.sizes, args.old_limit), "seeds": check_seeds()}
    if args.ungd and args.ungd.is_file():
        result["ungd"] = bench_ungd(args.ungd, args.speeches, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
