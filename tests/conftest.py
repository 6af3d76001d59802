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


def run_cli(*args, cwd):
    """Run `diplostance ARGS...` in a subprocess, as a user would."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "diplostance.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)


@pytest.fixture(scope="session")
def seed_tfidf_model(tmp_path_factory):
    """A tfidf model trained through the CLI on the seed articles only (fast), shared by tests."""
    tmp = tmp_path_factory.mktemp("seed-tfidf")
    r = run_cli("train", "--arch", "tfidf", "--no-authored", "--no-real", "--output", tmp / "model", cwd=tmp)
    assert r.returncode == 0, r.stderr
    return tmp / "model"
