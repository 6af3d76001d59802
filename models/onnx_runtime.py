"""Optional ONNX Runtime inference for finetune models.

- `--runtime onnx`: int8 weights (dynamic quantisation, per channel); its scores move a little
  (about 98.5% identical label sets on dev in benchmarks/throughput.py), and on a CPU with
  native bfloat16 the ``bf16`` runtime is both faster and closer to float32, so it is not the
  default;
- `--runtime onnx-fp32`: the same graph in float32 under ONNX Runtime's graph optimisations —
  the scores of the torch model to about 1e-6.

The first use exports DIR/onnx/model.fp32.onnx (TorchScript-based export) and, for int8,
DIR/onnx/model.int8.onnx; later runs reuse them. These are runtimes of the finetune model
(``load_model(DIR, runtime="onnx")``): thresholds, labels and tokenizer are the torch model's,
so rows keep their meaning.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data.atomic import atomic_path
from data.errors import DiplostanceError

ONNX_DIR = "onnx"
FP32_FILE = "model.fp32.onnx"
INT8_FILE = "model.int8.onnx"
RUNTIMES = ("onnx", "onnx-fp32")


def export_fp32(model, directory: Path) -> Path:
    """Export the finetune model's network to DIR/onnx/model.fp32.onnx (atomic)."""
    import torch

    target = directory / ONNX_DIR / FP32_FILE
    if target.is_file():
        return target
    enc = model.tokenizer_(["A short sentence.", "A somewhat longer second sentence for shapes."],
                           padding=True, return_tensors="pt")
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    axes = {k: {0: "batch", 1: "tokens"} for k in names}
    axes["logits"] = {0: "batch"}
    with torch.inference_mode(), atomic_path(target) as tmp:
        torch.onnx.export(model.model_, tuple(enc[k] for k in names), str(tmp), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
    return target


def export_int8(model, directory: Path) -> Path:
    """DIR/onnx/model.int8.onnx: dynamic per-channel int8 quantisation of the fp32 export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = directory / ONNX_DIR / INT8_FILE
    if target.is_file():
        return target
    fp32 = export_fp32(model, directory)
    with atomic_path(target) as tmp:
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    return target


class OnnxBackend:
    """Logits from an ONNX Runtime session over the exported graph."""

    def __init__(self, onnx_path: Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        self.intra_threads = threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        options.intra_op_num_threads = self.intra_threads
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}

    def threads(self) -> int:
        return self.intra_threads

    def logits(self, enc) -> np.ndarray:
        feeds = {k: np.asarray(v).astype(np.int64) for k, v in enc.items() if k in self.input_names}
        return self.session.run(["logits"], feeds)[0]


def onnx_backend(model, directory: str | Path, runtime: str) -> OnnxBackend:
    """The ONNX backend of a loaded finetune model (exports the graph on first use)."""
    if runtime not in RUNTIMES:
        raise DiplostanceError(f"unknown ONNX runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise DiplostanceError(f"--runtime {runtime} needs onnxruntime: pip install 'diplostance[onnx]'") from None
    export = export_int8 if runtime == "onnx" else export_fp32
    return OnnxBackend(export(model, export_root(Path(directory))))


def export_root(directory: Path) -> Path:
    """Where a model's ONNX exports live: beside its weights, except for a model with a
    manifest (the shipped one), whose directory must hold exactly its listed files: its exports
    go to the user cache, keyed by the manifest's hash."""
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        return directory
    import hashlib

    from models.encoder import cache_dir

    return cache_dir() / "onnx" / hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]
