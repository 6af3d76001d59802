"""The training loop of the finetune arch, split as setfit splits it: the model
(models.finetune), the training arguments and the trainer.

BCE with per-label positive weights, AdamW with linear warm-up and decay, length-bucketed
shuffled batches, early stopping on a document-grouped validation split (no document on both
sides), the best epoch's weights restored. ``train`` returns the validation split's (Y, P),
from which the model's template chooses its thresholds.

(The loop lives beside the model, in models/, because ``StanceModel.fit`` calls it and the
layers only point down: training/ sits above models/.)
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from models.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneArguments:
    epochs: int
    learning_rate: float
    weight_decay: float
    warmup_ratio: float
    patience: int
    validation_share: float
    train_batch_size: int
    max_length: int
    seed: int

    @classmethod
    def from_config(cls, config: TrainConfig) -> "FinetuneArguments":
        return cls(**{name: getattr(config, name) for name in cls.__dataclass_fields__})


def validation_split(groups: list[str], share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation) with whole groups on one side; ``share`` of the groups
    (at least one) go to validation.

    >>> tr, va = validation_split(["a", "a", "b", "c"], 0.3, 0)
    >>> sorted(set(["a", "a", "b", "c"][i] for i in va)) in (["a"], ["b"], ["c"])
    True
    """
    n_groups = len(set(groups))
    n_val = max(1, int(round(share * n_groups)))
    splitter = GroupShuffleSplit(n_splits=1, test_size=n_val, random_state=seed)
    train_idx, val_idx = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(train_idx), np.sort(val_idx)


def bucketed_batches(indices: np.ndarray, texts: list[str], batch_size: int, generator) -> list[np.ndarray]:
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


def macro_average_precision(Y: np.ndarray, P: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    scores = [average_precision_score(Y[:, k], P[:, k]) for k in range(Y.shape[1]) if 0 < Y[:, k].sum() < len(Y)]
    return float(np.mean(scores)) if scores else 0.0


class FinetuneTrainer:
    """Trains ``model.model_`` (a transformers sequence classifier) in place."""

    def __init__(self, model, args: FinetuneArguments):
        self.model, self.args = model, args
        self.history: list[dict] = []
        self.best_epoch: int | None = None

    def train(self, texts: list[str], Y: np.ndarray, groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
        import torch
        from transformers import get_linear_schedule_with_warmup

        args, net, tokenizer = self.args, self.model.model_, self.model.tokenizer_
        train_idx, val_idx = validation_split(groups, args.validation_share, args.seed)
        Yt = torch.tensor(Y, dtype=torch.float32)
        pos = Y[train_idx].sum(0)
        pos_weight = torch.tensor((len(train_idx) - pos) / np.maximum(pos, 1), dtype=torch.float32).clamp(max=20)
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        optimizer = torch.optim.AdamW(net.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)
        total = int(np.ceil(len(train_idx) / args.train_batch_size)) * args.epochs
        scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup_ratio * total), total)
        generator = torch.Generator().manual_seed(args.seed)

        best_score, best_state, best_val, stale = -1.0, None, None, 0
        for epoch in range(args.epochs):
            net.train()
            epoch_loss = 0.0
            for idx in bucketed_batches(train_idx, texts, args.train_batch_size, generator):
                enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                max_length=args.max_length, return_tensors="pt")
                loss = loss_fn(net(**enc).logits, Yt[idx])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                epoch_loss += loss.item() * len(idx)
            net.eval()
            val_proba = self.model._predict_proba([texts[i] for i in val_idx], self.model.config.batch_size)
            score = macro_average_precision(Y[val_idx], val_proba)
            self.history.append({"epoch": epoch + 1, "train_loss": epoch_loss / len(train_idx), "val_macro_ap": score})
            log.info("epoch %d: train loss %.4f, validation macro AP %.4f", epoch + 1, epoch_loss / len(train_idx), score)
            if score > best_score:
                best_score, best_val, stale, self.best_epoch = score, val_proba, 0, epoch + 1
                best_state = copy.deepcopy(net.state_dict())
            else:
                stale += 1
                if stale >= args.patience:
                    break
        net.load_state_dict(best_state)
        net.eval()
        return Y[val_idx], best_val
