"""Full fine-tuning of a transformer encoder for multi-label stance classification.

The model: a transformers sequence classifier with one logit per label, trained by
models.finetune_trainer (thresholds chosen on its document-grouped validation split), saved
with save_pretrained (safetensors) plus the tokenizer, so
`transformers.pipeline("text-classification", model=DIR, top_k=None)` loads it; config.json
carries id2label/label2id and, under "diplostance", the thresholds.

Inference runs on one of three runtimes, chosen at load time (``load(DIR, runtime=...)``):
torch (default), ``onnx`` (ONNX Runtime, int8 weights) or ``onnx-fp32`` (see
models.onnx_runtime). Thresholds, labels and tokenizer are the same for all three.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data.errors import DiplostanceError
from data.labels import LABELS
from models.base import StanceModel
from models.config import TrainConfig
from models.encoder import configure_cpu_threads, length_sorted_batches, resolve_base_model
from models.finetune_trainer import FinetuneArguments, FinetuneTrainer


class TorchBackend:
    """Logits from the torch network, in inference mode."""

    def __init__(self, net):
        self.net = net

    def logits(self, enc) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.net(**enc).logits.float().numpy()

    tensor_type = "pt"


class FinetuneModel(StanceModel):
    arch = "finetune"
    runtimes = ("torch", "onnx", "onnx-fp32")

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

    def _predict_proba(self, texts, batch_size):
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        for idx in length_sorted_batches(texts, batch_size):
            enc = self.tokenizer_([texts[i] for i in idx], padding=True, truncation=True,
                                  max_length=self.config.max_length, return_tensors=self.backend_.tensor_type)
            out[idx] = 1.0 / (1.0 + np.exp(-self.backend_.logits(enc)))
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
        if runtime != "torch":
            from models.onnx_runtime import onnx_backend

            model.backend_ = onnx_backend(model, directory, runtime)
        model.runtime_ = runtime
        return model
