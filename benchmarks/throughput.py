"""Scoring speed of the fine-tuned model on this machine, from one run (issue 14).

Run from the repository root (needs ../shared/corpus, ../shared/dev and the shipped model):

    .venv/bin/python -m benchmarks.throughput

Prints, and writes to OUTPUT/throughput.json (default artifacts/benchmarks/):
1. the machine's peak matrix throughput: one large matmul in float32, bfloat16 and int8, at 1
   and 2 threads;
2. the sentences: 2,000 from UN General Debate speeches of sessions 77-79 (a seeded sample,
   evaluation-only data), their mean length in characters and tokens, and the 337 dev sentences;
3. the naive baseline: `transformers.pipeline("text-classification", top_k=None)` called one
   sentence at a time (batch size 1), on all 2,000 sentences;
4. each inference lever on its own (2 threads): sentences/s, speed-up over the naive pipeline,
   and identical label sets against torch float32 on the 2,000 UN sentences and on dev;
5. the thread table: torch fp32, ONNX fp32, ONNX int8 and the default runtime at 1 and 2
   threads, with achieved GFLOP/s (useful work: unpadded tokens) and its fraction of the peak
   of the matching number type at the same thread count;
6. splitting (benchmarks.splitting): a 5 MB one-line document, and all 1,938 speeches split
   by today's splitter and by the reference (pysbd on everything, as before issue 14), with
   every boundary compared; the seed articles against their labelled rows;
7. end to end: `diplostance score` with its defaults (runtime auto, token batching; the reader
   process only where the model leaves a core idle) over about 10k and 100k sentences and all
   1,938 speeches, with wall time, sentences/s and peak RSS; and the 10k input scored in this
   process by the model alone, and end to end with and without the reader process (twice,
   alternating).
Not a test: it prints and writes figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
UNGD = SHARED / "corpus" / "ungd-2015-2024.jsonl.gz"
DEV = SHARED / "dev" / "dev.jsonl"
MODEL = Path(__file__).resolve().parents[1] / "models" / "default"
EVAL_SESSIONS = (77, 78, 79)  # evaluation and benchmarks only: never trained on
PER_SPEECH = 34


def read_speeches(limit: int | None = None) -> list[dict]:
    out = []
    with gzip.open(UNGD, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                break
            out.append(json.loads(line))
    return out


def sample_sentences(speeches: list[dict], n: int, seed: int = 0) -> list[str]:
    """n body sentences from speeches of the evaluation sessions: speeches shuffled with
    ``seed``, up to PER_SPEECH sentences drawn from each."""
    from data.splitting import split_document

    rng = random.Random(seed)
    pool = [s for s in speeches if s.get("session") in EVAL_SESSIONS]
    rng.shuffle(pool)
    out: list[str] = []
    for sp in pool:
        body = [x.text for x in split_document(sp["text"], sp["id"]) if not x.boilerplate]
        out += rng.sample(body, min(PER_SPEECH, len(body)))
        if len(out) >= n:
            break
    return out[:n]


def timed_rate(fn, texts) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    result = fn(texts)
    return len(texts) / (time.perf_counter() - started), result


# ---- peak matrix throughput ---------------------------------------------------------------
def matmul_peak(kind: str, threads: int, n: int = 2048, repeats: int = 8) -> float:
    """GFLOP/s (GOP/s for int8) of an n x n x n matrix product at ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    if kind == "int8":
        a = torch.randint(-100, 100, (n, n), dtype=torch.int8)
        fn = lambda: torch._int_mm(a, a)  # noqa: E731
    else:
        a = torch.randn(n, n, dtype=torch.float32 if kind == "fp32" else torch.bfloat16)
        fn = lambda: a @ a  # noqa: E731
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best / 1e9


def forward_flops(model_config, token_counts) -> float:
    """Multiply-add FLOPs (x2) of the encoder over sentences of these token counts: per layer,
    the four attention projections and the two feed-forward matrices per token, plus the
    attention scores and weighted sum (2 x T^2 x H per sentence)."""
    h, inter, layers = model_config.hidden_size, model_config.intermediate_size, model_config.num_hidden_layers
    t = np.asarray(token_counts, dtype=float)
    per_layer = 2 * t * (4 * h * h + 2 * h * inter) + 2 * 2 * t**2 * h
    return float(layers * per_layer.sum())


# ---- the model under each lever -----------------------------------------------------------
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


class Lever:
    """A loaded model variant: predict(texts) -> probabilities."""

    def __init__(self, name: str, model, batch_size: int | None):
        self.name, self.model, self.batch_size = name, model, batch_size

    def __call__(self, texts):
        return self.model.predict_proba(texts, self.batch_size)


def onnx_variant(model_dir: Path, kind: str, work: Path, threads: int):
    """The shipped model with an ONNX backend: fp32, fp32 with ORT's transformer fusions, int8
    (per channel, every MatMul and Gather: the `--runtime onnx` file) or int8 with the
    sensitive layers (embeddings, attention scores, attention output, classifier) in fp32."""
    from models.onnx_runtime import OnnxBackend, export_fp32, export_int8, export_root
    from models.registry import load_model

    model = load_model(model_dir)
    root = export_root(model_dir)
    fp32 = export_fp32(model, root)
    if kind == "fp32":
        path = fp32
    elif kind == "fp32-fused":
        from onnxruntime.transformers.optimizer import optimize_model

        path = work / "model.fused.onnx"
        if not path.is_file():
            cfg = model.model_.config
            optimize_model(str(fp32), model_type="bert", num_heads=cfg.num_attention_heads,
                           hidden_size=cfg.hidden_size, opt_level=1).save_model_to_file(str(path))
    elif kind == "int8":
        path = export_int8(model, root)
    elif kind == "int8-sensitive-fp32":
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        path = work / "model.int8-sensitive-fp32.onnx"
        if not path.is_file():
            names = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul"]
            keep = [n for n in names if n.endswith(("self/MatMul", "self/MatMul_1")) or "attention/output" in n]
            quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"], nodes_to_exclude=keep)
    else:
        raise ValueError(kind)
    model.backend_ = OnnxBackend(path, threads=threads)
    return model


def measure(fn, texts, dev_texts, ref, ref_dev, thresholds, naive_rate=None) -> dict:
    fn(texts)  # warm-up, untimed: lazy exports, and a kernel for each batch shape
    rate, P = timed_rate(fn, texts)
    same = ((P >= thresholds) == (ref >= thresholds)).all(axis=1)
    same_dev = ((fn(dev_texts) >= thresholds) == (ref_dev >= thresholds)).all(axis=1)
    out = {"sentences_per_second": round(rate, 1), "identical_label_sets_un": round(float(same.mean()), 4),
           "differing_un": int((~same).sum()), "identical_label_sets_dev": round(float(same_dev.mean()), 4),
           "differing_dev": int((~same_dev).sum()), "max_abs_score_difference_un": round(float(np.abs(P - ref).max()), 5),
           "median_abs_score_difference_un": float(f"{np.median(np.abs(P - ref)):.2g}")}
    if naive_rate:
        out["speedup_vs_naive"] = round(rate / naive_rate, 2)
    return out


# ---- end to end -----------------------------------------------------------------------------
def write_speeches(speeches: list[dict], path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for sp in speeches:
            fh.write(json.dumps(sp, ensure_ascii=False) + "\n")
    return path


def score_command(src: Path, out: Path, extra: list[str] = ()) -> dict:
    """`diplostance score SRC` with the defaults under /usr/bin/time: wall, sentences, peak RSS."""
    cmd = ["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "diplostance.cli", "score", str(src),
           "--output", str(out), "--quiet", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    kb, seconds = proc.stderr.strip().splitlines()[-1].split()
    sentences = int(proc.stdout.split("scored ")[1].split(" ")[0])
    out.unlink()
    return {"sentences": sentences, "wall_seconds": float(seconds), "peak_rss_mib": round(int(kb) / 1024, 1),
            "sentences_per_second": round(sentences / float(seconds), 1)}


def score_in_process(model, src: Path, out: Path, prefetch: int) -> dict:
    """Score in this process with the reader thread (prefetch > 0) or without it (0)."""
    from diplostance import scoring

    saved = scoring.reader_depth
    scoring.reader_depth = lambda engine: prefetch  # forced, whatever the default policy says
    try:
        started = time.perf_counter()
        state = scoring.score_archive(model, str(MODEL), [src], out, scoring.ScoreOptions(quiet=True))
        seconds = time.perf_counter() - started
    finally:
        scoring.reader_depth = saved
    out.unlink()
    return {"sentences": state["sentences"], "wall_seconds": round(seconds, 1),
            "sentences_per_second": round(state["sentences"] / seconds, 1)}


def model_alone(model, src: Path) -> dict:
    """The model's own rate on the sentences of SRC (split beforehand, not timed)."""
    from data.splitting import split_document

    with gzip.open(src, "rt", encoding="utf-8") as fh:
        texts = [s.text for line in fh for d in [json.loads(line)] for s in split_document(d["text"], d["id"])]
    rate, _ = timed_rate(lambda t: [model.predict_proba(t[i:i + 512]) for i in range(0, len(t), 512)], texts)
    return {"sentences": len(texts), "sentences_per_second": round(rate, 1), "basis": "groups of 512, as scoring"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=MODEL)
    p.add_argument("--output", type=Path, default=Path("artifacts/benchmarks"))
    p.add_argument("--sentences", type=int, default=2000)
    p.add_argument("--skip-splitting", action="store_true")
    p.add_argument("--skip-end-to-end", action="store_true")
    args = p.parse_args(argv)
    for need in (UNGD, DEV):
        if not need.is_file():
            print(f"skipped: {need} is absent", file=sys.stderr)
            return 0
    import torch

    from models.finetune import FinetuneModel
    from models.provenance import library_versions
    from models.registry import load_model

    args.output.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="throughput-", dir=args.output))
    results: dict = {"cpu_count": os.cpu_count(), "library_versions": library_versions(),
                     "native_bf16": FinetuneModel.auto_runtime() == "bf16"}

    def show(key, value):
        results[key] = value
        print(json.dumps({key: value}), flush=True)

    show("peak_gflops", {f"{kind}_{t}_threads": round(matmul_peak(kind, t), 1)
                         for kind in ("fp32", "bf16", "int8") for t in (1, 2)})
    torch.set_num_threads(2)

    speeches = read_speeches()
    texts = sample_sentences(speeches, args.sentences)
    dev_texts = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    reference = load_model(args.model)  # torch float32
    tokens = [len(x) for x in reference.tokenizer_(texts, truncation=True, max_length=reference.config.max_length)["input_ids"]]
    flops = forward_flops(reference.model_.config, tokens)
    show("sentences", {"un_sentences": len(texts), "sessions": list(EVAL_SESSIONS),
                       "mean_characters": round(float(np.mean([len(t) for t in texts])), 1),
                       "mean_tokens": round(float(np.mean(tokens)), 1), "dev_sentences": len(dev_texts),
                       "gflop_per_sentence": round(flops / len(texts) / 1e9, 4)})
    th = reference.thresholds_
    ref = reference.predict_proba(texts, 16)
    ref_dev = reference.predict_proba(dev_texts, 16)

    naive_rate, naive = timed_rate(lambda t: naive_pipeline_scores(str(args.model), t), texts)
    show("naive_pipeline", {"sentences_per_second": round(naive_rate, 1), "batch_size": 1, "sentences": len(texts),
                            "identical_label_sets_un": round(float(((naive >= th) == (ref >= th)).all(1).mean()), 4)})

    bf16 = load_model(args.model, runtime="bf16")
    bf16_only = load_model(args.model, runtime="bf16")
    bf16_only.recheck_ = None  # no float32 re-check near the thresholds
    levers = [
        Lever("torch fp32, 16 length-sorted sentences per batch (the old default)", reference, 16),
        Lever("torch fp32, batches of 4,096 padded tokens", reference, None),
        Lever("ONNX Runtime fp32 (graph optimisation: all), token batches", onnx_variant(args.model, "fp32", work, 2),
              None),
        Lever("ONNX Runtime fp32 + transformer fusions, token batches",
              onnx_variant(args.model, "fp32-fused", work, 2), None),
        Lever("ONNX Runtime int8 per channel (every MatMul, Gather), token batches",
              onnx_variant(args.model, "int8", work, 2), None),
        Lever("ONNX Runtime int8, embeddings/attention/classifier in fp32, token batches",
              onnx_variant(args.model, "int8-sensitive-fp32", work, 2), None),
        Lever("torch bfloat16 weights, 16 length-sorted sentences per batch", bf16_only, 16),
        Lever("torch bfloat16 weights, batches of 4,096 padded tokens", bf16_only, None),
        Lever("... + float32 re-check of scores within 0.05 of a threshold (runtime bf16)", bf16, None),
    ]
    show("levers", {lv.name: measure(lv, texts, dev_texts, ref, ref_dev, th, naive_rate) for lv in levers})
    from models.finetune import RECHECK_MARGIN

    near = {name: (np.abs(bf16_only.predict_proba(x) - th) < RECHECK_MARGIN).any(axis=1)
            for name, x in (("un", texts), ("dev", dev_texts))}
    show("bf16_recheck", {"margin": RECHECK_MARGIN, **{f"rechecked_share_{k}": round(float(v.mean()), 4)
                                                       for k, v in near.items()}})

    default_runtime = FinetuneModel.auto_runtime()
    table = {}
    for name, kind, number in (("torch fp32", "torch", "fp32"), ("ONNX fp32", "onnx-fp32", "fp32"),
                               ("ONNX int8", "onnx", "int8"),
                               (f"default ({default_runtime})", default_runtime,
                                "bf16" if default_runtime == "bf16" else "fp32")):
        for threads in (1, 2):
            if kind.startswith("onnx"):
                model = onnx_variant(args.model, "int8" if kind == "onnx" else "fp32", work, threads)
            else:
                model = load_model(args.model, runtime=kind)
            torch.set_num_threads(threads)  # after loading: loading sets every core (configure_cpu_threads)
            model.predict_proba(texts)  # warm-up: a kernel per new batch shape
            rate, _ = timed_rate(model.predict_proba, texts)
            gflops = flops / (len(texts) / rate) / 1e9
            peak = results["peak_gflops"][f"{number}_{threads}_threads"]
            table[f"{name}, {threads} thread{'s' if threads > 1 else ''}"] = {
                "sentences_per_second": round(rate, 1), "gflops": round(gflops, 1), "peak_type": number,
                "fraction_of_peak": round(gflops / peak, 3)}
    torch.set_num_threads(2)
    show("threads", table)

    if not args.skip_splitting:
        from benchmarks import splitting as split_bench

        show("splitting", {"five_mb_line": split_bench.bench_synthetic([5_000_000], 5_000_000, 0)[0],
                           "all_speeches": {k: v for k, v in split_bench.bench_ungd(UNGD, None, 0).items()
                                            if k != "differences"},
                           "seeds": split_bench.check_seeds()})

    if not args.skip_end_to_end:
        e2e = {}
        from data.splitting import split_document

        per_speech = np.mean([len(split_document(sp["text"], sp["id"])) for sp in speeches[:40]])
        for name, target in (("10k", 10_000), ("100k", 100_000)):
            subset = speeches[: int(round(target / per_speech))]
            e2e[name] = {"speeches": len(subset),
                         **score_command(write_speeches(subset, work / f"{name}.jsonl.gz"), work / f"{name}.jsonl")}
            print(json.dumps({name: e2e[name]}), flush=True)
        src = work / "10k.jsonl.gz"
        default_model = load_model(args.model, runtime="auto")
        e2e["10k in process, model alone"] = model_alone(default_model, src)  # also the warm-up
        for depth, name in ((0, "no reader process"), (2, "reader process"), (0, "no reader process, again"),
                            (2, "reader process, again")):
            e2e[f"10k in process, {name}"] = score_in_process(default_model, src, work / "a.jsonl", depth)
        e2e["all"] = {"speeches": len(speeches),
                      **score_command(write_speeches(speeches, work / "all.jsonl.gz"), work / "all.jsonl")}
        show("end_to_end", e2e)
    for f in sorted(work.iterdir()):
        f.unlink()
    work.rmdir()
    (args.output / "throughput.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output / 'throughput.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
