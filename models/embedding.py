"""Frozen sentence encoder (mean-pooled MiniLM) + one logistic regression per label."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skops.io as sio

from data.errors import DiplostanceError
from models.base import StanceModel, grouped_out_of_fold
from models.config import TrainConfig
from models.encoder import SentenceEncoder, resolve_base_model
from models.heads import fit_heads, heads_proba
from models.provenance import seed_everything

HEADS_FILE = "heads.skops"
ENCODER_DIR = "encoder"


class EmbeddingModel(StanceModel):
    arch = "embedding"

    def fit(self, texts, Y, groups=None):
        """Encode once, choose thresholds out of fold on the vectors, then fit the heads."""
        texts, Y = list(texts), np.asarray(Y, dtype=int)
        seed_everything(self.config.seed)
        name, offline = resolve_base_model(self.config.base_model)
        self.encoder_ = SentenceEncoder(name, offline, self.config.max_length, self.config.batch_size)
        X = self.encoder_.encode(texts)
        if groups is not None and len(set(groups)) >= 2:

            def fit_predict(train_idx, test_idx):
                est, pri = fit_heads(X[train_idx], Y[train_idx], self.config.C)
                return heads_proba(est, pri, X[test_idx])

            held_out = grouped_out_of_fold(fit_predict, Y, list(groups), self.config.threshold_folds)
            self.set_thresholds(Y, held_out)
        self.estimators_, self.priors_ = fit_heads(X, Y, self.config.C)
        return self

    def _fit(self, texts, Y):  # fit() above covers training
        raise NotImplementedError

    def _predict_proba(self, texts):
        return heads_proba(self.estimators_, self.priors_, self.encoder_.encode(texts))

    def _save_weights(self, directory: Path):
        self.encoder_.save(directory / ENCODER_DIR)
        sio.dump({"estimators": self.estimators_, "priors": self.priors_}, directory / HEADS_FILE)

    @classmethod
    def _load_weights(cls, directory: Path, config: TrainConfig):
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
