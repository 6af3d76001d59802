"""The fast scoring path (issue 14): token-count batching, the bf16 runtime that `auto` picks on
CPUs with native bfloat16, and the reader process that splits the next documents while the
model scores. Exactness: the fast path's label sets against the torch float32 model of the
shipped default, on the dev sentences and on UN speeches (read from ../shared at run time)."""

import json

import numpy as np
import pytest

from data.bundled import load_bundled
from data.records import texts_and_targets
from diplostance import scoring
from diplostance.scoring import prefetched
from models.config import TrainConfig
from models.encoder import pad_batch, token_budget_batches
from models.registry import build_model, load_model
from test_transformer_models import ROWS, _tiny_bert

from conftest import DEV_FILE, write_jsonl

SHIPPED = "models/default"


# ---- batching --------------------------------------------------------------------------------
def test_token_budget_batches_cover_every_sentence_once_within_the_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 129, size=500).tolist()
    batches = list(token_budget_batches(lengths, max_tokens=1000, max_sentences=40))
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(500))
    for b in batches:
        assert len(b) <= 40
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 1000
    # sorted by length: short sentences share big batches
    assert len(batches[0]) > len(batches[-1])


def test_pad_batch_pads_to_a_multiple_with_the_pad_id():
    encoded = {"input_ids": [[5, 6, 7], [8]], "attention_mask": [[1, 1, 1], [1]], "token_type_ids": [[0, 0, 0], [0]]}
    out = pad_batch(encoded, [1, 0], pad_id=0, multiple=8)
    assert out["input_ids"].shape == (2, 8) and out["input_ids"].dtype == np.int64
    assert out["input_ids"][0].tolist() == [8] + [0] * 7
    assert out["attention_mask"].sum() == 4


@pytest.fixture(scope="module")
def tiny_finetune(tmp_path_factory):
    bert = _tiny_bert(tmp_path_factory.mktemp("bert"), initializer_range=0.3)
    texts, Y, groups = texts_and_targets(ROWS)
    model = build_model(TrainConfig(arch="finetune", base_model=bert, max_length=48, epochs=1, threshold_folds=3,
                                    learning_rate=1e-6))
    model.fit(texts, Y, groups)
    return model.save(tmp_path_factory.mktemp("model") / "finetune"), texts


def test_token_batching_gives_the_scores_of_fixed_batches(tiny_finetune):
    directory, texts = tiny_finetune
    model = load_model(directory)
    fixed = model.predict_proba(texts, 16)
    assert fixed.std(axis=0).min() > 0.02  # scores that differ between sentences
    np.testing.assert_allclose(model.predict_proba(texts), fixed, atol=1e-5)
    np.testing.assert_allclose(model.predict_proba(texts, 1), fixed, atol=1e-5)


def test_bf16_runtime_keeps_the_labels_and_thresholds(tiny_finetune):
    directory, texts = tiny_finetune
    fp32, bf16 = load_model(directory), load_model(directory, runtime="bf16")
    assert bf16.runtime_ == "bf16" and list(bf16.thresholds_) == list(fp32.thresholds_)
    P, Q = fp32.predict_proba(texts), bf16.predict_proba(texts)
    np.testing.assert_allclose(Q, P, atol=0.05)
    clear = np.abs(P - fp32.thresholds_) > 0.05  # decisions further from the threshold than bf16 moves scores
    np.testing.assert_array_equal(bf16.predict(texts)[clear], fp32.predict(texts)[clear])
    # a sentence scored near a threshold is scored again in float32
    from models.finetune import RECHECK_MARGIN

    bf16.recheck_, raw = None, bf16.predict_proba(texts)
    near = (np.abs(raw - fp32.thresholds_) < RECHECK_MARGIN).any(axis=1)
    assert near.any() and (~near).any()
    np.testing.assert_allclose(Q[near], P[near], atol=1e-5)
    np.testing.assert_array_equal(Q[~near], raw[~near])


def test_auto_runtime_resolves_by_arch_and_cpu(tiny_finetune, seed_tfidf_model):
    from models.finetune import FinetuneModel, cpu_has_native_bf16

    directory, _ = tiny_finetune
    assert load_model(directory, runtime="auto").runtime_ == ("bf16" if cpu_has_native_bf16() else "torch")
    assert FinetuneModel.auto_runtime() in FinetuneModel.runtimes
    assert load_model(seed_tfidf_model, runtime="auto").runtime_ == "torch"


# ---- the reader process -------------------------------------------------------------------------
def _reader(files, on_error="skip", group_sentences=4):
    from diplostance.reader import Reader, rows_preparer

    return Reader(tuple(files), "text", "id", 0, on_error, True, group_sentences, rows_preparer(True))


def _docs(n):
    return [{"id": f"d{i}", "text": f"The ministers met on day {i}. Both sides will build a railway."} for i in range(n)]


def test_reader_process_gives_the_groups_of_reading_in_turn(tmp_path):
    src = write_jsonl(tmp_path / "docs.jsonl", _docs(20)[:7] + ["{not json"] + _docs(20)[7:])
    reader = _reader([src])
    in_turn = list(prefetched(reader, 0))
    ahead = list(prefetched(reader, 2))
    assert len(in_turn) > 3 and ahead == in_turn
    assert sum(units for _, _, units, _ in ahead) == 21 and sum(len(p) for _, p, _, _ in ahead) == 1


def test_reader_process_error_is_raised_after_the_groups_before_it(tmp_path):
    from data.errors import DataError

    src = write_jsonl(tmp_path / "docs.jsonl", _docs(20)[:12] + ["{not json"] + _docs(20)[12:])
    seen = 0
    with pytest.raises(DataError, match=r"docs\.jsonl:13"):
        for group, _, _, _ in prefetched(_reader([src], on_error="fail"), 2):
            seen += len(group)
    assert seen == 12


def test_reader_process_stops_when_the_consumer_leaves(tmp_path):
    import multiprocessing

    src = write_jsonl(tmp_path / "docs.jsonl", _docs(2000))
    for _ in prefetched(_reader([src]), 2):
        break
    assert not [p for p in multiprocessing.active_children() if p.name == "diplostance-reader"]


def test_reader_process_runs_only_where_the_model_leaves_a_core_idle(tiny_finetune, seed_tfidf_model, monkeypatch):
    import torch

    from diplostance.engines import LocalEngine

    directory, _ = tiny_finetune
    finetune, tfidf = LocalEngine(load_model(directory)), LocalEngine(load_model(seed_tfidf_model))
    assert finetune.model.inference_threads() == torch.get_num_threads()
    assert tfidf.model.inference_threads() == 1
    monkeypatch.setattr(scoring.os, "cpu_count", lambda: torch.get_num_threads())
    assert scoring.reader_depth(finetune) == 0  # the model on every core: read in turn
    assert scoring.reader_depth(tfidf) == (scoring.PREFETCH_GROUPS if torch.get_num_threads() > 1 else 0)
    monkeypatch.setattr(scoring.os, "cpu_count", lambda: 1)
    assert scoring.reader_depth(tfidf) == 0  # one core: nothing to overlap with


def test_scoring_with_and_without_the_reader_process_writes_identical_rows(seed_tfidf_model, tmp_path, monkeypatch):
    docs = [{"id": f"d{i}", "text": "The ministers met in Astana. Both sides will build a new railway. "
             f"They reaffirmed support for the charter ({i})."} for i in range(300)]
    src = write_jsonl(tmp_path / "docs.jsonl", docs[:150] + ["{not json"] + docs[150:])
    model = load_model(seed_tfidf_model)
    outputs = []
    for depth in (0, 2):
        monkeypatch.setattr(scoring, "reader_depth", lambda engine, depth=depth: depth)
        out = tmp_path / f"out{depth}.jsonl"
        state = scoring.score_archive(model, str(seed_tfidf_model), [src], out,
                                      scoring.ScoreOptions(quiet=True, group_sentences=64))
        assert state["documents"] == 300 and state["skipped"] == 1
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


# ---- exactness of the default fast path on real text -------------------------------------------
def _un_sample(n=600):
    from benchmarks.throughput import read_speeches, sample_sentences

    return sample_sentences(read_speeches(), n)  # sessions 77-79: read at run time, never stored


@pytest.fixture(scope="module")
def shipped_pair():
    return load_model(SHIPPED), load_model(SHIPPED, runtime="auto"), load_model(SHIPPED, runtime="bf16")


@pytest.mark.parametrize("source", ["dev", "un"])
def test_fast_path_label_sets_match_float32_on_real_sentences(shipped_pair, source):
    if source == "dev":
        if not DEV_FILE.is_file():
            pytest.skip(f"{DEV_FILE} is absent")
        texts = [json.loads(line)["text"] for line in DEV_FILE.read_text(encoding="utf-8").splitlines() if line]
    else:
        from benchmarks.throughput import UNGD

        if not UNGD.is_file():
            pytest.skip(f"{UNGD} is absent")
        texts = _un_sample()
    reference, auto, bf16 = shipped_pair
    expected = reference.predict(texts, 16)  # torch float32, fixed batches: the reference
    for fast in (auto, bf16):
        same = (fast.predict(texts) == expected).all(axis=1)
        assert same.mean() >= 0.99, f"{fast.runtime_}: {int((~same).sum())} of {len(texts)} label sets differ"


def test_seed_sentences_keep_their_labels_on_the_fast_path(shipped_pair):
    reference, auto, _ = shipped_pair
    texts = [r["text"] for r in load_bundled(include_authored=False, include_real=False)]
    np.testing.assert_array_equal(auto.predict(texts), reference.predict(texts, 16))
