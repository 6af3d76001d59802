"""The interface every diplostance model shares: fit, predict_proba, predict, save, load.

Column k of every (N, K) matrix is data.labels.LABELS[k]. A model directory always holds
config.json whose "diplostance" block records arch, labels, thresholds, the training config,
the training-data fingerprint and library versions; the weights next to it are skops or
safetensors files, never pickle.
"""

from __future__ import annotations

import json
import os
import shutil
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
from sklearn.model_selection import GroupKFold

from data.atomic import swap_directory
from data.errors import DiplostanceError
from data.labels import LABELS
from models.config import TrainConfig
from models.provenance import library_versions, seed_everything
from models.thresholds import choose_thresholds

CONFIG_FILE = "config.json"


class StanceModel(ABC):
    """The template every arch follows.

    ``fit`` seeds, calls the arch's one hook ``_fit`` (which trains on every row and returns
    held-out (Y, P): rows predicted by a model that never saw their document), and chooses
    the per-label thresholds from those held-out predictions. A model has ``thresholds_``
    only once it is fitted or loaded.
    """

    arch: ClassVar[str]
    runtimes: ClassVar[tuple[str, ...]] = ("torch",)  # inference backends; the first is the default

    def __init__(self, config: TrainConfig | None = None):
        self.config = config or TrainConfig(arch=self.arch)
        self.training_data_: dict = {}
        self.training_seconds_: float | None = None
        self.heldout_: tuple[np.ndarray, np.ndarray] | None = None  # (Y, P) behind the thresholds
        self.heldout_metrics_: dict = {}

    # ---- training -------------------------------------------------------------------
    def fit(self, texts: Sequence[str], Y: np.ndarray, groups: Sequence[str] | None = None) -> "StanceModel":
        """texts: N strings; Y: (N, K) 0/1; groups: N document ids. No document is on both
        sides of a held-out split; without groups every sentence is its own document."""
        texts, Y = list(texts), np.asarray(Y, dtype=int).reshape(len(texts), len(LABELS))
        groups = [str(g) for g in groups] if groups is not None else [f"sentence-{i}" for i in range(len(texts))]
        if len(groups) != len(texts):
            raise ValueError(f"{len(groups)} groups for {len(texts)} texts")
        if len(set(groups)) < 2:
            raise DiplostanceError("choosing thresholds on held-out data needs rows from at least two documents")
        seed_everything(self.config.seed)
        Y_held, P_held = self._fit(texts, Y, groups)
        self.heldout_ = (np.asarray(Y_held, dtype=int), np.asarray(P_held, dtype=float))
        self.thresholds_ = choose_thresholds(*self.heldout_, self.config.target_precision)
        return self

    @abstractmethod
    def _fit(self, texts: list[str], Y: np.ndarray, groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Train on all rows; return held-out (Y, P) for choosing thresholds."""

    @abstractmethod
    def _predict_proba(self, texts: list[str], batch_size: int | None) -> np.ndarray: ...

    def inference_threads(self) -> int:
        """CPU threads ``predict_proba`` keeps busy (scoring gives any other core to its reader
        process). The linear heads of tfidf predict on one."""
        return 1

    @classmethod
    def auto_runtime(cls) -> str:
        """The runtime ``load(..., runtime="auto")`` picks on this machine."""
        return cls.runtimes[0]

    # ---- inference ------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "thresholds_")

    def predict_proba(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """(N, K) probabilities in [0, 1]; column k is LABELS[k]. ``batch_size``: sentences
        per forward pass (default: the arch's own batching; finetune batches by token count)."""
        if not self.is_fitted:
            raise DiplostanceError(f"this {self.arch} model is not fitted: call fit() or load a saved model")
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(LABELS)))
        return np.asarray(self._predict_proba(texts, batch_size), dtype=float)

    def predict(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """(N, K) 0/1 decisions: probability >= the label's threshold."""
        return (self.predict_proba(texts, batch_size) >= self.thresholds_).astype(int)

    # ---- persistence ----------------------------------------------------------------
    @abstractmethod
    def _save_weights(self, directory: Path) -> None: ...

    @classmethod
    @abstractmethod
    def _load_weights(cls, directory: Path, config: TrainConfig, runtime: str) -> "StanceModel": ...

    def metadata(self) -> dict:
        return {
            "arch": self.arch,
            "labels": list(LABELS),
            "thresholds": {name: float(t) for name, t in zip(LABELS, self.thresholds_)},
            "training_config": self.config.to_dict(),
            "training_data": self.training_data_,
            "training_seconds": self.training_seconds_,
            "heldout_metrics": self.heldout_metrics_,
            "library_versions": library_versions(),
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def save(self, directory: str | Path) -> Path:
        """Write the model to `directory` atomically (a temp dir renamed when complete).

        An existing `directory` is replaced only when it holds a diplostance model; anything
        else there (user files, a parent directory) is an error and stays untouched."""
        directory = Path(directory)
        check_model_output(directory)
        tmp = directory.with_name(f".{directory.name}.partial-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self._save_weights(tmp)
        config_path = tmp / CONFIG_FILE
        config = json.loads(config_path.read_text()) if config_path.exists() else {}
        config["diplostance"] = self.metadata()
        config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
        from models.model_card import write_model_card

        write_model_card(tmp, config["diplostance"])
        # the files this save wrote: a later save replaces the directory only when it holds nothing else
        config["diplostance"]["files"] = sorted({p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()})
        config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
        return swap_directory(tmp, directory)

    @classmethod
    def load(cls, directory: str | Path, runtime: str = "torch") -> "StanceModel":
        """Load a saved model. ``runtime`` selects the inference backend of archs that have
        several (finetune: torch, bf16, onnx, onnx-fp32); other archs take only the default.
        "auto" picks the arch's choice for this machine (``auto_runtime``); ``runtime_`` names
        the runtime loaded."""
        directory = Path(directory)
        meta = read_model_metadata(directory)
        if runtime == "auto":
            runtime = cls.auto_runtime()
        if runtime not in cls.runtimes:
            raise DiplostanceError(f"--runtime {runtime} does not apply to {cls.arch} models "
                                   f"(available: {', '.join(cls.runtimes)})")
        model = cls._load_weights(directory, TrainConfig.from_dict(meta["training_config"]), runtime)
        model.runtime_ = runtime
        model.thresholds_ = np.array([meta["thresholds"][name] for name in LABELS], dtype=float)
        model.training_data_ = meta.get("training_data", {})
        model.training_seconds_ = meta.get("training_seconds")
        model.heldout_metrics_ = meta.get("heldout_metrics", {})
        return model


def grouped_out_of_fold(fit_predict, Y: np.ndarray, groups: list[str], n_splits: int) -> np.ndarray:
    """Run fit_predict(train_idx, test_idx) -> (len(test_idx), K) over GroupKFold splits and
    assemble the (N, K) held-out matrix; no group is on both sides of a split.

    >>> Y = np.array([[1], [0], [1], [0]])
    >>> grouped_out_of_fold(lambda tr, te: np.full((len(te), 1), len(tr)), Y, ["a", "a", "b", "b"], 5).ravel()
    array([2., 2., 2., 2.])
    """
    held_out = np.zeros(Y.shape, dtype=float)
    splitter = GroupKFold(n_splits=min(n_splits, len(set(groups))))
    for train_idx, test_idx in splitter.split(np.zeros(len(Y)), Y, groups):
        held_out[test_idx] = fit_predict(train_idx, test_idx)
    return held_out


def check_model_output(directory: str | Path) -> None:
    """Refuse to write a model where something other than a diplostance model already is."""
    directory = Path(directory)
    if not directory.exists():
        return
    if not directory.is_dir():
        raise DiplostanceError(f"{directory}: exists and is not a directory; choose another --output")
    if not any(directory.iterdir()):
        return
    try:
        meta = read_model_metadata(directory)
    except DiplostanceError:
        raise DiplostanceError(f"{directory}: exists and is not a diplostance model directory; "
                               "refusing to replace it (choose another --output)") from None
    foreign = _foreign_files(directory, meta)
    if foreign:
        raise DiplostanceError(f"{directory / foreign[0]}: not written by diplostance; refusing to replace the model "
                               f"directory that holds it ({len(foreign)} such file(s); move them or choose another --output)")


# What a model save, an ONNX export or a shipped-model export writes (models saved before the
# file list was recorded are checked against these names).
_TOOL_FILES = ("config.json", "README.md", "manifest.json", "tfidf.skops", "heads.skops", "model.safetensors",
               "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
_TOOL_DIRS = ("onnx", "encoder", "tfidf", "finetune")


def _foreign_files(directory: Path, meta: dict) -> list[str]:
    """Files in a model directory that no diplostance save or export wrote there."""
    listed = set(meta.get("files") or [])
    out = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel in listed or rel == "manifest.json" or rel.startswith("onnx/"):
            continue
        if not listed and (rel in _TOOL_FILES or rel.split("/", 1)[0] in _TOOL_DIRS):
            continue
        out.append(rel)
    return out


def read_model_metadata(directory: str | Path) -> dict:
    """The "diplostance" block of DIR/config.json; DiplostanceError if it is not a model dir."""
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not directory.is_dir():
        raise DiplostanceError(f"{directory}: no such model directory")
    if not path.is_file():
        raise DiplostanceError(f"{directory}: not a diplostance model directory (no {CONFIG_FILE})")
    try:
        meta = json.loads(path.read_text())["diplostance"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise DiplostanceError(f"{path}: not a diplostance model config (no 'diplostance' block)") from None
    if list(meta.get("labels", [])) != list(LABELS):
        raise DiplostanceError(f"{path}: model labels {meta.get('labels')} differ from {list(LABELS)}")
    return meta
