"""tfidf + fine-tuned encoder: the mean of the two models' probabilities.

Both parts train on every row. Thresholds are chosen where both parts have held-out
predictions: the finetune part's document-grouped validation split, scored there by the
finetune model (which chose its best epoch on it) and by tfidf's grouped out-of-fold heads
(which never saw those documents either). Saved as two sub-directories, ``tfidf/`` and
``finetune/``, holding each part's weights (the thresholds and provenance are the ensemble's,
in its own config.json); ``runtime`` applies to the finetune part.

After ``fit`` each part is also a fitted model in its own right, with thresholds chosen on its
own held-out predictions (tfidf: grouped out-of-fold; finetune: its validation split) and its
own training time: ``fitted_parts()`` gives them, so one training measures all three models
on the same data and splits (experiments.compare).
"""

from __future__ import annotations

from pathlib import Path

import time

from data.errors import DiplostanceError
from models.base import StanceModel
from models.config import TrainConfig
from models.finetune import FinetuneModel
from models.finetune_trainer import validation_split
from models.thresholds import choose_thresholds
from models.tfidf import TfidfModel

PARTS = ("tfidf", "finetune")


class EnsembleModel(StanceModel):
    arch = "ensemble"
    runtimes = FinetuneModel.runtimes
    auto_runtime = FinetuneModel.auto_runtime

    def _parts(self):
        return (TfidfModel(self.config.replace(arch="tfidf")), FinetuneModel(self.config.replace(arch="finetune")))

    def _fit(self, texts, Y, groups):
        self.tfidf_, self.finetune_ = self._parts()
        (Y_oof, P_tfidf), tfidf_seconds = _timed(self.tfidf_._fit, texts, Y, groups)
        (Y_val, P_finetune), finetune_seconds = _timed(self.finetune_._fit, texts, Y, groups)
        for part, held, seconds in ((self.tfidf_, (Y_oof, P_tfidf), tfidf_seconds),
                                    (self.finetune_, (Y_val, P_finetune), finetune_seconds)):
            part.heldout_ = held
            part.thresholds_ = choose_thresholds(*held, part.config.target_precision)
            part.training_seconds_ = seconds
        _, val_idx = validation_split(groups, self.config.validation_share, self.config.seed)
        self.history_ = self.finetune_.history_
        return Y_val, (P_tfidf[val_idx] + P_finetune) / 2

    def fitted_parts(self) -> dict[str, StanceModel]:
        """The two parts as fitted models with their own thresholds (after ``fit`` only)."""
        return {"tfidf": self.tfidf_, "finetune": self.finetune_}

    def inference_threads(self) -> int:
        return self.finetune_.inference_threads()

    def _predict_proba(self, texts, batch_size):
        return (self.tfidf_._predict_proba(texts, batch_size) + self.finetune_._predict_proba(texts, batch_size)) / 2

    def metadata(self) -> dict:
        return {**super().metadata(), "parts": list(PARTS), "history": getattr(self, "history_", [])}

    def _save_weights(self, directory: Path):
        for name, part in zip(PARTS, (self.tfidf_, self.finetune_)):
            (directory / name).mkdir()
            part._save_weights(directory / name)

    @classmethod
    def _load_weights(cls, directory: Path, config: TrainConfig, runtime: str):
        if not all((directory / name).is_dir() for name in PARTS):
            raise DiplostanceError(f"{directory}: an ensemble model needs {PARTS[0]}/ and {PARTS[1]}/")
        model = cls(config)
        model.tfidf_ = TfidfModel._load_weights(directory / "tfidf", config.replace(arch="tfidf"), "torch")
        model.finetune_ = FinetuneModel._load_weights(directory / "finetune", config.replace(arch="finetune"), runtime)
        return model


def _timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, round(time.perf_counter() - started, 1)
