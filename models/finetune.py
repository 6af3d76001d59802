"""Full fine-tuning of a transformer encoder for multi-label stance classification.

The model: a transformers sequence classifier with one logit per label, trained by
models.finetune_trainer (thresholds chosen on its document-grouped validation split), saved
with save_pretrained (safetensors) plus the tokenizer, so
`transformers.pipeline("text-classification", model=DIR, top_k=None)` loads it; config.json
carries id2label/label2id and, under "diplostance", the thresholds.

Inference runs on one of four runtimes, chosen at load time (``load(DIR, runtime=...)``):
- ``torch``: float32, the reference;
- ``bf16``: torch with bfloat16 weights, fast where the CPU multiplies bfloat16 natively (AMX or
  AVX512-BF16). bfloat16 moves a score by 6e-5 at the median and by 0.04 at most (2,000 UN
  sentences, benchmarks/throughput.py), so a sentence whose score lands within
  ``RECHECK_MARGIN`` of a threshold is scored again in float32 (0.8% of those sentences, 2.4%
  of dev): its label sets are then those of ``torch``;
- ``onnx`` (ONNX Runtime, int8 weights) or ``onnx-fp32`` (see models.onnx_runtime);
- ``auto`` picks ``bf16`` on such a CPU and ``torch`` elsewhere (the default of `diplostance score`).
Thresholds, labels and tokenizer are the same for all of them.

Without an explicit batch size, sentences are batched by token count (models.encoder
.token_budget_batches, ``BATCH_TOKENS`` padded tokens per forward pass); with one, by a fixed
number of length-sorted sentences, as training's validation does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data.errors import DiplostanceError
from data.labels import LABELS
from models.base import StanceModel
from models.config import TrainConfig
from models.encoder import (ceil_pow2, configure_cpu_threads, length_sorted_batches, pad_batch,
                            resolve_base_model, token_budget_batches)
from models.finetune_trainer import FinetuneArguments, FinetuneTrainer

BATCH_TOKENS = 4096  # padded tokens per forward pass when no batch size is given (benchmarks/throughput.py)
MAX_BATCH_SENTENCES = 512
RECHECK_MARGIN = 0.05  # bf16 scores this close to a threshold are recomputed in float32


def cpu_has_native_bf16() -> bool:
    """True when this CPU multiplies bfloat16 in hardware (Intel AMX or AVX512-BF16, read from
    /proc/cpuinfo); elsewhere bfloat16 is emulated and slower than float32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


class TorchBackend:
    """Logits from the torch network, in inference mode (float32, or bfloat16 weights)."""

    def __init__(self, net, bf16: bool = False):
        import torch

        self.net = net.to(torch.bfloat16) if bf16 else net

    def threads(self) -> int:
        import torch

        return torch.get_num_threads()

    def logits(self, enc: dict) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.net(**{k: torch.from_numpy(v) for k, v in enc.items()}).logits.float().numpy()


class FinetuneModel(StanceModel):
    arch = "finetune"
    runtimes = ("torch", "bf16", "onnx", "onnx-fp32")

    @classmethod
    def auto_runtime(cls) -> str:
        return "bf16" if cpu_has_native_bf16() else "torch"

    def _load_pretrained(self, name: str, offline: bool):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # "newly initialized classifier" is expected here
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer_ = AutoTokenizer.from_pretrained(name, local_files_only=offline)
            self.model_ = AutoModelForSequenceClassification.from_pretrained(
                name,
                local_files_only=offline,
                num_labels=len(LABELS),
                problem_type="multi_label_classification",
                id2label=dict(enumerate(LABELS)),
                label2id={n: i for i, n in enumerate(LABELS)},
            )
        except OSError as exc:
            raise DiplostanceError(f"cannot load model {name!r}: {str(exc).splitlines()[0]}") from None
        self.backend_ = TorchBackend(self.model_)

    def _fit(self, texts, Y, groups):
        configure_cpu_threads()
        self._load_pretrained(*resolve_base_model(self.config.base_model))
        trainer = FinetuneTrainer(self, FinetuneArguments.from_config(self.config))
        held_out = trainer.train(texts, Y, groups)
        self.history_ = trainer.history
        return held_out

    def inference_threads(self) -> int:
        return self.backend_.threads()

    def _predict_proba(self, texts, batch_size):
        out = self._scores(self.backend_, texts, batch_size)
        recheck, thresholds = getattr(self, "recheck_", None), getattr(self, "thresholds_", None)
        if recheck is not None and thresholds is not None:
            near = np.flatnonzero((np.abs(out - thresholds) < RECHECK_MARGIN).any(axis=1))
            if near.size:
                out[near] = self._scores(recheck, [texts[i] for i in near], batch_size)
        return out

    def _scores(self, backend, texts, batch_size):
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        encoded = self.tokenizer_(texts, truncation=True, max_length=self.config.max_length)
        by_tokens = batch_size is None
        if by_tokens:
            batches = token_budget_batches([len(x) for x in encoded["input_ids"]], BATCH_TOKENS, MAX_BATCH_SENTENCES)
        else:
            batches = length_sorted_batches(texts, batch_size)
        pad_id = self.tokenizer_.pad_token_id or 0
        for idx in batches:
            # token batches: widths to a multiple of 8 and rows to a power of two (few shapes)
            enc = pad_batch(encoded, idx, pad_id, 8, ceil_pow2(len(idx))) if by_tokens else pad_batch(encoded, idx, pad_id, 1)
            out[idx] = 1.0 / (1.0 + np.exp(-backend.logits(enc)[: len(idx)]))
        return out

    def metadata(self) -> dict:
        return {**super().metadata(), "history": getattr(self, "history_", [])}

    def _save_weights(self, directory: Path):
        self.model_.save_pretrained(directory)  # safetensors + config.json with id2label/label2id
        self.tokenizer_.save_pretrained(directory)

    @classmethod
    def _load_weights(cls, directory: Path, config: TrainConfig, runtime: str):
        if not (directory / "model.safetensors").is_file():
            raise DiplostanceError(f"{directory}: missing model.safetensors")
        model = cls(config)
        configure_cpu_threads()
        model._load_pretrained(str(directory), True)
        model.model_.float().eval()  # weights may be stored in float16 (the shipped model); CPU inference runs in float32
        if runtime == "bf16":
            import copy

            model.backend_ = TorchBackend(copy.deepcopy(model.model_), bf16=True)
            model.recheck_ = TorchBackend(model.model_)  # float32, for scores near a threshold
        elif runtime != "torch":
            from models.onnx_runtime import onnx_backend

            model.backend_ = onnx_backend(model, directory, runtime)
        return model
