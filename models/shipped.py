"""The trained default model that ships inside the project (``models/default/``).

It is an ordinary saved model directory plus ``manifest.json``: the sha256 and size of every
file, the training command, the training-data fingerprint and the library versions, so that a
clone can check that what it loads is what was published (``verify``), and tell whether the
bundled data has changed since it was trained (``staleness``). ``export`` makes one from a
trained model directory: finetune weights are stored in float16 (half the bytes; they are cast
back to float32 when loaded, so inference runs as before) and everything else is copied as is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from data.errors import DiplostanceError

SHIPPED_DIR = Path(__file__).resolve().parent / "default"
MANIFEST = "manifest.json"
SIZE_BUDGET_BYTES = 60 * 2**20
TRAIN_COMMAND = "make train  (diplostance train --output artifacts/models/default)"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


def verify(directory: Path = SHIPPED_DIR) -> dict:
    """The manifest, after checking every file's sha256 against it; DiplostanceError naming the
    first file that is missing, extra or changed."""
    path = directory / MANIFEST
    if not path.is_file():
        raise DiplostanceError(f"{directory}: no {MANIFEST}; not a shipped model (export one with models.shipped.export)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        recorded = manifest["files"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise DiplostanceError(f"{path}: not a valid manifest") from None
    present = {p.relative_to(directory).as_posix() for p in model_files(directory)}
    for name in sorted(set(recorded) | present):
        if name not in present:
            raise DiplostanceError(f"{directory / name}: listed in {MANIFEST} but missing")
        if name not in recorded:
            raise DiplostanceError(f"{directory / name}: not listed in {MANIFEST}")
        if file_sha256(directory / name) != recorded[name]["sha256"]:
            raise DiplostanceError(f"{directory / name}: sha256 differs from {MANIFEST} (the file was changed or truncated)")
    return manifest


def staleness(directory: Path = SHIPPED_DIR, current_sha256: str | None = None) -> str | None:
    """None when the model was trained on the current bundled data, else a one-line warning."""
    if current_sha256 is None:
        from data.bundled import load_bundled
        from data.records import rows_hash

        current_sha256 = rows_hash(load_bundled())
    from models.base import read_model_metadata

    trained_on = read_model_metadata(directory).get("training_data", {}).get("sha256", "")
    if trained_on == current_sha256:
        return None
    return (f"{directory} was trained on data {trained_on[:12]}, but the bundled data is now {current_sha256[:12]}: "
            "the model is stale; run `make train` to retrain it on the current data")


def _half_precision_copy(src: Path, dst: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    tensors = {k: (v.to(torch.float16) if v.is_floating_point() else v) for k, v in load_file(src).items()}
    save_file(tensors, dst, metadata={"format": "pt"})


def export(source: Path, target: Path = SHIPPED_DIR, half: bool = True, extra: dict | None = None) -> dict:
    """Copy the trained model in ``source`` to ``target`` (weights in float16 when ``half``),
    write the manifest, and refuse a result over the 60 MB budget. Returns the manifest."""
    from models.base import check_model_output, read_model_metadata
    from models.provenance import library_versions

    meta = read_model_metadata(source)
    check_model_output(target)
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    for weights in tmp.rglob("model.safetensors"):
        if half:
            _half_precision_copy(source / weights.relative_to(tmp), weights)
    files = {p.relative_to(tmp).as_posix(): {"sha256": file_sha256(p), "bytes": p.stat().st_size} for p in model_files(tmp)}
    total = sum(f["bytes"] for f in files.values())
    if total > SIZE_BUDGET_BYTES:
        shutil.rmtree(tmp)
        raise DiplostanceError(f"{source}: {total / 2**20:.1f} MB once exported, over the {SIZE_BUDGET_BYTES // 2**20} MB budget")
    manifest = {
        "arch": meta["arch"],
        "weights_dtype": "float16" if half else "float32",
        "training_data_sha256": meta.get("training_data", {}).get("sha256"),
        "training_rows": meta.get("training_data", {}).get("rows"),
        "training_command": TRAIN_COMMAND,
        "training_config": meta.get("training_config"),
        "thresholds": meta.get("thresholds"),
        "library_versions_at_training": meta.get("library_versions"),
        "library_versions_at_export": library_versions(),
        "total_bytes": total,
        "files": files,
        **(extra or {}),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    from data.atomic import swap_directory

    swap_directory(tmp, target)
    return manifest


def seed_check(model) -> dict:
    """What the model predicts for the labelled seed sentences (rows it was trained on, so a
    reproducibility check, not a held-out figure): a test reloads the shipped model and
    expects exactly these counts."""
    from data.bundled import load_seed_rows
    from data.records import texts_and_targets

    texts, Y, _ = texts_and_targets(load_seed_rows())
    predicted = model.predict(texts)
    return {"sentences": len(texts), "identical_label_sets": int((predicted == Y).all(1).sum()),
            "predicted_per_label": predicted.sum(0).tolist()}


def ship(source: Path, target: Path = SHIPPED_DIR, half: bool = True) -> dict:
    """Export ``source`` as the shipped model and record its seed check (measured on the
    exported weights, as they will be loaded)."""
    from models.registry import load_model

    export(source, target, half)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    manifest["seed_check"] = seed_check(load_model(target))
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest
