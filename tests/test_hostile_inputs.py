"""Hostile but realistic mistakes, across every command (issue 13).

Each case asserts three things: the exit code (README "Exit codes"), the one-line message
(naming file and line where there is one, never a traceback), and the state left on disk:
nothing deleted or overwritten that the tool did not create, nothing half-written under a
final name, and never a stuck state that the next run refuses or crashes on.

Most cases call ``diplostance.cli.main`` in-process (fast); the kill -9 and overlapping-run
cases run real subprocesses and are marked slow.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.bundled import seed_documents
from diplostance import scoring
from diplostance.cli import main
from tests.conftest import write_jsonl

TEXTS = list(seed_documents().values())
LABELLED = [
    {"id": "h:1", "text": "China is willing to build the Nairobi rail hub.", "labels": ["commitment", "project_pledge"]},
    {"id": "h:2", "text": "The talks were held in Cairo.", "labels": []},
    {"id": "h:3", "text": "Egypt firmly supports the one-China principle.", "labels": ["support_declaration"]},
]


# ---- helpers --------------------------------------------------------------------------------
def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_error(result, code: int, *fragments: str) -> str:
    """Exit ``code``, exactly one `diplostance: error:` line containing every fragment, no traceback."""
    got, _, err = result
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("diplostance: error: ")]
    assert got == code and len(errors) == 1, (got, err)
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def tree(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root (the state on disk)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[str]:
    """Files a finished or refused run must not leave: partial spools, checkpoints, locks, temporaries."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and (".partial" in p.name or p.name.endswith(".lock")))


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def model(seed_tfidf_model):
    return seed_tfidf_model


@pytest.fixture
def docs(tmp_path) -> Path:
    """Three documents in a JSONL file, with metadata."""
    return write_jsonl(tmp_path / "docs.jsonl", [{"id": f"d{i}", "text": t, "country": "KEN"}
                                                 for i, t in enumerate(TEXTS[:3])])


@pytest.fixture
def labelled(tmp_path) -> Path:
    return write_jsonl(tmp_path / "labelled.jsonl", LABELLED)


@pytest.fixture
def lock_held_elsewhere():
    """Hold the lock of an output through a separate open file, as another process would."""
    held = []

    def hold(output: Path):
        lock = output.with_name(output.name + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = lock.open("w")
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write("4242\n")
        fh.flush()
        held.append(fh)
        return lock

    yield hold
    for fh in held:
        fh.close()


# ---- build-data -------------------------------------------------------------------------------
def test_build_data_output_is_a_file(capsys, tmp_path):
    target = tmp_path / "data.txt"
    target.write_text("mine")
    assert_error(cli(capsys, "build-data", "--no-real", "--output", target), 2, "data.txt", "not a directory")
    assert target.read_text() == "mine"


def test_build_data_output_under_a_file(capsys, tmp_path):
    (tmp_path / "f").write_text("mine")
    assert_error(cli(capsys, "build-data", "--no-real", "--output", tmp_path / "f" / "out"), 2, "is not a directory")
    assert tree(tmp_path) == {"f": hashlib.sha256(b"mine").hexdigest()}


def test_build_data_locked_output(capsys, tmp_path, lock_held_elsewhere):
    lock_held_elsewhere(tmp_path / "out")
    assert_error(cli(capsys, "build-data", "--no-real", "--output", tmp_path / "out"), 2,
                 "another diplostance run is writing this output", "4242")
    assert not (tmp_path / "out").exists()


# ---- import-labelstudio -----------------------------------------------------------------------
def _export(tmp_path, tasks, name="export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(tasks))
    return path


TASK = {"id": 7, "data": {"id": "ls:1", "text": "Peru supports the initiative."},
        "annotations": [{"result": [{"from_name": "stance", "value": {"choices": ["support_declaration"]}}]}]}


def test_import_labelstudio_missing_export(capsys, tmp_path):
    assert_error(cli(capsys, "import-labelstudio", tmp_path / "nope.json", "--output", tmp_path / "o.jsonl"), 2,
                 "nope.json", "no such file")
    assert not (tmp_path / "o.jsonl").exists()


def test_import_labelstudio_not_utf8(capsys, tmp_path):
    path = tmp_path / "export.json"
    path.write_bytes(b'[{"data": {"text": "caf\xe9"}}]\n')
    assert_error(cli(capsys, "import-labelstudio", path, "--output", tmp_path / "o.jsonl"), 2,
                 "export.json:1: undecodable bytes")
    assert not (tmp_path / "o.jsonl").exists()


def test_import_labelstudio_gzipped_export_is_read(capsys, tmp_path):
    path = tmp_path / "export.json.gz"
    path.write_bytes(gzip.compress(json.dumps([TASK]).encode()))
    code, out, err = cli(capsys, "import-labelstudio", path, "--output", tmp_path / "o.jsonl")
    assert code == 0, err
    assert jsonl(tmp_path / "o.jsonl")[0]["labels"] == ["support_declaration"]


def test_import_labelstudio_truncated_gzip(capsys, tmp_path):
    path = tmp_path / "export.json.gz"
    path.write_bytes(gzip.compress(json.dumps([TASK] * 50).encode())[:60])
    assert_error(cli(capsys, "import-labelstudio", path, "--output", tmp_path / "o.jsonl"), 2,
                 "export.json.gz", "truncated or corrupt gzip")


def test_import_labelstudio_malformed_json_names_the_line(capsys, tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[\n{"data": {"text": "x"}},\n{oops}\n]\n')
    assert_error(cli(capsys, "import-labelstudio", path, "--output", tmp_path / "o.jsonl"), 2,
                 "export.json:3: malformed JSON")


def test_import_labelstudio_not_a_list(capsys, tmp_path):
    path = _export(tmp_path, {"tasks": []})
    assert_error(cli(capsys, "import-labelstudio", path, "--output", tmp_path / "o.jsonl"), 2, "a list of tasks")


def test_import_labelstudio_region_not_an_object(capsys, tmp_path):
    path = _export(tmp_path, [{**TASK, "annotations": [{"result": ["commitment"]}]}])
    assert_error(cli(capsys, "import-labelstudio", path, "--output", tmp_path / "o.jsonl"), 2,
                 "export.json", "task 7", "not a Label Studio region")


def test_import_labelstudio_output_is_the_export(capsys, tmp_path):
    path = _export(tmp_path, [TASK])
    before = path.read_bytes()
    assert_error(cli(capsys, "import-labelstudio", path, "--output", path), 2, "refusing to overwrite an input")
    assert path.read_bytes() == before


def test_import_labelstudio_output_is_a_directory(capsys, tmp_path):
    path = _export(tmp_path, [TASK])
    (tmp_path / "out").mkdir()
    assert_error(cli(capsys, "import-labelstudio", path, "--output", tmp_path / "out"), 2, "is a directory")


# ---- train ------------------------------------------------------------------------------------
FAST = ("--arch", "tfidf", "--no-authored", "--no-real", "--no-char-ngrams")


@pytest.mark.parametrize("target", ["user_dir", "file", "parent", "broken_model"])
def test_train_never_replaces_what_is_not_a_model(capsys, tmp_path, monkeypatch, target):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    if target == "broken_model":  # a directory that looks like a model but is not one
        (work / "config.json").write_text("{not json")
    monkeypatch.chdir(work)
    output = {"user_dir": work, "file": work / "notes.txt", "parent": Path(".."), "broken_model": work}[target]
    before = tree(tmp_path)
    assert_error(cli(capsys, "train", *FAST, "--output", output), 2)
    assert tree(tmp_path) == before


def test_train_replaces_its_own_model_and_nothing_else(capsys, tmp_path, model):
    target = tmp_path / "m"
    shutil.copytree(model, target)
    code, _, err = cli(capsys, "train", *FAST, "--output", target)
    assert code == 0, err
    assert json.loads((target / "config.json").read_text())["diplostance"]["training_config"]["char_ngrams"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary, old copy or lock left


def test_train_data_file_inside_the_output_model(capsys, tmp_path, model):
    target = tmp_path / "m"
    shutil.copytree(model, target)
    extra = write_jsonl(target / "extra.jsonl", LABELLED)
    before = tree(tmp_path)
    assert_error(cli(capsys, "train", *FAST, "--data", extra, "--output", target), 2,
                 "holds the --data input", "would replace that input")
    assert tree(tmp_path) == before


def test_train_missing_data_file(capsys, tmp_path):
    assert_error(cli(capsys, "train", *FAST, "--data", tmp_path / "nope.jsonl", "--output", tmp_path / "m"), 2,
                 "nope.jsonl", "no such file")
    assert not (tmp_path / "m").exists()


def test_train_data_not_utf8_names_file_and_line(capsys, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_bytes(json.dumps(LABELLED[0]).encode() + b'\n{"id": "h:9", "text": "caf\xe9", "labels": []}\n')
    assert_error(cli(capsys, "train", *FAST, "--data", data, "--output", tmp_path / "m"), 2,
                 "bad.jsonl:2: undecodable bytes")
    assert not (tmp_path / "m").exists()


def test_train_data_gzipped_is_read(capsys, tmp_path):
    data = tmp_path / "extra.jsonl.gz"
    data.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in LABELLED).encode()))
    code, out, err = cli(capsys, "train", *FAST, "--data", data, "--output", tmp_path / "m")
    assert code == 0, err
    assert (tmp_path / "m" / "config.json").is_file()


def test_train_data_malformed_json(capsys, tmp_path):
    data = write_jsonl(tmp_path / "bad.jsonl", [LABELLED[0], "{broken"])
    assert_error(cli(capsys, "train", *FAST, "--data", data, "--output", tmp_path / "m"), 2, "bad.jsonl:2: malformed JSON")


def test_train_locked_output(capsys, tmp_path, lock_held_elsewhere, model):
    target = tmp_path / "m"
    shutil.copytree(model, target)
    lock_held_elsewhere(target)
    before = tree(target)
    assert_error(cli(capsys, "train", *FAST, "--output", target), 2, "m.lock", "another diplostance run")
    assert tree(target) == before


# ---- audit ------------------------------------------------------------------------------------
def test_audit_output_is_a_directory(capsys, tmp_path):
    assert_error(cli(capsys, "audit", "--arch", "tfidf", "--output", tmp_path), 2, "is a directory")


@pytest.mark.parametrize("top", ["0", "-3"])
def test_audit_top_must_be_positive(capsys, tmp_path, top):
    assert_error(cli(capsys, "audit", "--top", top, "--output", tmp_path / "f.jsonl"), 2, "--top must be at least 1")
    assert not (tmp_path / "f.jsonl").exists()


# ---- evaluate -----------------------------------------------------------------------------------
def _broken_model(tmp_path, model, how: str) -> Path:
    broken = tmp_path / f"broken-{how}"
    shutil.copytree(model, broken)
    config = broken / "config.json"
    if how == "config_not_json":
        config.write_text('{"diplostance": ')
    elif how == "config_not_utf8":
        config.write_bytes(b"\xff\xfe\x00garbage")
    elif how == "no_thresholds":
        meta = json.loads(config.read_text())
        del meta["diplostance"]["thresholds"]
        config.write_text(json.dumps(meta))
    elif how == "bad_training_config":
        meta = json.loads(config.read_text())
        meta["diplostance"]["training_config"] = "tfidf please"
        config.write_text(json.dumps(meta))
    elif how == "truncated_weights":
        weights = broken / "tfidf.skops"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    elif how == "empty_weights":
        (broken / "tfidf.skops").write_bytes(b"")
    return broken


BROKEN = ["config_not_json", "config_not_utf8", "no_thresholds", "bad_training_config", "truncated_weights",
          "empty_weights"]


@pytest.mark.parametrize("how", BROKEN)
def test_evaluate_with_a_damaged_model(capsys, tmp_path, model, labelled, how):
    broken = _broken_model(tmp_path, model, how)
    assert_error(cli(capsys, "evaluate", "--model", broken, "--data", labelled, "--output", tmp_path / "ev"), 2,
                 str(broken))
    assert not (tmp_path / "ev").exists()


def test_evaluate_data_not_utf8(capsys, tmp_path, model):
    data = tmp_path / "d.jsonl"
    data.write_bytes(b'{"id": "a", "text": "\xe9t\xe9", "labels": []}\n')
    assert_error(cli(capsys, "evaluate", "--model", model, "--data", data, "--output", tmp_path / "ev"), 2,
                 "d.jsonl:1: undecodable bytes")


def test_evaluate_data_gzipped_is_read(capsys, tmp_path, model):
    data = tmp_path / "d.jsonl.gz"
    data.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in LABELLED).encode()))
    code, out, err = cli(capsys, "evaluate", "--model", model, "--data", data, "--output", tmp_path / "ev",
                         "--bootstrap", 20)
    assert code == 0, err
    assert json.loads((tmp_path / "ev" / "report.json").read_text())["n_sentences"] == 3


def test_evaluate_data_with_byte_order_mark(capsys, tmp_path, model):
    data = tmp_path / "d.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in LABELLED).encode())
    code, _, err = cli(capsys, "evaluate", "--model", model, "--data", data, "--output", tmp_path / "ev", "--bootstrap", 20)
    assert code == 0, err


def test_evaluate_empty_data(capsys, tmp_path, model):
    (tmp_path / "d.jsonl").write_text("\n\n")
    assert_error(cli(capsys, "evaluate", "--model", model, "--data", tmp_path / "d.jsonl", "--output", tmp_path / "ev"),
                 2, "d.jsonl: file has no rows")


def test_evaluate_missing_data(capsys, tmp_path, model):
    assert_error(cli(capsys, "evaluate", "--model", model, "--data", tmp_path / "nope.jsonl", "--output", tmp_path / "ev"),
                 2, "nope.jsonl", "no such file")


def test_evaluate_output_is_a_file(capsys, tmp_path, model, labelled):
    (tmp_path / "ev").write_text("mine")
    assert_error(cli(capsys, "evaluate", "--model", model, "--data", labelled, "--output", tmp_path / "ev"), 2,
                 "not a directory")
    assert (tmp_path / "ev").read_text() == "mine"


def test_evaluate_output_inside_the_model(capsys, tmp_path, model, labelled):
    target = tmp_path / "m"
    shutil.copytree(model, target)
    before = tree(target)
    assert_error(cli(capsys, "evaluate", "--model", target, "--data", labelled, "--output", target / "ev"), 2,
                 "inside the --model input directory")
    assert tree(target) == before


# ---- compare ----------------------------------------------------------------------------------
def test_compare_missing_model(capsys, tmp_path, model, labelled):
    assert_error(cli(capsys, "compare", model, tmp_path / "nope", "--data", labelled, "--output", tmp_path / "c"), 2,
                 "nope", "no such model directory")


@pytest.mark.parametrize("how", ["config_not_json", "truncated_weights"])
def test_compare_damaged_model(capsys, tmp_path, model, labelled, how):
    broken = _broken_model(tmp_path, model, how)
    assert_error(cli(capsys, "compare", model, broken, "--data", labelled, "--output", tmp_path / "c"), 2, str(broken))
    assert not (tmp_path / "c").exists()


def test_compare_output_is_the_data_file(capsys, tmp_path, model, labelled):
    before = labelled.read_bytes()
    assert_error(cli(capsys, "compare", model, model, "--data", labelled, "--output", labelled), 2, "not a directory")
    assert labelled.read_bytes() == before


def test_compare_data_gzipped_but_truncated(capsys, tmp_path, model):
    data = tmp_path / "d.jsonl.gz"
    data.write_bytes(gzip.compress(("".join(json.dumps(r) + "\n" for r in LABELLED) * 20).encode())[:50])
    assert_error(cli(capsys, "compare", model, model, "--data", data, "--output", tmp_path / "c"), 2,
                 "d.jsonl.gz", "truncated or corrupt gzip")


# ---- select-arch ------------------------------------------------------------------------------
def test_select_arch_missing_dev_fails_before_training(capsys, tmp_path):
    assert_error(cli(capsys, "select-arch", "--archs", "tfidf", "--dev", tmp_path / "dev.jsonl", "--output",
                     tmp_path / "sel"), 2, "dev.jsonl", "no such file")
    assert not (tmp_path / "sel").exists()


def test_select_arch_output_is_a_file(capsys, tmp_path, labelled):
    (tmp_path / "sel").write_text("mine")
    assert_error(cli(capsys, "select-arch", "--archs", "tfidf", "--dev", labelled, "--output", tmp_path / "sel"), 2,
                 "not a directory")
    assert (tmp_path / "sel").read_text() == "mine"


def test_select_arch_bootstrap_zero(capsys, tmp_path):
    assert_error(cli(capsys, "select-arch", "--bootstrap", "0", "--output", tmp_path / "sel"), 2, "--bootstrap")


# ---- notebook ---------------------------------------------------------------------------------
def test_notebook_missing_eval_dir(capsys, tmp_path):
    assert_error(cli(capsys, "notebook", "--eval-dir", tmp_path / "nope", "--output", tmp_path / "nb.ipynb"), 2,
                 "nope", "no such directory")


def test_notebook_eval_dir_is_not_an_evaluation(capsys, tmp_path):
    (tmp_path / "ev").mkdir()
    assert_error(cli(capsys, "notebook", "--eval-dir", tmp_path / "ev", "--output", tmp_path / "nb.ipynb"), 2,
                 "not an evaluation directory")
    assert not (tmp_path / "nb.ipynb").exists()


def test_notebook_output_extension(capsys, tmp_path):
    assert_error(cli(capsys, "notebook", "--output", tmp_path / "nb.html"), 2, "must end in .ipynb")


# ---- ingest -----------------------------------------------------------------------------------
def test_ingest_output_is_its_input(capsys, tmp_path, model, docs):
    before = docs.read_bytes()
    assert_error(cli(capsys, "ingest", docs, "--model", model, "--output", docs), 2, "refusing to overwrite an input")
    assert docs.read_bytes() == before


def test_ingest_output_is_an_exclude_file(capsys, tmp_path, model, docs):
    picked = write_jsonl(tmp_path / "picked.jsonl", [{"id": "x:000"}])
    before = picked.read_bytes()
    assert_error(cli(capsys, "ingest", docs, "--model", model, "--exclude", picked, "--output", picked), 2,
                 "--exclude input")
    assert picked.read_bytes() == before


def test_ingest_exclude_not_utf8(capsys, tmp_path, model, docs):
    picked = tmp_path / "picked.jsonl"
    picked.write_bytes(b'{"id": "a"}\n{"id": "\xff"}\n')
    assert_error(cli(capsys, "ingest", docs, "--model", model, "--exclude", picked, "--output", tmp_path / "o.jsonl"), 2,
                 "picked.jsonl:2: undecodable bytes")
    assert not (tmp_path / "o.jsonl").exists()


def test_ingest_n_zero_fails_before_scoring(capsys, tmp_path, model, docs):
    assert_error(cli(capsys, "ingest", docs, "--model", model, "--n", "0", "--output", tmp_path / "o.jsonl"), 2,
                 "--n must be at least 1")


def test_ingest_duplicate_document_ids(capsys, tmp_path, model):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "We will build a port."},
                                              {"id": "a", "text": "We support Chile."}])
    assert_error(cli(capsys, "ingest", inp, "--model", model, "--select", "all", "--output", tmp_path / "o.jsonl"), 2,
                 "in.jsonl:2: duplicate document id 'a' (first at")
    assert not (tmp_path / "o.jsonl").exists()


def test_ingest_damaged_model(capsys, tmp_path, model, docs):
    broken = _broken_model(tmp_path, model, "truncated_weights")
    assert_error(cli(capsys, "ingest", docs, "--model", broken, "--output", tmp_path / "o.jsonl"), 2,
                 "cannot load the model")


def test_ingest_output_inside_an_input_directory(capsys, tmp_path, model):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text(TEXTS[0])
    assert_error(cli(capsys, "ingest", inbox, "--model", model, "--output", inbox / "to_label.jsonl"), 2,
                 "inside the document input directory")
    assert sorted(p.name for p in inbox.iterdir()) == ["a.txt"]


def test_ingest_output_is_a_directory(capsys, tmp_path, model, docs):
    assert_error(cli(capsys, "ingest", docs, "--model", model, "--output", tmp_path), 2, "is a directory")


# ---- score: arguments, checked before any work -------------------------------------------------
def test_score_output_is_one_of_its_inputs(capsys, tmp_path, model, docs):
    before = tree(tmp_path)
    assert_error(cli(capsys, "score", docs, "--model", model, "--output", docs), 2, "docs.jsonl",
                 "refusing to overwrite an input")
    assert tree(tmp_path) == before


def test_score_summary_is_one_of_its_inputs(capsys, tmp_path, model):
    notes = tmp_path / "notes.csv"
    notes.write_text(f'id,text\nn1,"{TEXTS[0][:200]}"\n')
    before = tree(tmp_path)
    assert_error(cli(capsys, "score", notes, "--model", model, "--output", tmp_path / "o.jsonl", "--summary", notes), 2,
                 "--summary", "refusing to overwrite an input")
    assert tree(tmp_path) == before


def test_score_output_inside_an_input_directory(capsys, tmp_path, model):
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.txt").write_text(TEXTS[0])
    assert_error(cli(capsys, "score", archive, "--model", model, "--output", archive / "scored.jsonl"), 2,
                 "inside the input directory")
    assert sorted(p.name for p in archive.iterdir()) == ["a.txt"]


@pytest.mark.parametrize("flag, name, message", [
    ("--output", "out.txt", "output must end in .jsonl, .csv, .parquet"),
    ("--summary", "summary.parquet", "summary must end in .csv or .jsonl"),
])
def test_score_bad_extension_fails_before_work(capsys, tmp_path, model, docs, flag, name, message):
    args = ["--output", tmp_path / "o.jsonl"] if flag != "--output" else []
    before = tree(tmp_path)
    assert_error(cli(capsys, "score", docs, "--model", model, *args, flag, tmp_path / name), 2, message)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("flag", ["--output", "--summary", "--errors"])
def test_score_path_that_is_a_directory_fails_before_work(capsys, tmp_path, model, docs, flag):
    adir = tmp_path / ("adir.csv" if flag == "--summary" else "adir")  # the right extension, but a directory
    adir.mkdir()
    args = ["--output", tmp_path / "o.jsonl"] if flag != "--output" else []
    before = tree(tmp_path)
    assert_error(cli(capsys, "score", docs, "--model", model, *args, flag, adir), 2, flag, "is a directory")
    assert tree(tmp_path) == before


def test_score_output_under_a_file_fails_before_work(capsys, tmp_path, model, docs):
    before = tree(tmp_path)
    assert_error(cli(capsys, "score", docs, "--model", model, "--output", docs / "o.jsonl"), 2, "is not a directory")
    assert tree(tmp_path) == before


def test_score_errors_path_under_a_file_fails_before_work(capsys, tmp_path, model, docs):
    before = tree(tmp_path)
    assert_error(cli(capsys, "score", docs, "--model", model, "--output", tmp_path / "o.jsonl", "--errors",
                     docs / "e.jsonl"), 2, "--errors", "is not a directory")
    assert tree(tmp_path) == before  # no checkpoint left to block the next run


def test_score_summary_and_output_are_the_same_file(capsys, tmp_path, model, docs):
    out = tmp_path / "o.jsonl"
    assert_error(cli(capsys, "score", docs, "--model", model, "--output", out, "--summary", out), 2, "the same file")


def test_score_errors_path_in_a_missing_directory_is_created(capsys, tmp_path, model, docs):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    errors = tmp_path / "logs" / "2024" / "errors.jsonl"
    code, _, err = cli(capsys, "score", docs, bad, "--model", model, "--output", tmp_path / "o.jsonl", "--errors", errors)
    assert code == 0, err
    assert json.loads(errors.read_text())["where"].endswith("bad.jsonl:1")
    assert leftovers(tmp_path) == []


def test_score_directory_without_inputs(capsys, tmp_path, model):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "image.png").write_bytes(b"\x89PNG")
    assert_error(cli(capsys, "score", tmp_path / "empty", "--model", model, "--output", tmp_path / "o.jsonl"), 2,
                 "no input files")
    assert not (tmp_path / "o.jsonl").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("how", ["config_not_json", "config_not_utf8", "truncated_weights", "no_thresholds"])
def test_score_damaged_model(capsys, tmp_path, model, docs, how):
    broken = _broken_model(tmp_path, model, how)
    assert_error(cli(capsys, "score", docs, "--model", broken, "--output", tmp_path / "o.jsonl"), 2, str(broken))
    assert not (tmp_path / "o.jsonl").exists() and leftovers(tmp_path) == []


def test_score_batch_size_zero(capsys, tmp_path, model, docs):
    assert_error(cli(capsys, "score", docs, "--model", model, "--output", tmp_path / "o.jsonl", "--batch-size", "0"), 2,
                 "--batch-size must be at least 1")


# ---- score: what goes into the output ------------------------------------------------------------
def test_score_input_fields_never_replace_computed_columns(capsys, tmp_path, model):
    inp = tmp_path / "dated.csv"
    inp.write_text('id,text,doc_id,sent_idx,start,end,score_commitment,source_file\n'
                   'x1,"We will build a port. It rained.",OTHER,7,2020-01-01,2020-02-02,high,elsewhere.csv\n')
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"o.{fmt}"
        code, _, err = cli(capsys, "score", inp, "--model", model, "--output", out)
        assert code == 0, err
    rows = jsonl(tmp_path / "o.jsonl")
    assert [(r["doc_id"], r["sent_idx"], r["start"], r["end"]) for r in rows] == [("x1", 0, 0, 21), ("x1", 1, 22, 32)]
    assert rows[0]["meta_start"] == "2020-01-01" and rows[0]["meta_end"] == "2020-02-02"
    assert rows[0]["meta_doc_id"] == "OTHER" and rows[0]["meta_score_commitment"] == "high"
    assert rows[0]["source_file"] == str(inp) and rows[0]["meta_source_file"] == "elsewhere.csv"
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert [(r["doc_id"], r["start"]) for r in table] == [("x1", 0), ("x1", 22)]
    assert table[0]["meta_start"] == "2020-01-01" and isinstance(table[0]["score_commitment"], float)


def test_score_parquet_with_awkward_metadata(capsys, tmp_path, model):
    inp = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "a", "text": "We will build a port.", "big": 2**70, "mixed": 1, "nested": {"k": [1, 2]}},
        {"id": "b", "text": "We support Chile.", "big": 3, "mixed": "two", "nested": None},
    ])
    code, _, err = cli(capsys, "score", inp, "--model", model, "--output", tmp_path / "o.parquet")
    assert code == 0, err
    import pyarrow.parquet as pq

    rows = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert rows[0]["big"] == str(2**70) and rows[1]["mixed"] == "two" and json.loads(rows[0]["nested"]) == {"k": [1, 2]}


def test_score_same_file_named_twice_gives_no_duplicate_rows(capsys, tmp_path, model, docs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "score", docs, "docs.jsonl", "./docs.jsonl", "--model", model, "--output", "o.jsonl")
    assert code == 0, err
    rows = jsonl(tmp_path / "o.jsonl")
    assert len({(r["doc_id"], r["sent_idx"]) for r in rows}) == len(rows)
    assert {r["doc_id"] for r in rows} == {"d0", "d1", "d2"}


def test_score_two_directories_with_files_of_the_same_name(capsys, tmp_path, model):
    for sub, text in (("a", TEXTS[0]), ("b", TEXTS[1])):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "report.txt").write_text(text)
    code, _, err = cli(capsys, "score", tmp_path / "a", tmp_path / "b", "--model", model, "--output", tmp_path / "o.jsonl")
    assert code == 0, err
    rows = jsonl(tmp_path / "o.jsonl")
    assert len({(r["doc_id"], r["sent_idx"]) for r in rows}) == len(rows)
    assert {r["doc_id"] for r in rows} == {"report", str(tmp_path / "b" / "report")}


def test_score_duplicate_ids_in_rows_are_reported_not_duplicated(capsys, tmp_path, model):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "We will build a port."},
                                              {"id": "b", "text": "We met."},
                                              {"id": "a", "text": "We support Chile."}])
    code, _, err = cli(capsys, "score", inp, "--model", model, "--output", tmp_path / "o.jsonl")
    assert code == 0, err
    assert [r["doc_id"] for r in jsonl(tmp_path / "o.jsonl")] == ["a", "b"]
    (problem,) = jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert problem["where"].endswith("in.jsonl:3") and "duplicate document id 'a'" in problem["reason"]


def test_score_csv_with_byte_order_mark_keeps_its_ids(capsys, tmp_path, model):
    inp = tmp_path / "excel.csv"
    inp.write_bytes(b"\xef\xbb\xbfid,text\r\nk1,We will build a port.\r\nk2,We support Chile.\r\n")
    code, _, err = cli(capsys, "score", inp, "--model", model, "--output", tmp_path / "o.jsonl")
    assert code == 0, err
    assert [r["doc_id"] for r in jsonl(tmp_path / "o.jsonl")] == ["k1", "k2"]


def test_score_jsonl_with_byte_order_mark(capsys, tmp_path, model):
    inp = tmp_path / "bom.jsonl"
    inp.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "j1", "text": "We will build a port."}).encode() + b"\n")
    code, _, err = cli(capsys, "score", inp, "--model", model, "--output", tmp_path / "o.jsonl")
    assert code == 0, err
    assert [r["doc_id"] for r in jsonl(tmp_path / "o.jsonl")] == ["j1"]


def test_score_one_stray_quote_costs_one_row(capsys, tmp_path, model):
    inp = tmp_path / "table.csv"
    inp.write_text('id,text\nc1,Peru supports the initiative.\nc2,"He said: we will build it\n'
                   'c3,Chile will open a port.\nc4,Kenya backs the plan.\n')
    code, _, err = cli(capsys, "score", inp, "--model", model, "--output", tmp_path / "o.jsonl")
    assert code == 0, err
    assert [r["doc_id"] for r in jsonl(tmp_path / "o.jsonl")] == ["c1", "c3", "c4"]
    (problem,) = jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert problem["where"].endswith("table.csv:3") and problem["reason"].startswith("malformed CSV row")


def test_score_quoted_multiline_fields_still_work(capsys, tmp_path, model):
    inp = tmp_path / "table.csv"
    inp.write_text('id,text\nm1,"We will build a port.\nIt will open in May."\nm2,We support Chile.\n')
    code, _, err = cli(capsys, "score", inp, "--model", model, "--output", tmp_path / "o.jsonl", "--no-split")
    assert code == 0, err
    rows = jsonl(tmp_path / "o.jsonl")
    assert [r["doc_id"] for r in rows] == ["m1", "m2"] and "May" in rows[0]["text"]
    assert not (tmp_path / "o.jsonl.errors.jsonl").exists()


def test_score_csv_header_repeats_a_column(capsys, tmp_path, model, docs):
    inp = tmp_path / "t.csv"
    inp.write_text("id,text,text\n1,a,b\n")
    code, _, err = cli(capsys, "score", docs, inp, "--model", model, "--output", tmp_path / "o.jsonl")
    assert code == 0, err
    (problem,) = jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert problem["where"].endswith("t.csv:1") and "repeats column 'text'" in problem["reason"]


# ---- score: bad files, total failure, exit codes --------------------------------------------------
@pytest.mark.parametrize("kind", ["not_gzip", "truncated_gzip"])
def test_score_bad_gzip_is_reported_and_leaves_no_stuck_state(capsys, tmp_path, model, docs, kind):
    bad = tmp_path / "rows.jsonl.gz"
    good = "".join(json.dumps({"id": f"g{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)).encode()
    bad.write_bytes(good if kind == "not_gzip" else gzip.compress(good)[:200])
    out = tmp_path / "o.jsonl"
    code, _, err = cli(capsys, "score", docs, bad, "--model", model, "--output", out)
    assert code == 0, err
    reasons = [e["reason"] for e in jsonl(tmp_path / "o.jsonl.errors.jsonl")]
    assert any("gzip" in r for r in reasons), reasons
    assert leftovers(tmp_path) == []
    # only the bad file: nothing scored (exit 3), no output, and the next run is not stuck
    for _ in range(2):
        result = cli(capsys, "score", bad, "--model", model, "--output", tmp_path / "only.jsonl")
        assert_error(result, 3, "nothing scored")
        assert not (tmp_path / "only.jsonl").exists() and leftovers(tmp_path) == []


def test_score_nothing_scored_exits_3_and_keeps_the_previous_output(capsys, tmp_path, model, docs):
    out = tmp_path / "o.jsonl"
    assert cli(capsys, "score", docs, "--model", model, "--output", out)[0] == 0
    previous = out.read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "x", "text": "caf\xe9"}\n{broken\n')
    assert_error(cli(capsys, "score", bad, "--model", model, "--output", out), 3, "nothing scored", "all 2 inputs were bad")
    assert out.read_bytes() == previous
    assert len(jsonl(tmp_path / "o.jsonl.errors.jsonl")) == 2 and leftovers(tmp_path) == []


def test_score_strict_exits_3_with_complete_output(capsys, tmp_path, model, docs):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{broken\n")
    result = cli(capsys, "score", docs, bad, "--model", model, "--output", tmp_path / "o.jsonl", "--strict")
    assert_error(result, 3, "1 bad inputs skipped", "(--strict)")
    assert {r["doc_id"] for r in jsonl(tmp_path / "o.jsonl")} == {"d0", "d1", "d2"}


def test_score_on_error_fail_names_file_and_line_and_leaves_nothing(capsys, tmp_path, model, docs):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "ok", "text": "Fine."}, "{broken"])
    assert_error(cli(capsys, "score", docs, bad, "--model", model, "--output", tmp_path / "o.jsonl", "--on-error", "fail"),
                 2, "bad.jsonl:2: malformed JSON")
    assert not (tmp_path / "o.jsonl").exists() and leftovers(tmp_path) == []


# ---- score: locks, interruption, resume (in-process) -----------------------------------------------
def test_score_second_run_on_a_locked_output_refuses(capsys, tmp_path, model, docs, lock_held_elsewhere):
    out = tmp_path / "o.jsonl"
    out.write_text("previous\n")
    lock_held_elsewhere(out)
    assert_error(cli(capsys, "score", docs, "--model", model, "--output", out), 2,
                 "o.jsonl.lock", "another diplostance run is writing this output (process 4242)")
    assert out.read_text() == "previous\n"
    assert not (tmp_path / "o.jsonl.partial.jsonl").exists()


def test_score_stale_lock_file_of_a_dead_run_does_not_block(capsys, tmp_path, model, docs):
    out = tmp_path / "o.jsonl"
    (tmp_path / "o.jsonl.lock").write_text("999999\n")  # left by a run killed with -9
    code, _, err = cli(capsys, "score", docs, "--model", model, "--output", out)
    assert code == 0, err
    assert leftovers(tmp_path) == []


def _interrupt(monkeypatch, name: str, after_calls: int = 0):
    """Raise KeyboardInterrupt (Ctrl-C) at the call number after_calls + 1 of scoring.<name>."""
    original = getattr(scoring, name)
    calls = []

    def hooked(*args, **kwargs):
        calls.append(1)
        if len(calls) > after_calls:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(scoring, name, hooked)


@pytest.fixture
def many_docs(tmp_path) -> Path:
    """Enough documents for several checkpointed groups."""
    return write_jsonl(tmp_path / "many.jsonl", [{"id": f"m{i:03d}", "text": TEXTS[i % 5]} for i in range(40)])


def test_ctrl_c_during_start_up_leaves_a_state_the_next_run_accepts(capsys, tmp_path, model, many_docs, monkeypatch):
    out = tmp_path / "o.jsonl"
    with monkeypatch.context() as m:
        _interrupt(m, "make_engine")
        code, _, err = cli(capsys, "score", many_docs, "--model", model, "--output", out)
    assert code == 130 and not out.exists()
    code, _, err = cli(capsys, "score", many_docs, "--model", model, "--output", out)  # no --resume needed
    assert code == 0, err
    assert leftovers(tmp_path) == []
    with monkeypatch.context() as m:
        _interrupt(m, "make_engine")
        cli(capsys, "score", many_docs, "--model", model, "--output", tmp_path / "p.jsonl")
    code, _, err = cli(capsys, "score", many_docs, "--model", model, "--output", tmp_path / "p.jsonl", "--resume")
    assert code == 0, err
    assert (tmp_path / "p.jsonl").read_text() == out.read_text()


def test_ctrl_c_mid_run_then_resume_gives_the_same_rows(capsys, tmp_path, model, many_docs, monkeypatch):
    reference = tmp_path / "ref.csv"
    assert cli(capsys, "score", many_docs, "--model", model, "--output", reference)[0] == 0
    out = tmp_path / "o.csv"
    with monkeypatch.context() as m:
        _interrupt(m, "_flush_group", after_calls=1)
        assert cli(capsys, "score", many_docs, "--model", model, "--output", out)[0] == 130
    assert not out.exists()
    assert json.loads((tmp_path / "o.csv.partial.checkpoint.json").read_text())["units_done"] > 0
    assert_error(cli(capsys, "score", many_docs, "--model", model, "--output", out), 2, "--resume")
    code, _, err = cli(capsys, "score", many_docs, "--model", model, "--output", out, "--resume")
    assert code == 0, err
    assert out.read_text() == reference.read_text()
    assert leftovers(tmp_path) == []


def test_resume_after_the_model_was_retrained_in_place_refuses(capsys, tmp_path, model, many_docs, monkeypatch):
    own = tmp_path / "model"
    shutil.copytree(model, own)
    out = tmp_path / "o.jsonl"
    with monkeypatch.context() as m:
        _interrupt(m, "_flush_group", after_calls=1)
        assert cli(capsys, "score", many_docs, "--model", own, "--output", out)[0] == 130
    partial = (tmp_path / "o.jsonl.partial.jsonl").read_bytes()
    assert cli(capsys, "train", *FAST, "--output", own)[0] == 0  # same path, new model
    assert_error(cli(capsys, "score", many_docs, "--model", own, "--output", out, "--resume"), 2,
                 "the model's files differ from the interrupted run")
    assert (tmp_path / "o.jsonl.partial.jsonl").read_bytes() == partial and not out.exists()


def test_resume_after_an_input_was_edited_refuses(capsys, tmp_path, model, many_docs, monkeypatch):
    out = tmp_path / "o.jsonl"
    with monkeypatch.context() as m:
        _interrupt(m, "_flush_group", after_calls=1)
        assert cli(capsys, "score", many_docs, "--model", model, "--output", out)[0] == 130
    stat = many_docs.stat()
    text = many_docs.read_text()
    many_docs.write_text(text.replace("m000", "m00X"))  # same size
    os.utime(many_docs, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and same mtime
    assert_error(cli(capsys, "score", many_docs, "--model", model, "--output", out, "--resume"), 2,
                 "the input files differ")


def test_resume_with_the_partial_output_deleted_starts_again(capsys, tmp_path, model, docs, monkeypatch):
    out = tmp_path / "o.jsonl"
    with monkeypatch.context() as m:
        _interrupt(m, "_flush_group", after_calls=1)
        cli(capsys, "score", docs, "--model", model, "--output", out, "--no-split")
    (tmp_path / "o.jsonl.partial.jsonl").unlink(missing_ok=True)
    code, _, err = cli(capsys, "score", docs, "--model", model, "--output", out, "--no-split", "--resume")
    assert code == 0, err
    assert [r["doc_id"] for r in jsonl(out)] == ["d0", "d1", "d2"] and leftovers(tmp_path) == []


def test_resume_without_an_interrupted_run_just_runs(capsys, tmp_path, model, docs):
    code, _, err = cli(capsys, "score", docs, "--model", model, "--output", tmp_path / "o.jsonl", "--resume")
    assert code == 0, err


def test_importable_score_archive_takes_the_lock_too(tmp_path, model, docs, lock_held_elsewhere):
    from data.errors import DiplostanceError
    from models.registry import load_model

    lock_held_elsewhere(tmp_path / "o.jsonl")
    with pytest.raises(DiplostanceError, match="another diplostance run"):
        scoring.score_archive(load_model(model), str(model), [docs], tmp_path / "o.jsonl", scoring.ScoreOptions(quiet=True))


# ---- real processes: kill -9 at several points, overlapping runs (slow) ------------------------------
HOOK = r"""
import os, signal, sys, time
import importlib
module, name, mode, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
target = importlib.import_module(module)
original = getattr(target, name)
calls = []
def hooked(*args, **kwargs):
    calls.append(1)
    if len(calls) == nth and mode == "kill-before":
        os.kill(os.getpid(), signal.SIGKILL)
    if len(calls) == nth and mode == "sleep":
        time.sleep(float(os.environ.get("HOOK_SLEEP", "20")))
    result = original(*args, **kwargs)
    if len(calls) == nth and mode == "kill-after":
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(target, name, hooked)
from diplostance.cli import main
sys.exit(main(sys.argv[5:]))
"""


def _hooked(cwd, module, name, mode, nth, *args, wait=True):
    cmd = [sys.executable, "-c", HOOK, module, name, mode, str(nth), *map(str, args)]
    if wait:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


KILL_POINTS = [
    ("start-up, before the first checkpoint", "diplostance.scoring", "_write_checkpoint", "kill-before", 1),
    ("start-up, before the engine", "diplostance.scoring", "make_engine", "kill-before", 1),
    ("mid-run, after two groups", "diplostance.scoring", "_flush_group", "kill-before", 3),
    ("finalisation, CSV written but not renamed", "diplostance.outputs", "_convert", "kill-after", 1),
    ("finalisation, after the rename", "diplostance.scoring", "finalize", "kill-after", 1),
]


@pytest.mark.slow
@pytest.mark.parametrize("where, module, name, mode, nth", KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_kill_minus_9_at_any_point_then_rerun(capsys, tmp_path, model, many_docs, where, module, name, mode, nth):
    reference = tmp_path / "ref.csv"
    assert cli(capsys, "score", many_docs, "--model", model, "--output", reference, "--summary", tmp_path / "ref.sum.csv")[0] == 0
    out = tmp_path / "o.csv"
    r = _hooked(tmp_path, module, name, mode, nth, "score", many_docs, "--model", model, "--output", out,
                "--summary", tmp_path / "o.sum.csv")
    assert r.returncode == -9, r.stderr
    if name != "finalize":
        assert not out.exists(), "a killed run must not leave a complete-looking output"
    code, _, err = cli(capsys, "score", many_docs, "--model", model, "--output", out, "--summary",
                       tmp_path / "o.sum.csv", "--resume")
    assert code == 0, err
    assert out.read_text() == reference.read_text()
    assert (tmp_path / "o.sum.csv").read_text() == (tmp_path / "ref.sum.csv").read_text()
    assert leftovers(tmp_path) == [] and not list(tmp_path.glob(".o.csv*"))


@pytest.mark.slow
def test_two_overlapping_runs_on_one_output(capsys, tmp_path, model, many_docs):
    """A cron job started twice: the second refuses at once, the first finishes alone."""
    reference = tmp_path / "ref.jsonl"
    assert cli(capsys, "score", many_docs, "--model", model, "--output", reference)[0] == 0
    out = tmp_path / "o.jsonl"
    first = _hooked(tmp_path, "diplostance.scoring", "_flush_group", "sleep", 2, "score", many_docs, "--model", model,
                    "--output", out, "--resume", wait=False)
    checkpoint = tmp_path / "o.jsonl.partial.checkpoint.json"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until the first run is writing (past its first group)
        if checkpoint.exists() and json.loads(checkpoint.read_text() or "{}").get("units_done", 0) > 0:
            break
        time.sleep(0.1)
    second = cli(capsys, "score", many_docs, "--model", model, "--output", out, "--resume")
    assert_error(second, 2, "another diplostance run is writing this output")
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert out.read_text() == reference.read_text()
    assert leftovers(tmp_path) == []


def test_train_never_deletes_a_users_file_left_inside_a_model_directory(tmp_path):
    from diplostance.cli import main

    model = tmp_path / "model"
    args = ["train", "--arch", "tfidf", "--no-authored", "--no-real", "--no-char-ngrams", "--output", str(model)]
    assert main(args) == 0
    assert main(args) == 0  # its own model directory: replaced
    (model / "notes.txt").write_text("my notes")
    assert main(args) == 2
    assert (model / "notes.txt").read_text() == "my notes" and (model / "config.json").is_file()
