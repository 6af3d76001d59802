"""arch name -> model class, and loading any saved model directory."""

from __future__ import annotations

from pathlib import Path

from data.errors import DiplostanceError
from models.base import StanceModel, read_model_metadata
from models.config import ARCHS, TrainConfig


def model_class(arch: str) -> type[StanceModel]:
    if arch == "tfidf":
        from models.tfidf import TfidfModel

        return TfidfModel
    if arch == "embedding":
        from models.embedding import EmbeddingModel

        return EmbeddingModel
    if arch == "finetune":
        from models.finetune import FinetuneModel

        return FinetuneModel
    if arch == "ensemble":
        from models.ensemble import EnsembleModel

        return EnsembleModel
    raise DiplostanceError(f"unknown arch {arch!r} (choose from {', '.join(ARCHS)})")


def build_model(config: TrainConfig) -> StanceModel:
    return model_class(config.arch)(config)


def load_model(directory: str | Path, runtime: str = "torch") -> StanceModel:
    """Any saved model directory; ``runtime`` picks the inference backend (finetune: torch,
    onnx, onnx-fp32)."""
    meta = read_model_metadata(directory)
    return model_class(meta["arch"]).load(directory, runtime=runtime)
