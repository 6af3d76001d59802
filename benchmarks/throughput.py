"""Throughput and memory benchmark of `diplostance score` on the UN General Debate corpus.

Run from the repository root (needs ../shared/corpus and two trained models):

    .venv/bin/python -m benchmarks.throughput --tfidf artifacts/selection/models/seeds+authored-tfidf \
        --finetune artifacts/models/default --output benchmarks/results

Measures, on the same sentences:
1. finetune: our scoring path (length-sorted batches, inference mode, all cores) vs a naive
   `transformers.pipeline("text-classification", top_k=None)` called one sentence at a time
   (batch size 1); sentences/s of both and the share of identical label sets;
2. optionally the ONNX Runtime int8 path (--onnx): sentences/s and label agreement with torch;
3. tfidf sentences/s;
4. peak RSS of the whole `diplostance score` command at about 10k and 100k sentences (tfidf),
   and the end-to-end wall time of scoring all 1,938 speeches with tfidf;
5. a projection of the finetune end-to-end time from its measured rate.
Not a test: it prints and writes figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

UNGD = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "ungd-2015-2024.jsonl.gz"
SENTENCES_PER_SPEECH_SAMPLE = 40


def read_speeches(limit: int | None = None) -> list[dict]:
    out = []
    with gzip.open(UNGD, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                break
            out.append(json.loads(line))
    return out


def sentences_of(speeches: list[dict], n: int) -> list[str]:
    from data.splitting import split_document

    out = []
    for sp in speeches:
        out += [s.text for s in split_document(sp["text"], sp["id"]) if not s.boilerplate]
        if len(out) >= n:
            break
    return out[:n]


def rate(fn, texts) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(texts)
    return len(texts) / (time.perf_counter() - started), result


def naive_pipeline_scores(model_dir: str, texts: list[str]) -> np.ndarray:
    from transformers import pipeline

    from data.labels import LABELS

    clf = pipeline("text-classification", model=model_dir, top_k=None, device=-1)
    rows = []
    for t in texts:  # one sentence per call: batch size 1
        out = clf(t)
        out = out[0] if out and isinstance(out[0], list) else out
        by_label = {d["label"]: d["score"] for d in out}
        rows.append([by_label[name] for name in LABELS])
    return np.array(rows)


def peak_rss_of_score(model_dir: str, speeches: list[dict], workdir: Path, name: str) -> dict:
    """Run `diplostance score` on these speeches under /usr/bin/time; peak RSS in MiB."""
    src = workdir / f"{name}.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        for sp in speeches:
            fh.write(json.dumps(sp, ensure_ascii=False) + "\n")
    out = workdir / f"{name}.parquet"
    cmd = ["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "diplostance.cli", "score", str(src),
           "--model", model_dir, "--output", str(out), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    kb, seconds = proc.stderr.strip().splitlines()[-1].split()
    sentences = int(proc.stdout.split("scored ")[1].split(" ")[0])
    return {"speeches": len(speeches), "sentences": sentences, "peak_rss_mib": round(int(kb) / 1024, 1),
            "wall_seconds": float(seconds), "sentences_per_second": round(sentences / float(seconds), 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tfidf", required=True)
    p.add_argument("--finetune", required=True)
    p.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--sentences", type=int, default=2000, help="sentences for the finetune comparison")
    p.add_argument("--naive-sentences", type=int, default=600, help="of those, scored by the naive pipeline")
    p.add_argument("--onnx", action="store_true")
    p.add_argument("--skip-memory", action="store_true")
    args = p.parse_args(argv)
    if not UNGD.is_file():
        print(f"skipped: {UNGD} is absent", file=sys.stderr)
        return 0
    from models.provenance import library_versions
    from models.registry import load_model

    args.output.mkdir(parents=True, exist_ok=True)
    results: dict = {"cpu_count": os.cpu_count(), "library_versions": library_versions()}
    speeches = read_speeches()
    texts = sentences_of(speeches, args.sentences)
    naive_texts = texts[: args.naive_sentences]

    ft = load_model(args.finetune)
    batch = 16  # the `diplostance score` default
    ft_rate, ft_scores = rate(lambda t: ft.predict_proba(t, batch), texts)
    naive_rate, naive_scores = rate(lambda t: naive_pipeline_scores(args.finetune, t), naive_texts)
    ours_on_naive = ft_scores[: len(naive_texts)]
    same = ((ours_on_naive >= ft.thresholds_) == (naive_scores >= ft.thresholds_)).all(axis=1)
    results["finetune"] = {
        "sentences": len(texts), "ours_sentences_per_second": round(ft_rate, 1),
        "naive_sentences": len(naive_texts), "naive_sentences_per_second": round(naive_rate, 1),
        "speedup": round(ft_rate / naive_rate, 2), "identical_label_sets": round(float(same.mean()), 4),
        "max_abs_score_difference": float(np.abs(ours_on_naive - naive_scores).max()),
    }
    print(json.dumps(results["finetune"]), flush=True)
    if args.onnx:
        from models.onnx_runtime import RUNTIMES

        dev = UNGD.parents[1] / "dev" / "dev.jsonl"
        dev_texts = [json.loads(line)["text"] for line in dev.read_text().splitlines() if line.strip()] if dev.is_file() else []
        torch_dev = ft.predict_proba(dev_texts) >= ft.thresholds_ if dev_texts else None
        for runtime in RUNTIMES:
            onnx_model = load_model(args.finetune, runtime=runtime)
            onnx_rate, onnx_scores = rate(lambda t: onnx_model.predict_proba(t, batch), texts)
            agree = ((onnx_scores >= ft.thresholds_) == (ft_scores >= ft.thresholds_)).all(axis=1)
            on_naive = onnx_scores[: len(naive_texts)]
            entry = {"sentences_per_second": round(onnx_rate, 1), "speedup_vs_naive": round(onnx_rate / naive_rate, 2),
                     "identical_label_sets_vs_torch": round(float(agree.mean()), 4),
                     "identical_label_sets_vs_naive": round(float(
                         ((on_naive >= ft.thresholds_) == (naive_scores >= ft.thresholds_)).all(axis=1).mean()), 4)}
            if dev_texts:  # the default-runtime rule: >= 98% identical label sets on the dev set
                same_dev = (onnx_model.predict_proba(dev_texts) >= ft.thresholds_) == torch_dev
                entry["dev_identical_label_sets_vs_torch"] = round(float(same_dev.all(axis=1).mean()), 4)
            results[f"runtime_{runtime}"] = entry
            print(json.dumps({runtime: entry}), flush=True)

    tf = load_model(args.tfidf)
    many = sentences_of(speeches, 20000)
    tf_rate, _ = rate(tf.predict_proba, many)
    results["tfidf"] = {"sentences": len(many), "sentences_per_second": round(tf_rate, 1)}
    print(json.dumps(results["tfidf"]), flush=True)

    if not args.skip_memory:
        work = args.output / "work"
        work.mkdir(exist_ok=True)
        per_speech = len(sentences_of(speeches[:SENTENCES_PER_SPEECH_SAMPLE], 10**9)) / SENTENCES_PER_SPEECH_SAMPLE
        for name, target in (("10k", 10_000), ("100k", 100_000)):
            subset = speeches[: int(round(target / per_speech))]
            results[f"memory_{name}"] = peak_rss_of_score(args.tfidf, subset, work, name)
            print(json.dumps(results[f"memory_{name}"]), flush=True)
        results["all_speeches_tfidf"] = peak_rss_of_score(args.tfidf, speeches, work, "all")
        print(json.dumps(results["all_speeches_tfidf"]), flush=True)
        total = results["all_speeches_tfidf"]["sentences"]
        split_and_io = results["all_speeches_tfidf"]["wall_seconds"] - total / tf_rate
        results["all_speeches_finetune_projection"] = {
            "sentences": total,
            "projected_seconds": round(total / ft_rate + max(split_and_io, 0), 0),
            "basis": "measured finetune sentences/s plus the splitting and I/O time of the tfidf run",
        }
        for f in work.iterdir():
            f.unlink()
        work.rmdir()
    (args.output / "throughput.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output / 'throughput.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
