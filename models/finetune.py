"""Full fine-tuning of a transformer encoder for multi-label stance classification.

Training: BCE with per-label positive weights, AdamW with linear warm-up and decay,
early stopping on a document-grouped validation split (no document on both sides),
thresholds chosen on that split's predictions. Saved with save_pretrained (safetensors)
plus the tokenizer, so `transformers.pipeline("text-classification", model=DIR, top_k=None)`
loads it; config.json carries id2label/label2id and, under "diplostance", the thresholds.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np

from data.errors import DiplostanceError
from data.labels import LABELS
from models.base import StanceModel
from models.config import TrainConfig
from models.encoder import configure_cpu_threads, length_sorted_batches, resolve_base_model
from models.provenance import seed_everything

log = logging.getLogger(__name__)


def _validation_split(groups: list[str], share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation) with whole groups on one side; share = of groups."""
    unique = sorted(set(groups))
    rng = np.random.default_rng(seed)
    n_val = max(1, int(round(share * len(unique))))
    val_groups = set(rng.permutation(unique)[:n_val].tolist())
    is_val = np.array([g in val_groups for g in groups])
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def _bucketed_batches(indices: np.ndarray, texts: list[str], batch_size: int, generator) -> list[np.ndarray]:
    """Shuffled batches of similar-length sentences (less padding, same randomness per seed):
    shuffle, sort by length within windows of 50 batches, then shuffle the batch order."""
    import torch

    order = indices[torch.randperm(len(indices), generator=generator).numpy()]
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort([len(texts[i]) for i in chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def _macro_average_precision(Y: np.ndarray, P: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    scores = [average_precision_score(Y[:, k], P[:, k]) for k in range(Y.shape[1]) if 0 < Y[:, k].sum() < len(Y)]
    return float(np.mean(scores)) if scores else 0.0


class FinetuneModel(StanceModel):
    arch = "finetune"

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

    def fit(self, texts, Y, groups=None):
        import torch
        from transformers import get_linear_schedule_with_warmup

        cfg = self.config
        texts, Y = list(texts), np.asarray(Y, dtype=int)
        configure_cpu_threads()
        seed_everything(cfg.seed)
        self._load_pretrained(*resolve_base_model(cfg.base_model))
        groups = list(groups) if groups is not None else [str(i // 20) for i in range(len(texts))]
        train_idx, val_idx = _validation_split(groups, cfg.validation_share, cfg.seed)
        Yt = torch.tensor(Y, dtype=torch.float32)
        pos = Y[train_idx].sum(0)
        pos_weight = torch.tensor((len(train_idx) - pos) / np.maximum(pos, 1), dtype=torch.float32).clamp(max=20)
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        optimizer = torch.optim.AdamW(self.model_.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        steps_per_epoch = int(np.ceil(len(train_idx) / cfg.train_batch_size))
        total = steps_per_epoch * cfg.epochs
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total), total)
        generator = torch.Generator().manual_seed(cfg.seed)

        best_score, best_state, best_val, stale = -1.0, None, None, 0
        self.history_ = []
        for epoch in range(cfg.epochs):
            self.model_.train()
            epoch_loss = 0.0
            for idx in _bucketed_batches(train_idx, texts, cfg.train_batch_size, generator):
                enc = self.tokenizer_([texts[i] for i in idx], padding=True, truncation=True,
                                      max_length=cfg.max_length, return_tensors="pt")
                logits = self.model_(**enc).logits
                loss = loss_fn(logits, Yt[idx])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                epoch_loss += loss.item() * len(idx)
            val_proba = self._predict_proba([texts[i] for i in val_idx])
            score = _macro_average_precision(Y[val_idx], val_proba)
            self.history_.append({"epoch": epoch + 1, "train_loss": epoch_loss / len(train_idx), "val_macro_ap": score})
            log.info("epoch %d: train loss %.4f, validation macro AP %.4f", epoch + 1, epoch_loss / len(train_idx), score)
            if score > best_score:
                best_score, best_val, stale = score, val_proba, 0
                best_state = copy.deepcopy(self.model_.state_dict())
            else:
                stale += 1
                if stale >= cfg.patience:
                    break
        self.model_.load_state_dict(best_state)
        self.model_.eval()
        self.set_thresholds(Y[val_idx], best_val)
        return self

    def _fit(self, texts, Y):  # fit() above covers training
        raise NotImplementedError

    def _predict_proba(self, texts):
        import torch

        self.model_.eval()
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        for idx in length_sorted_batches(texts, self.config.batch_size):
            enc = self.tokenizer_([texts[i] for i in idx], padding=True, truncation=True,
                                  max_length=self.config.max_length, return_tensors="pt")
            with torch.inference_mode():
                out[idx] = torch.sigmoid(self.model_(**enc).logits).numpy()
        return out

    def metadata(self) -> dict:
        return {**super().metadata(), "history": getattr(self, "history_", [])}

    def _save_weights(self, directory: Path):
        self.model_.save_pretrained(directory)  # safetensors + config.json with id2label/label2id
        self.tokenizer_.save_pretrained(directory)

    @classmethod
    def _load_weights(cls, directory: Path, config: TrainConfig):
        if not (directory / "model.safetensors").is_file():
            raise DiplostanceError(f"{directory}: missing model.safetensors")
        model = cls(config)
        configure_cpu_threads()
        model._load_pretrained(str(directory), True)
        model.model_.eval()
        return model
