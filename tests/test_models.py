import numpy as np
import pytest

from data.bundled import load_bundled
from data.errors import DiplostanceError
from data.records import texts_and_targets
from models.config import TrainConfig
from models.registry import build_model, load_model

ROWS = load_bundled(include_authored=False, include_real=False)


@pytest.fixture(scope="module")
def tfidf_model():
    from training.train import train_model

    return train_model(TrainConfig(arch="tfidf"), ROWS)


def test_probabilities_have_one_column_per_label(tfidf_model):
    P = tfidf_model.predict_proba(["China will build a railway.", "The weather was fine."])
    assert P.shape == (2, 3) and ((P >= 0) & (P <= 1)).all()
    assert tfidf_model.predict_proba([]).shape == (0, 3)


def test_thresholds_are_chosen_out_of_fold(tfidf_model):
    from models.base import grouped_out_of_fold
    from models.heads import fit_heads, heads_proba
    from models.thresholds import choose_thresholds

    texts, Y, groups = texts_and_targets(ROWS)
    Y_held, P_held = tfidf_model.heldout_
    # the held-out matrix is what grouped folds over the documents give, not in-sample scores
    X = tfidf_model.features_.transform(texts)
    expected = grouped_out_of_fold(lambda tr, te: heads_proba(*fit_heads(X[tr], Y[tr], 4.0), X[te]), Y, groups, 5)
    np.testing.assert_allclose(P_held, expected)
    in_sample = tfidf_model.predict_proba(texts)
    assert np.abs(P_held - in_sample).mean() > 0.05
    np.testing.assert_array_equal(tfidf_model.thresholds_, choose_thresholds(Y_held, P_held))
    assert not np.array_equal(tfidf_model.thresholds_, choose_thresholds(Y, in_sample))


def test_an_unfitted_model_refuses_to_predict():
    model = build_model(TrainConfig(arch="tfidf"))
    assert not hasattr(model, "thresholds_")
    with pytest.raises(DiplostanceError, match="not fitted"):
        model.predict_proba(["text"])


def test_thresholds_need_two_documents_and_groups_default_to_sentences():
    texts, Y, _ = texts_and_targets(ROWS)
    with pytest.raises(DiplostanceError, match="at least two documents"):
        build_model(TrainConfig(arch="tfidf")).fit(texts, Y, ["one"] * len(texts))
    model = build_model(TrainConfig(arch="tfidf", char_ngrams=False)).fit(texts, Y)
    assert model.heldout_[1].shape == Y.shape


def test_save_load_gives_identical_predictions(tfidf_model, tmp_path):
    texts = [r["text"] for r in ROWS]
    tfidf_model.training_data_ = {"rows": len(ROWS)}
    tfidf_model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(texts), tfidf_model.predict_proba(texts))
    np.testing.assert_array_equal(loaded.thresholds_, tfidf_model.thresholds_)
    assert not list(tmp_path.glob(".m.partial*")), "temporary save directory left behind"
    card = (tmp_path / "m" / "README.md").read_text()
    assert card.startswith("# diplostance model (tfidf)")
    assert "Held-out scores at these thresholds (93 training sentences" in card
    assert loaded.heldout_metrics_["macro"]["f1"] == tfidf_model.heldout_metrics_["macro"]["f1"] > 0


def test_config_records_provenance(tfidf_model, tmp_path):
    import json

    tfidf_model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "config.json").read_text())["diplostance"]
    assert meta["arch"] == "tfidf" and meta["labels"] == ["commitment", "support_declaration", "project_pledge"]
    assert set(meta["library_versions"]) >= {"python", "torch", "transformers", "scikit-learn", "skops"}
    assert not any(p.suffix in {".pkl", ".pickle", ".joblib"} for p in (tmp_path / "m").iterdir())


def test_same_seed_same_probabilities():
    texts, Y, groups = texts_and_targets(ROWS)
    a = build_model(TrainConfig(seed=3)).fit(texts, Y, groups)
    b = build_model(TrainConfig(seed=3)).fit(texts, Y, groups)
    np.testing.assert_array_equal(a.predict_proba(texts[:10]), b.predict_proba(texts[:10]))


def test_loading_a_wrong_directory_is_a_clear_error(tmp_path):
    with pytest.raises(DiplostanceError, match="no such model directory"):
        load_model(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DiplostanceError, match="not a diplostance model directory"):
        load_model(tmp_path / "empty")
