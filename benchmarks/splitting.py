"""Sentence splitting: pysbd only where it has work to do, boundaries unchanged.

"new" is data.splitting as it is (the fast path, see "The fast path" there); "reference" is the
same splitter with every piece of a paragraph sent to pysbd (`splitting.reference()`), i.e. the
splitter before the fast path. One run prints:
- the time to split synthetic one-paragraph documents of growing size (up to 5 MB on one line)
  both ways, and with the whole paragraph in one pysbd call (before issue 14) up to --whole-limit;
- the time to split N UN General Debate speeches (or all of them) both ways, the speed-up, and the
  speeches and boundaries that differ between the two (there should be none);
- whether the seed articles split exactly as their labelled rows say.
The result also goes to --output as JSON.

    python -m benchmarks.splitting --ungd ../shared/corpus/ungd-2015-2024.jsonl.gz --speeches 500
    python -m benchmarks.splitting --ungd ../shared/corpus/ungd-2015-2024.jsonl.gz --speeches all
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
    """The splitter before issue 14: every paragraph to pysbd in one call."""
    saved = splitting._CHUNK
    splitting._CHUNK = 10**12
    try:
        with splitting.reference():
            yield
    finally:
        splitting._CHUNK = saved


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def spans(sentences) -> list[tuple[int, int, str | None]]:
    return [(s.start, s.end, s.boilerplate) for s in sentences]


def bench_synthetic(sizes, reference_limit: int, whole_limit: int) -> list[dict]:
    rows = []
    for n in sizes:
        text = synthetic_paragraph(n)
        new, t_new = timed(split_document, text, "synthetic")
        row = {"bytes": len(text), "sentences": len(new), "seconds_new": round(t_new, 2)}
        if n <= reference_limit:
            with splitting.reference():
                ref, t_ref = timed(split_document, text, "synthetic")
            row.update(seconds_reference=round(t_ref, 2), speedup=round(t_ref / max(t_new, 1e-9), 1),
                       same_boundaries=spans(ref) == spans(new))
        if n <= whole_limit:
            with whole_paragraphs():
                whole, t_whole = timed(split_document, text, "synthetic")
            row.update(seconds_whole_paragraph=round(t_whole, 2), same_boundaries_as_whole=spans(whole) == spans(new))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def bench_ungd(path: Path, n: int | None, seed: int) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        speeches = [json.loads(line) for line in fh]
    speeches = random.Random(seed).sample(speeches, len(speeches) if n is None else min(n, len(speeches)))
    split_document(speeches[0]["text"], "warm-up")  # pysbd's segmenter and the regex caches
    new, t_new = timed(lambda: [spans(split_document(s["text"], s["id"])) for s in speeches])
    with splitting.reference():
        ref, t_ref = timed(lambda: [spans(split_document(s["text"], s["id"])) for s in speeches])
    differences = []
    for sp, a, b in zip(speeches, ref, new):
        if a != b:
            sa, sb = set(a), set(b)
            differences.append({"speech": sp["id"], "boundaries": len(sa ^ sb),
                                "only_reference": sorted(sa - sb)[:5], "only_new": sorted(sb - sa)[:5]})
    out = {"speeches": len(speeches), "characters": sum(len(s["text"]) for s in speeches),
           "sentences": sum(len(x) for x in new), "seconds_reference": round(t_ref, 1),
           "seconds_new": round(t_new, 1), "speedup": round(t_ref / max(t_new, 1e-9), 2),
           "speeches_with_different_boundaries": len(differences),
           "different_boundaries": sum(d["boundaries"] for d in differences), "differences": differences[:10]}
    print(json.dumps({k: v for k, v in out.items() if k != "differences"}), flush=True)
    for d in differences[:10]:
        print("differs:", json.dumps(d), flush=True)
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
    print(json.dumps(out), flush=True)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ungd", type=Path, default=None)
    p.add_argument("--speeches", default="500", help="how many speeches (a seeded sample), or 'all'")
    p.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000, 1_000_000, 5_000_000])
    p.add_argument("--reference-limit", type=int, default=5_000_000, help="largest size also split the reference way")
    p.add_argument("--whole-limit", type=int, default=50_000, help="largest size also split in one pysbd call")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", type=Path, default=Path("artifacts/benchmarks/splitting.json"))
    args = p.parse_args(argv)
    result = {"seeds": check_seeds(), "synthetic": bench_synthetic(args.sizes, args.reference_limit, args.whole_limit)}
    if args.ungd and args.ungd.is_file():
        result["ungd"] = bench_ungd(args.ungd, None if args.speeches == "all" else int(args.speeches), args.seed)
    elif args.ungd:
        print(f"skipping the UN speeches: {args.ungd} is absent")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
