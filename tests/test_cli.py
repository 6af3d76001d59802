"""The CLI end to end (train -> evaluate -> score) in a temp dir, and its error contract."""

import json

import pytest

from data.bundled import RAW_DIR
from tests.conftest import run_cli, write_jsonl


run = run_cli


@pytest.fixture
def trained(seed_tfidf_model):
    return seed_tfidf_model.parent


def test_train_evaluate_score(trained, tmp_path):
    data = write_jsonl(tmp_path / "eval.jsonl", [
        {"id": "e:1", "text": "China is willing to build the Nairobi rail hub.", "labels": ["commitment", "project_pledge"]},
        {"id": "e:2", "text": "The talks were held in Cairo.", "labels": []},
        {"id": "e:3", "text": "Egypt firmly supports the one-China principle.", "labels": ["support_declaration"]},
    ])
    r = run("evaluate", "--model", trained / "model", "--data", data, "--output", tmp_path / "ev", "--bootstrap", 50,
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "| commitment |" in r.stdout and "| macro |" in r.stdout
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    assert report["n_sentences"] == 3 and report["metrics"]["rows"]["commitment"]["support"] == 1
    preds = [json.loads(line) for line in (tmp_path / "ev" / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in preds] == ["e:1", "e:2", "e:3"] and set(preds[0]["scores"]) == {
        "commitment", "support_declaration", "project_pledge"}

    out = tmp_path / "scores.jsonl"
    r = run("score", *sorted(RAW_DIR.glob("*.txt")), "--model", trained / "model", "--output", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({row["doc_id"] for row in rows}) == 5
    assert all(set(row) >= {"doc_id", "sent_idx", "text", "scores", "labels"} for row in rows)
    assert sum("commitment" in row["labels"] for row in rows) > 5


def test_score_jsonl_no_split(trained, tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "d1", "text": "We will open a clinic. It is big.", "country": "KEN"}])
    out = tmp_path / "o.jsonl"
    r = run("score", inp, "--no-split", "--model", trained / "model", "--output", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["doc_id"] == "d1" and row["text"] == "We will open a clinic. It is big." and row["country"] == "KEN"


@pytest.mark.parametrize("case", ["missing_input", "bad_row", "wrong_model", "unknown_label"])
def test_user_mistakes_give_one_line_and_nonzero_exit(trained, tmp_path, case):
    out = tmp_path / "o.jsonl"
    if case == "missing_input":
        r = run("score", tmp_path / "nope.txt", "--model", trained / "model", "--output", out, cwd=tmp_path)
        expected = "nope.txt: no such file or directory"
    elif case == "bad_row":
        inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Fine."}, "{broken"])
        r = run("score", inp, "--model", trained / "model", "--output", out, "--on-error", "fail", cwd=tmp_path)
        expected = "in.jsonl:2: malformed JSON"
    elif case == "wrong_model":
        r = run("score", RAW_DIR / "000_605b4ee0f7fb2dfc.txt", "--model", tmp_path, "--output", out, cwd=tmp_path)
        expected = "not a diplostance model directory"
    else:
        data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "x", "labels": ["pledge"]}])
        r = run("evaluate", "--model", trained / "model", "--data", data, "--output", tmp_path / "ev", cwd=tmp_path)
        expected = "d.jsonl:1: unknown label 'pledge'"
    assert r.returncode == 2
    assert expected in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


@pytest.mark.slow
def test_error_analysis_notebook_executes_on_an_evaluation(trained, tmp_path):
    """The notebook runs every cell headless against a real evaluation directory."""
    import nbformat

    rows = [{"id": f"n:{i}", "text": t, "labels": l} for i, (t, l) in enumerate([
        ("China is willing to build the Mombasa rail terminal.", ["commitment", "project_pledge"]),
        ("The ministers met in Lima on Monday.", []),
        ("Peru firmly supports the one-China principle.", ["support_declaration"]),
        ("Both sides should deepen trade.", []),
        ("Kenya will continue to back the initiative of Ghana.", ["commitment", "support_declaration"]),
        ("The two leaders held talks.", []),
    ])]
    data = write_jsonl(tmp_path / "eval.jsonl", rows)
    assert run("evaluate", "--model", trained / "model", "--data", data, "--output", tmp_path / "ev",
               "--bootstrap", 30, cwd=tmp_path).returncode == 0
    out = tmp_path / "nb.ipynb"
    r = run("notebook", "--eval-dir", tmp_path / "ev", "--compare", tmp_path / "ev", "--output", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # figures were drawn


def test_stored_notebook_has_no_outputs():
    import nbformat

    from evaluation.notebook import NOTEBOOK

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("target", ["user_files", "parent", "file"])
def test_train_never_replaces_what_is_not_a_model(tmp_path, target):
    work = tmp_path / "work"
    work.mkdir()
    keep = work / "notes.txt"
    keep.write_text("mine")
    output = {"user_files": work, "parent": "..", "file": keep}[target]
    r = run("train", "--arch", "tfidf", "--no-authored", "--no-real", "--no-char-ngrams", "--output", output, cwd=work)
    assert r.returncode == 2 and ("refusing to replace it" in r.stderr or "is not a directory" in r.stderr), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert keep.read_text() == "mine" and (tmp_path / "work").is_dir()


def test_train_replaces_its_own_model_atomically(seed_tfidf_model, tmp_path):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(seed_tfidf_model, model)
    r = run("train", "--arch", "tfidf", "--no-authored", "--no-real", "--no-char-ngrams", "--output", model, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((model / "config.json").read_text())["diplostance"]["training_config"]["char_ngrams"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary or old copy left


@pytest.mark.parametrize("args, message", [
    (["train", "--threshold-folds", "1"], "threshold_folds must be at least 2"),
    (["train", "--epochs", "0"], "epochs must be at least 1"),
    (["train", "--target-precision", "1.5"], "target_precision must be in (0, 1]"),
    (["train", "--validation-share", "1"], "validation_share must be between 0 and 1"),
    (["evaluate", "--cv", "--bootstrap", "0"], "--bootstrap must be at least 1"),
    (["build-data", "--no-real", "--update-card"], "--update-card describes the whole bundled set"),
])
def test_bad_options_are_one_line_errors_before_any_work(tmp_path, args, message):
    r = run(*args, "--output", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_ingest_keeps_its_computed_ids_when_documents_carry_an_id_field(trained, tmp_path):
    docs = write_jsonl(tmp_path / "docs.jsonl", [{"doc": "X1", "id": "meta-id", "uncertainty": 9,
                                                  "text": "We will build a port. It rained. We support Chile."}])
    r = run("ingest", docs, "--model", trained / "model", "--id-field", "doc", "--select", "all",
            "--output", tmp_path / "o.jsonl", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == ["X1:000", "X1:001", "X1:002"]
    assert all(row["uncertainty"] <= 1 for row in rows)
