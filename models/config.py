"""Typed, frozen training configuration; the resolved config is written beside each model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


ARCHS = ("tfidf", "embedding", "finetune", "ensemble")  # the model families (models.registry maps them to classes)


def _f(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    arch: str = _f("finetune", "model family: finetune (the shipped default) | tfidf | embedding | ensemble (mean of tfidf and finetune)")
    seed: int = _f(13, "seed for every random choice (splits, initialisation, shuffling)")
    target_precision: float | None = _f(
        None, "choose each label's threshold as the lowest reaching this out-of-fold precision; None = best F1"
    )
    threshold_folds: int = _f(5, "document-grouped folds used to choose thresholds out of fold")
    # tfidf
    C: float = _f(4.0, "inverse L2 regularisation of each logistic regression")
    max_ngram: int = _f(2, "word n-grams from 1 to this")
    char_ngrams: bool = _f(True, "add character 3-5-grams (within word boundaries)")
    # encoder-based
    base_model: str | None = _f(None, "local directory or hub id of the encoder; None = bundled all-MiniLM-L6-v2")
    max_length: int = _f(128, "tokens kept per sentence")
    batch_size: int = _f(32, "sentences per forward pass")
    # finetune
    epochs: int = _f(4, "maximum training epochs (validation AP levels off by epoch 4 on the bundled data)")
    learning_rate: float = _f(5e-5, "AdamW peak learning rate")
    weight_decay: float = _f(0.01, "AdamW weight decay")
    warmup_ratio: float = _f(0.1, "share of steps with linear warm-up")
    patience: int = _f(2, "epochs without validation improvement before stopping")
    validation_share: float = _f(0.15, "share of documents held out for early stopping and thresholds")
    train_batch_size: int = _f(16, "sentences per training step")

    def __post_init__(self):
        from data.errors import DiplostanceError

        problems = []
        if self.arch not in ARCHS:
            problems.append(f"arch must be one of {', '.join(ARCHS)}, not {self.arch!r}")
        if self.target_precision is not None and not 0 < self.target_precision <= 1:
            problems.append(f"target_precision must be in (0, 1], not {self.target_precision}")
        if self.threshold_folds < 2:
            problems.append(f"threshold_folds must be at least 2, not {self.threshold_folds}")
        if not 0 < self.validation_share < 1:
            problems.append(f"validation_share must be between 0 and 1, not {self.validation_share}")
        for name in ("max_ngram", "max_length", "batch_size", "epochs", "train_batch_size", "patience"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in ("C", "learning_rate"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive, not {getattr(self, name)}")
        if self.weight_decay < 0 or not 0 <= self.warmup_ratio < 1:
            problems.append("weight_decay must be >= 0 and warmup_ratio in [0, 1)")
        if problems:
            raise DiplostanceError("invalid training configuration: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes) -> "TrainConfig":
        return TrainConfig.from_dict({**self.to_dict(), **changes})
