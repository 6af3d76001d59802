"""The retraining loop: ingest -> select -> label (Label Studio or JSONL) -> train --data -> compare."""

import json
from pathlib import Path

import numpy as np
import pytest

from data.errors import DataError
from diplostance.ingest import select_diverse, select_uncertain
from data.labelstudio import read_export, to_task
from tests.conftest import run_cli, write_jsonl

FIXTURES = Path(__file__).parent / "fixtures"


run = run_cli


@pytest.fixture
def seed_model(seed_tfidf_model):
    return seed_tfidf_model


def _rows(uncertainties, docs):
    return [{"id": f"{d}:{i}", "doc_id": d, "text": f"s{i}", "uncertainty": u, "boilerplate": ""}
            for i, (u, d) in enumerate(zip(uncertainties, docs))]


def test_uncertain_picks_the_sentences_closest_to_a_threshold():
    rows = _rows([0.2, 0.99, 0.5, 0.97], ["a", "a", "b", "b"])
    rows.append({**rows[1], "id": "a:x", "uncertainty": 1.0, "boilerplate": "dateline"})
    assert [r["id"] for r in select_uncertain(rows, 2)] == ["a:1", "b:3"]  # boilerplate never chosen


def test_diverse_spreads_over_documents_and_space():
    vecs = {"s0": [1, 0], "s1": [0.99, 0.14], "s2": [0, 1], "s3": [-1, 0], "s4": [0.98, 0.2], "s5": [0.97, 0.24]}
    rows = _rows([0.9, 0.8, 0.1, 0.2, 0.3, 0.4], ["a", "a", "b", "c", "a", "a"])
    embed = lambda texts: np.array([vecs[t] for t in texts], dtype=float)
    chosen = select_diverse(rows, 3, embed)
    assert chosen[0]["id"] == "a:0"  # starts from the most uncertain
    assert {r["doc_id"] for r in chosen} == {"a", "b", "c"}  # one per document while others remain


def test_labelstudio_export_is_read_like_label_studio_writes_it():
    rows, counts = read_export(FIXTURES / "labelstudio_export.json")
    assert counts == {"tasks": 4, "labelled": 3, "unlabelled": 1, "cancelled": 1}
    assert [(r["id"], r["labels"]) for r in rows] == [
        ("readout-07:004", ["commitment", "project_pledge"]),
        ("readout-07:005", ["support_declaration"]),
        ("readout-07:006", []),
    ]


def test_labelstudio_unknown_choice_is_an_error(tmp_path):
    tasks = json.loads((FIXTURES / "labelstudio_export.json").read_text())
    tasks[0]["annotations"][0]["result"][0]["value"]["choices"] = ["promise"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    with pytest.raises(DataError, match=r"export.json: task 101: unknown choice 'promise'"):
        read_export(path)


def test_tasks_carry_suggestions_as_pre_annotations():
    task = to_task({"id": "d:001", "doc_id": "d", "sent_idx": 1, "text": "We will build it.",
                    "labels": ["commitment"], "uncertainty": 0.4}, "tfidf:abc")
    (pred,) = task["predictions"]
    assert pred["result"][0]["value"]["choices"] == ["commitment"] and pred["model_version"] == "tfidf:abc"
    assert task["data"]["text"] == "We will build it."


def test_labelstudio_round_trip_through_the_cli(seed_model, tmp_path):
    doc = tmp_path / "note.txt"
    doc.write_text("Brazil is ready to fund the Manaus river port. The ministers met on Friday.\n")
    r = run("ingest", doc, "--model", seed_model, "--output", tmp_path / "tasks.json", "--format", "labelstudio",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert [t["data"]["text"] for t in tasks] == ["Brazil is ready to fund the Manaus river port.",
                                                  "The ministers met on Friday."]
    # a person accepts the first suggestion set and marks the second as none
    export = [{**t, "id": i, "annotations": [{"id": i, "result": [
        {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": ["commitment", "project_pledge"]}}
    ] if i == 0 else [], "was_cancelled": False, "updated_at": "2026-11-20T10:00:00Z"}]} for i, t in enumerate(tasks)]
    (tmp_path / "export.json").write_text(json.dumps(export))
    r = run("import-labelstudio", tmp_path / "export.json", "--output", tmp_path / "labelled.jsonl", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in (tmp_path / "labelled.jsonl").read_text().splitlines()]
    assert [r["labels"] for r in rows] == [["commitment", "project_pledge"], []]
    assert rows[0]["id"] == "note:000"


def test_train_with_data_records_provenance_and_rejects_bad_files(seed_model, tmp_path):
    good = write_jsonl(tmp_path / "new.jsonl", [
        {"id": "n:1", "text": "Chile will open a lithium research institute in Antofagasta.", "labels": ["commitment", "project_pledge"]},
        {"id": "n:2", "text": "The envoy arrived in Santiago.", "labels": []},
    ])
    r = run("train", "--arch", "tfidf", "--no-authored", "--no-real", "--data", good, "--output", tmp_path / "new", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "new" / "config.json").read_text())["diplostance"]["training_data"]
    assert meta["source_counts"] == {"seed": 93, "new": 2}
    assert meta["files"][0]["rows"] == 2 and len(meta["files"][0]["sha256"]) == 64
    card = (tmp_path / "new" / "README.md").read_text()
    assert "new.jsonl" in card and "Intended use" in card

    conflict = write_jsonl(tmp_path / "conflict.jsonl", [
        {"id": "c:1", "text": "The envoy arrived in Santiago.", "labels": ["commitment"]},
    ])
    r = run("train", "--arch", "tfidf", "--no-authored", "--no-real", "--data", good, "--data", conflict, "--output",
            tmp_path / "bad", cwd=tmp_path)
    assert r.returncode == 2 and "conflict.jsonl:1: conflicting labels" in r.stderr
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_compare_reports_differences_and_flips(seed_model, tmp_path):
    r = run("train", "--arch", "tfidf", "--output", tmp_path / "new", cwd=tmp_path)  # + authored data
    assert r.returncode == 0, r.stderr
    data = write_jsonl(tmp_path / "eval.jsonl", [
        {"id": "e:1", "text": "Chile is ready to finance the Atacama solar plant.", "labels": ["commitment", "project_pledge"]},
        {"id": "e:2", "text": "Chile firmly supports Peru's candidacy.", "labels": ["support_declaration"]},
        {"id": "e:3", "text": "The two sides should deepen trade.", "labels": []},
        {"id": "e:4", "text": "Trade grew by a fifth last year.", "labels": []},
    ])
    r = run("compare", seed_model, tmp_path / "new", "--data", data, "--output", tmp_path / "cmp", "--bootstrap", 50,
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    result = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert set(result["difference"]["macro"]["f1"]) == {"difference", "ci"}
    # a seeds-only model and a seeds+authored model disagree on some of these sentences
    assert result["flips"], "the two models made the same decisions everywhere"
    for flip in result["flips"]:
        assert flip["change"] == ("fixed" if flip["new"] == flip["gold"] else "broken")
        assert flip["old"] != flip["new"]
    assert "Flipped decisions" in (tmp_path / "cmp" / "comparison.md").read_text()


@pytest.mark.slow
def test_loop_end_to_end_on_real_communiques(require_corpus, seed_model, tmp_path):
    docs = sorted((require_corpus / "communiques" / "whitehouse").glob("*.txt"))[:2]
    r = run("ingest", *docs, "--model", seed_model, "--output", tmp_path / "picked.jsonl", "--select", "uncertain",
            "--n", "12", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    picked = [json.loads(line) for line in (tmp_path / "picked.jsonl").read_text().splitlines()]
    assert len(picked) == 12 and {p["doc_id"] for p in picked} <= {d.stem for d in docs}
    assert all(set(p) >= {"id", "doc_id", "sent_idx", "text", "labels", "scores", "source_file"} for p in picked)
    # the "researcher" edits labels: here, flips each suggestion for commitment
    for p in picked:
        p["labels"] = sorted(set(p["labels"]) ^ {"commitment"})
    write_jsonl(tmp_path / "edited.jsonl", picked)
    r = run("train", "--arch", "tfidf", "--no-authored", "--no-real", "--data", tmp_path / "edited.jsonl", "--output",
            tmp_path / "retrained", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run("compare", seed_model, tmp_path / "retrained", "--data", tmp_path / "edited.jsonl",
            "--output", tmp_path / "cmp", "--bootstrap", 50, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    result = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert result["n"] == 12


def test_edited_text_that_no_longer_matches_its_id_is_rejected(seed_model, tmp_path):
    doc = tmp_path / "brief.txt"
    doc.write_text("Kenya will build the Lamu fish market. The minister left on Sunday.\n")
    r = run("ingest", doc, "--model", seed_model, "--output", tmp_path / "picked.jsonl", "--select", "all", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in (tmp_path / "picked.jsonl").read_text().splitlines()]
    rows[1]["text"] = "The minister stayed until Monday."  # edited in a text editor by mistake
    write_jsonl(tmp_path / "edited.jsonl", rows)
    r = run("train", "--arch", "tfidf", "--no-authored", "--no-real", "--data", tmp_path / "edited.jsonl", "--output",
            tmp_path / "m", cwd=tmp_path)
    assert r.returncode == 2
    assert "edited.jsonl:2: text of brief:001 no longer matches sentence 1 of brief" in r.stderr


def test_data_weight_repeats_only_the_new_rows(tmp_path):
    from training.train import gather_training_rows

    path = write_jsonl(tmp_path / "new.jsonl", [
        {"id": "n:1", "text": "Chile will open a lithium institute.", "labels": ["commitment", "project_pledge"]},
    ])
    rows, files = gather_training_rows([path], authored=False, data_weight=3)
    extra = [r for r in rows if r["source"] == "new"]
    assert len(extra) == 3 and len({r["id"] for r in extra}) == 3 and {r["doc_id"] for r in extra} == {"n"}
    assert sum(r["source"] == "seed" for r in rows) == 93 and files[0]["weight"] == 3
