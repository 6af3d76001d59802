"""Frozen sentence encoder (mean-pooled MiniLM) + one logistic regression per label."""

from __future__ import annotations

from pathlib import Path

import skops.io as sio

from data.errors import DiplostanceError
from models.config import TrainConfig
from models.encoder import SentenceEncoder, resolve_base_model
from models.heads import LinearHeadsModel

HEADS_FILE = "heads.skops"
ENCODER_DIR = "encoder"


class EmbeddingModel(LinearHeadsModel):
    arch = "embedding"

    def _fit_features(self, texts):
        name, offline = resolve_base_model(self.config.base_model)
        self.encoder_ = SentenceEncoder(name, offline, self.config.max_length, self.config.batch_size)
        return self.encoder_.encode(texts)

    def inference_threads(self) -> int:
        import torch

        return torch.get_num_threads()

    def _features(self, texts, batch_size):
        return self.encoder_.encode(texts, batch_size)

    def _save_weights(self, directory: Path):
        self.encoder_.save(directory / ENCODER_DIR)
        sio.dump({"estimators": self.estimators_, "priors": self.priors_}, directory / HEADS_FILE)

    @classmethod
    def _load_weights(cls, directory: Path, config: TrainConfig, runtime: str):
        if not (directory / HEADS_FILE).is_file() or not (directory / ENCODER_DIR).is_dir():
            raise DiplostanceError(f"{directory}: missing {HEADS_FILE} or {ENCODER_DIR}/")
        untrusted = sio.get_untrusted_types(file=directory / HEADS_FILE)
        if untrusted:
            raise DiplostanceError(f"{directory / HEADS_FILE}: refuses to load unexpected types {untrusted}")
        state = sio.load(directory / HEADS_FILE)
        model = cls(config)
        model.encoder_ = SentenceEncoder(str(directory / ENCODER_DIR), True, config.max_length, config.batch_size)
        model.estimators_, model.priors_ = state["estimators"], state["priors"]
        return model
