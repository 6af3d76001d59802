"""Archive-scale scoring with real files: formats, bad input, kill -9 then --resume, Ray."""

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.bundled import seed_documents
from data import documents as inputs_module
from diplostance.scoring import ScoreOptions, score_archive
from models.registry import load_model
from tests.conftest import run_cli

SEEDS = seed_documents()


run = run_cli


@pytest.fixture
def model_dir(seed_tfidf_model):
    return seed_tfidf_model


@pytest.fixture
def archive(tmp_path):
    """A directory tree mixing every input kind, with metadata fields."""
    root = tmp_path / "archive"
    (root / "wires" / "2024").mkdir(parents=True)
    texts = list(SEEDS.values())
    (root / "wires" / "2024" / "a.txt").write_text(texts[0])
    (root / "wires" / "b.md").write_text(texts[1])
    with gzip.open(root / "speeches.jsonl.gz", "wt") as fh:
        for i, t in enumerate(texts[2:4]):
            fh.write(json.dumps({"id": f"sp{i}", "text": t, "country": "KGZ", "year": 2023 + i}) + "\n")
    with (root / "notes.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "publisher"])
        w.writerow(["n1", texts[4], "xinhua"])
    (root / "ignore.bin").write_bytes(b"\x00\x01")  # unsupported types inside directories are passed over
    return root


def _jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_directories_formats_metadata_and_summary(model_dir, archive, tmp_path):
    r = run("score", archive, "--model", model_dir, "--output", tmp_path / "out.jsonl", "--summary",
            tmp_path / "summary.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = _jsonl(tmp_path / "out.jsonl")
    assert {r["doc_id"] for r in rows} == {"a", "b", "sp0", "sp1", "n1"}
    sp1 = [r for r in rows if r["doc_id"] == "sp1"]
    assert all(r["country"] == "KGZ" and r["year"] == 2024 for r in sp1)
    assert all(r["publisher"] == "xinhua" for r in rows if r["doc_id"] == "n1")
    a = [r for r in rows if r["doc_id"] == "a"]
    raw = (archive / "wires" / "2024" / "a.txt").read_text()
    assert all(raw[r["start"]:r["end"]] == r["text"] for r in a)
    with (tmp_path / "summary.csv").open() as fh:
        summary = {row["doc_id"]: row for row in csv.DictReader(fh)}
    assert int(summary["a"]["sentences"]) == len(a)
    assert int(summary["a"]["commitment"]) == sum("commitment" in r["labels"] for r in a)

    for fmt in ("csv", "parquet"):
        out = tmp_path / f"out.{fmt}"
        r = run("score", archive, "--model", model_dir, "--output", out, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        if fmt == "csv":
            with out.open() as fh:
                table = list(csv.DictReader(fh))
            labels = [row["labels"].split(";") if row["labels"] else [] for row in table]
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(out).to_pylist()
            labels = [list(row["labels"]) for row in table]
            assert table[0]["year"] is None or isinstance(table[0]["year"], int)
        assert [row["text"] for row in table] == [r["text"] for r in rows]
        assert labels == [r["labels"] for r in rows]
        assert float(table[0]["score_commitment"]) == pytest.approx(rows[0]["scores"]["commitment"])


def _bad_archive(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "latin1.txt").write_bytes("Le ministre a été reçu.\nIl partira.".encode("latin-1"))
    (bad / "empty.txt").write_text("  \n")
    (bad / "rows.jsonl").write_text(
        json.dumps({"id": "ok1", "text": "Chile will build a port."}) + "\n{not json\n"
        + json.dumps({"id": "e", "text": ""}) + "\n" + json.dumps({"id": "ok2", "text": "We met."}) + "\n")
    (bad / "table.csv").write_text('id,text\nc1,"Peru supports the initiative."\nc2,"unterminated\n')
    return bad


def test_bad_input_is_counted_reported_and_skipped(model_dir, tmp_path):
    bad = _bad_archive(tmp_path)
    out = tmp_path / "o.jsonl"
    r = run("score", bad, "--model", model_dir, "--output", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    errors = _jsonl(tmp_path / "o.jsonl.errors.jsonl")
    where = {e["where"].replace(str(bad) + "/", ""): e["reason"] for e in errors}
    assert where["latin1.txt:1"].startswith("undecodable bytes")
    assert where["empty.txt"] == "empty document"
    assert where["rows.jsonl:2"].startswith("malformed JSON")
    assert where["rows.jsonl:3"] == "empty document"
    assert any(k.startswith("table.csv:3") for k in where)
    assert {row["doc_id"] for row in _jsonl(out)} == {"ok1", "ok2", "c1"}
    assert "bad inputs skipped" in r.stderr

    r = run("score", bad, "--model", model_dir, "--output", tmp_path / "s.jsonl", "--strict", cwd=tmp_path)
    assert r.returncode == 3 and "(--strict)" in r.stderr  # the run finished with inputs left out (README: Exit codes)

    r = run("score", bad, "--model", model_dir, "--output", tmp_path / "f.jsonl", "--on-error", "fail", cwd=tmp_path)
    assert r.returncode == 2 and "empty.txt: empty document" in r.stderr  # the first bad input, in sorted order
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "f.jsonl").exists(), "an incomplete run must not look complete"


def test_over_long_line_is_skipped(model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs_module, "MAX_LINE_BYTES", 200)
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"id": "long", "text": "word " * 100}) + "\n" + json.dumps({"id": "s", "text": "Hi."}) + "\n")
    state = score_archive(load_model(model_dir), str(model_dir), [path], tmp_path / "o.jsonl", ScoreOptions(quiet=True))
    assert state["skipped"] == 1 and state["documents"] == 1
    assert "line longer than 200 bytes" in (tmp_path / "o.jsonl.errors.jsonl").read_text()


@pytest.mark.slow
def test_kill_minus_9_then_resume_loses_and_duplicates_nothing(model_dir, tmp_path):
    big = tmp_path / "big.jsonl"
    texts = list(SEEDS.values())
    with big.open("w") as fh:
        for i in range(600):
            fh.write(json.dumps({"id": f"d{i:04d}", "text": texts[i % 5]}) + "\n")
    reference = tmp_path / "reference.jsonl"
    assert run("score", big, "--model", model_dir, "--output", reference, cwd=tmp_path).returncode == 0

    out = tmp_path / "out.jsonl"
    checkpoint = tmp_path / "out.jsonl.partial.checkpoint.json"
    proc = subprocess.Popen([sys.executable, "-m", "diplostance.cli", "score", str(big), "--model", str(model_dir),
                             "--output", str(out)], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if checkpoint.exists() and json.loads(checkpoint.read_text() or "{}").get("units_done", 0) >= 100:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "killed run must not leave a complete-looking output"
    done = json.loads(checkpoint.read_text())["units_done"]
    assert 0 < done < 600

    r = run("score", big, "--model", model_dir, "--output", out, cwd=tmp_path)
    assert r.returncode == 2 and "--resume" in r.stderr  # never silently overwrites a partial run
    r = run("score", big, "--model", model_dir, "--output", out, "--resume", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.read_text() == reference.read_text()
    assert not checkpoint.exists() and not (tmp_path / "out.jsonl.partial.jsonl").exists()


@pytest.mark.slow
def test_ray_engine_produces_the_same_rows_as_local(model_dir, archive, tmp_path):
    pytest.importorskip("ray", reason="Ray is the optional extra [distributed]")
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert run("score", archive, "--model", model_dir, "--output", local, cwd=tmp_path).returncode == 0
    r = run("score", archive, "--model", model_dir, "--output", distributed, "--engine", "ray", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _jsonl(distributed) == _jsonl(local)


@pytest.mark.slow
def test_score_on_real_un_speeches_sample(model_dir, require_corpus, tmp_path):
    src = require_corpus / "ungd-2015-2024.jsonl.gz"
    sample = tmp_path / "ungd-sample.jsonl.gz"
    with gzip.open(src, "rt") as fh, gzip.open(sample, "wt") as out:
        for i, line in enumerate(fh):
            if i == 3:
                break
            out.write(line)
    r = run("score", sample, "--model", model_dir, "--output", tmp_path / "u.parquet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "u.parquet")
    assert table.num_rows > 50 and set(table.column("country").to_pylist()) <= {"AFG", "AGO", "ALB", "AND", "ARE", "ARG"}
    assert "session" in table.column_names
