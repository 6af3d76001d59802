from data.bundled import load_bundled, load_seed_rows
from evaluation.harness import leave_one_article_out
from models.config import TrainConfig


def test_leave_one_article_out_tests_every_seed_sentence_once_in_its_own_fold():
    seeds = load_seed_rows()
    authored = [r for r in load_bundled(include_authored=True) if r["source"] == "authored"][:60]
    result = leave_one_article_out(TrainConfig(arch="tfidf", char_ngrams=False), seeds, authored, n_bootstrap=20)
    tested = [r["id"] for r in result.rows]
    assert sorted(tested) == sorted(r["id"] for r in seeds)  # each seed once, authored never
    assert all(r["fold"] == r["doc_id"] for r in result.rows)  # tested only in its own article's fold
    assert result.info["folds"] == sorted({r["doc_id"] for r in seeds})
    assert result.scores.shape == (len(seeds), 3)
