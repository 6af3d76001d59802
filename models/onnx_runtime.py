"""Optional ONNX Runtime inference for finetune models.

- `--runtime onnx`: int8 weights (dynamic quantisation, per channel) — fastest; its scores
  move a little, so it is not the default unless its labels agree with torch on >= 98% of the
  dev sentences (measured in benchmarks/throughput.py);
- `--runtime onnx-fp32`: the same graph in float32 under ONNX Runtime's graph optimisations —
  the scores of the torch model to about 1e-6.

The first use exports DIR/onnx/model.fp32.onnx (TorchScript-based export) and, for int8,
DIR/onnx/model.int8.onnx; later runs reuse them. Thresholds, labels and tokenizer are the
torch model's, so rows keep their meaning.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data.errors import DiplostanceError
from models.encoder import length_sorted_batches

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
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f"model.fp32.{os.getpid()}.partial.onnx")
    enc = model.tokenizer_(["A short sentence.", "A somewhat longer second sentence for shapes."],
                           padding=True, return_tensors="pt")
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    axes = {k: {0: "batch", 1: "tokens"} for k in names}
    axes["logits"] = {0: "batch"}
    with torch.inference_mode():
        torch.onnx.export(model.model_, tuple(enc[k] for k in names), str(tmp), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
    tmp.replace(target)
    return target


def export_int8(model, directory: Path) -> Path:
    """DIR/onnx/model.int8.onnx: dynamic per-channel int8 quantisation of the fp32 export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = directory / ONNX_DIR / INT8_FILE
    if target.is_file():
        return target
    fp32 = export_fp32(model, directory)
    tmp = target.with_name(f"model.int8.{os.getpid()}.partial.onnx")
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    tmp.replace(target)
    return target


class OnnxFinetuneModel:
    """Same predict_proba/predict/thresholds_ contract as the finetune model it wraps."""

    arch = "finetune"

    def __init__(self, torch_model, onnx_path: Path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer_ = torch_model.tokenizer_
        self.thresholds_ = torch_model.thresholds_
        self.config = torch_model.config
        self.training_data_ = torch_model.training_data_

    @classmethod
    def from_model(cls, model, directory: str | Path, runtime: str = "onnx") -> "OnnxFinetuneModel":
        if model.arch != "finetune":
            raise DiplostanceError(f"--runtime {runtime} applies to finetune models, not {model.arch}")
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            raise DiplostanceError(f"--runtime {runtime} needs onnxruntime: pip install 'diplostance[onnx]'") from None
        export = export_int8 if runtime == "onnx" else export_fp32
        return cls(model, export(model, Path(directory)))

    def predict_proba(self, texts) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), len(self.thresholds_)), dtype=np.float32)
        for idx in length_sorted_batches(texts, self.config.batch_size):
            enc = self.tokenizer_([texts[i] for i in idx], padding=True, truncation=True,
                                  max_length=self.config.max_length, return_tensors="np")
            feeds = {k: v.astype(np.int64) for k, v in enc.items() if k in self.input_names}
            logits = self.session.run(["logits"], feeds)[0]
            out[idx] = 1.0 / (1.0 + np.exp(-logits))
        return out

    def predict(self, texts) -> np.ndarray:
        return (self.predict_proba(texts) >= self.thresholds_).astype(int)
