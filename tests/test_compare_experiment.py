"""The model comparison runner (experiments.compare, `make compare`) end to end on a tiny random
BERT and a small document sample: every run and model is reported, and a re-run resumes."""

import json
import random

import pytest

from data.bundled import load_bundled
from experiments.compare import Comparison
from models.config import TrainConfig
from test_transformer_models import _tiny_bert


@pytest.mark.slow
def test_comparison_reports_every_model_and_resumes(tmp_path):
    rows = load_bundled()
    docs = sorted({r["doc_id"] for r in rows})
    keep = set(random.Random(0).sample(docs, 60))
    rows = [r for r in rows if r["doc_id"] in keep or r["source"] == "seed"]
    bert = tmp_path / "bert"
    bert.mkdir()
    config = TrainConfig(base_model=_tiny_bert(bert), max_length=32, epochs=1, threshold_folds=2, char_ngrams=False)
    dev = [r for r in rows if r["source"] == "seed"][:40]
    lines = []
    c = Comparison(tmp_path / "out", dev, folds=2, n_bootstrap=20, config=config, rows=rows, progress=lines.append)
    c.save()
    c.run_dev(tmp_path / "out" / "models")
    c.run_cross()
    c.run_cv()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(report["runs"]) == {"dev", "cross: communiqués -> UN speeches", "cross: UN speeches -> communiqués",
                                   "cv (2 grouped folds, real)"}
    for run in report["runs"].values():
        assert set(run["models"]) == {"tfidf", "finetune", "ensemble"}
        for m in run["models"].values():
            assert 0 <= m["summary"]["macro_f1"] <= 1 and 0 <= m["ece_raw"]["mean"] <= 1
    assert report["runs"]["dev"]["models"]["finetune"]["sentences_per_second"] > 0
    assert (tmp_path / "out" / "models" / "finetune" / "model.safetensors").is_file()
    md = (tmp_path / "out" / "report.md").read_text()
    assert md.count("| dev |") == 3
    again = Comparison(tmp_path / "out", dev, folds=2, n_bootstrap=20, config=config, rows=rows, progress=lines.append)
    n = len(lines)
    again.run_dev(None)
    again.run_cross()
    again.run_cv()
    assert len(lines) == n  # everything was already done: nothing re-trained
