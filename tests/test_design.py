"""The design contracts: layers, the model template, leakage invariants, the CLI over the typed
config, and packaging."""

import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_cli, write_jsonl
from data.bundled import load_seed_rows
from data.records import rows_hash, texts_and_targets
from models.config import TrainConfig

SEED_ROWS_SHA256 = "f6e7c9ff03e7795140e30ae84d7585f9b461d93015d246970b9505164a502ea7"


def test_layers_only_point_down():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (it comes with the [dev] extra)")
    r = subprocess.run([str(lint), "--no-logo", "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout


def test_no_arch_leaves_a_hook_unimplemented():
    for path in (REPO / "models").glob("*.py"):
        assert "NotImplementedError" not in path.read_text(), path


def test_seed_rows_hash_is_pinned():
    # a change of splitter, labels or text moves this: it must be deliberate
    assert rows_hash(load_seed_rows()) == SEED_ROWS_SHA256


def _disjoint(train_idx, test_idx, groups):
    assert not {groups[i] for i in train_idx} & {groups[i] for i in test_idx}


def test_every_split_keeps_documents_whole():
    from models.base import grouped_out_of_fold
    from models.finetune_trainer import validation_split

    rows = load_seed_rows()
    _, Y, groups = texts_and_targets(rows)
    splits = []
    grouped_out_of_fold(lambda tr, te: splits.append((tr, te)) or np.zeros((len(te), 3)), Y, groups, 5)
    assert len(splits) == 5
    for tr, te in splits:
        _disjoint(tr, te, groups)
    for seed in range(5):
        _disjoint(*validation_split(groups, 0.2, seed), groups)


def test_leave_one_article_out_never_tests_on_a_training_document():
    from evaluation.harness import leave_one_article_out

    rows = load_seed_rows()
    seen = []
    import evaluation.harness as harness

    original = harness.build_model

    class Spy:
        def __init__(self, config):
            self.inner = original(config)

        def fit(self, texts, Y, groups):
            seen.append(set(groups))
            self.inner.fit(texts, Y, groups)
            self.thresholds_ = self.inner.thresholds_
            return self

        def predict_proba(self, texts):
            return self.inner.predict_proba(texts)

    harness.build_model = Spy
    try:
        result = leave_one_article_out(TrainConfig(arch="tfidf", char_ngrams=False), rows, n_bootstrap=10)
    finally:
        harness.build_model = original
    for trained_on, fold in zip(seen, result.info["folds"]):
        assert fold not in trained_on


def test_every_train_config_field_is_a_flag_with_its_help():
    from diplostance.cli import build_parser

    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    options = {opt: a for a in train._actions for opt in a.option_strings}
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        assert flag in options, flag
        assert f.metadata["help"] in options[flag].help
    args = parser.parse_args(["train", "--no-char-ngrams", "--target-precision", "0.9", "--epochs", "2"])
    from diplostance.cli import config_from_args

    config = config_from_args(args)
    assert (config.char_ngrams, config.target_precision, config.epochs) == (False, 0.9, 2)


def test_evaluate_cv_end_to_end(tmp_path):
    r = run_cli("evaluate", "--cv", "--arch", "tfidf", "--no-char-ngrams", "--no-authored", "--no-real",
                "--bootstrap", "20", "--output", tmp_path / "cv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "cv" / "report.json").read_text())
    assert report["kind"] == "leave-one-article-out" and report["n_sentences"] == len(load_seed_rows())
    assert len(report["thresholds"]) == 5


def test_select_arch_end_to_end(tmp_path):
    dev = write_jsonl(tmp_path / "dev.jsonl", [
        {"id": "d:1", "text": "Kenya is ready to build the Lamu port.", "labels": ["commitment", "project_pledge"]},
        {"id": "d:2", "text": "The meeting took place in Nairobi.", "labels": []},
        {"id": "d:3", "text": "Kenya supports Ghana's candidacy.", "labels": ["support_declaration"]},
    ])
    r = run_cli("compare-archs", "--archs", "tfidf", "--variants", "seeds", "--no-char-ngrams", "--dev", dev,
                "--bootstrap", "20", "--output", tmp_path / "sel", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    result = json.loads((tmp_path / "sel" / "selection.json").read_text())
    assert result["winner"]["arch"] == "tfidf" and result["runs"][0]["dev"]["n"] == 3
    assert "| seeds | tfidf |" in r.stdout


def test_target_precision_end_to_end(tmp_path):
    common = ("--arch", "tfidf", "--no-char-ngrams", "--no-real")
    r = run_cli("train", *common, "--output", tmp_path / "f1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("train", *common, "--target-precision", "0.9", "--output", tmp_path / "p90", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    f1, p90 = (json.loads((tmp_path / d / "config.json").read_text())["diplostance"] for d in ("f1", "p90"))
    assert p90["training_config"]["target_precision"] == 0.9
    for name in f1["thresholds"]:
        held = p90["heldout_metrics"][name]
        # the target is met on held-out data, or no threshold reached it and best F1 was kept
        assert held["precision"] >= 0.9 or p90["thresholds"][name] == f1["thresholds"][name]
    assert any(p90["heldout_metrics"][n]["precision"] > f1["heldout_metrics"][n]["precision"] for n in f1["thresholds"])


@pytest.mark.slow
def test_wheel_installs_and_builds_the_data_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(wheels), str(REPO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (wheel,) = wheels.glob("diplostance-*.whl")
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for shipped in ("data/annotations/seeds.jsonl", "data/agreement/second_reader.jsonl", "data/GUIDELINE.md",
                    "notebooks/error_analysis.ipynb", "labelstudio/config.xml"):
        assert (site / shipped).is_file(), shipped
    assert list(site.glob("data/real/*/sentences.jsonl")) and list(site.glob("data/real/*/reading_a.tsv"))
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import data, sys; from diplostance.cli import main; "
            "assert data.__file__.startswith(sys.argv[1]), data.__file__; "
            "sys.exit(main(['build-data', '--output', 'out']))")
    r = subprocess.run([sys.executable, "-c", code, str(site)], cwd=work, capture_output=True, text=True,
                       env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\d+ labelled sentences", r.stdout, re.M)
    assert (work / "out" / "bundled.jsonl").is_file() and (work / "out" / "hf" / "README.md").is_file()


def test_the_cli_starts_without_heavy_imports():
    code = ("import sys, diplostance.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('datasets', 'torch', 'transformers', 'sklearn') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
