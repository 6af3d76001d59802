import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEV_FILE = SHARED / "dev" / "dev.jsonl"
CORPUS_DIR = SHARED / "corpus"


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture
def require_dev():
    if not DEV_FILE.is_file():
        pytest.skip(f"{DEV_FILE} is absent (the shared dev set is read at run time, never committed)")
    return DEV_FILE


@pytest.fixture
def require_corpus():
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"{CORPUS_DIR} is absent (the shared corpus is read at run time, never committed)")
    return CORPUS_DIR
