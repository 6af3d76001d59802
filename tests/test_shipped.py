"""The shipped default model: export with a manifest, verification, staleness, and the real
model in models/default/ (its manifest, thresholds and the seed-sentence check it records)."""

import json

import numpy as np
import pytest

from data.errors import DiplostanceError
from data.records import texts_and_targets
from diplostance.cli import main
from models import shipped
from models.config import TrainConfig
from models.registry import build_model, load_model
from test_transformer_models import ROWS, _tiny_bert


@pytest.fixture(scope="module")
def trained_tiny(tmp_path_factory):
    bert = _tiny_bert(tmp_path_factory.mktemp("bert"))
    texts, Y, groups = texts_and_targets(ROWS)
    model = build_model(TrainConfig(arch="finetune", base_model=bert, max_length=48, epochs=1, threshold_folds=3))
    model.fit(texts, Y, groups)
    model.training_data_ = {"sha256": "a" * 64, "rows": len(texts)}
    return model.save(tmp_path_factory.mktemp("model") / "finetune")


def test_export_halves_the_weights_and_keeps_the_decisions(trained_tiny, tmp_path):
    from safetensors import safe_open

    manifest = shipped.export(trained_tiny, tmp_path / "default")
    assert manifest["weights_dtype"] == "float16" and manifest["training_data_sha256"] == "a" * 64
    with safe_open(str(tmp_path / "default" / "model.safetensors"), "pt") as fh:
        assert all(str(fh.get_tensor(k).dtype) in ("torch.float16", "torch.int64") for k in fh.keys())
    texts = [r["text"] for r in ROWS]
    full, half = load_model(trained_tiny), load_model(tmp_path / "default")
    assert np.allclose(full.predict_proba(texts), half.predict_proba(texts), atol=5e-3)
    assert list(half.thresholds_) == list(full.thresholds_)
    assert shipped.verify(tmp_path / "default")["files"].keys() == manifest["files"].keys()


def test_verify_names_the_changed_missing_or_extra_file(trained_tiny, tmp_path):
    target = tmp_path / "default"
    shipped.export(trained_tiny, target)
    weights = target / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(DiplostanceError, match="model.safetensors: sha256 differs"):
        shipped.verify(target)
    weights.write_bytes(data)
    (target / "notes.txt").write_text("x")
    with pytest.raises(DiplostanceError, match="notes.txt: not listed"):
        shipped.verify(target)
    (target / "notes.txt").unlink()
    (target / "tokenizer.json").unlink()
    with pytest.raises(DiplostanceError, match="tokenizer.json: listed in manifest.json but missing"):
        shipped.verify(target)
    with pytest.raises(DiplostanceError, match="no manifest.json"):
        shipped.verify(trained_tiny)


def test_a_model_trained_on_other_data_is_reported_stale(trained_tiny, tmp_path, capsys):
    target = tmp_path / "default"
    shipped.export(trained_tiny, target)
    assert shipped.staleness(target, current_sha256="a" * 64) is None
    warning = shipped.staleness(target, current_sha256="b" * 64)
    assert "stale" in warning and "make train" in warning and "aaaaaaaaaaaa" in warning
    assert main(["verify-model", str(target)]) == 0  # the bundled data's hash is not "aaaa...": stale
    assert "warning:" in capsys.readouterr().out


def test_export_refuses_a_model_over_the_budget_and_leaves_nothing(trained_tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "SIZE_BUDGET_BYTES", 1000)
    with pytest.raises(DiplostanceError, match="over the"):
        shipped.export(trained_tiny, tmp_path / "default")
    assert list(tmp_path.iterdir()) == []


def test_export_never_replaces_a_directory_that_is_not_a_model(trained_tiny, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    with pytest.raises(DiplostanceError, match="not a diplostance model"):
        shipped.export(trained_tiny, tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "keep me"


needs_shipped = pytest.mark.skipif(not (shipped.SHIPPED_DIR / "manifest.json").is_file(),
                                   reason="no shipped model in models/default/")


@needs_shipped
def test_the_shipped_model_matches_its_manifest_and_its_recorded_seed_check():
    manifest = shipped.verify()
    model = load_model(shipped.SHIPPED_DIR)
    assert {k: float(v) for k, v in manifest["thresholds"].items()} == dict(zip(manifest["thresholds"], model.thresholds_))
    check = manifest["seed_check"]
    seeds = [r for r in ROWS if r["source"] == "seed"]
    texts, Y, _ = texts_and_targets(seeds)
    predicted = model.predict(texts)
    assert len(seeds) == check["sentences"]
    assert int((predicted == Y).all(1).sum()) == check["identical_label_sets"]
    assert json.dumps(predicted.sum(0).tolist()) == json.dumps(check["predicted_per_label"])


@pytest.mark.slow
def test_onnx_runtime_of_a_shipped_model_leaves_its_directory_as_listed(trained_tiny, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("DIPLOSTANCE_CACHE", str(tmp_path / "cache"))
    target = tmp_path / "default"
    shipped.export(trained_tiny, target)
    model = load_model(target, runtime="onnx-fp32")
    texts = [r["text"] for r in ROWS[:20]]
    assert np.allclose(model.predict_proba(texts), load_model(target).predict_proba(texts), atol=1e-3)
    shipped.verify(target)  # no export was written beside the listed files
    assert list((tmp_path / "cache" / "onnx").rglob("model.fp32.onnx"))
