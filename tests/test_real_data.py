"""The real labelled data: double readings, adjudication, audit, provenance and publication."""

import gzip
import json
from pathlib import Path

import pytest

from conftest import CORPUS_DIR, DEV_FILE, write_jsonl
from data.annotation import decode, encode, load_batch, read_tsv, reader_view, write_batches
from data.errors import DataError
from data.real import REAL_DIR, batch_dirs, batch_statuses, load_real_rows
from data.splitting import split_document

SENTENCES = [
    {"id": "d1:000", "text": "Russia will build the bridge.", "doc_id": "d1", "sent_idx": 0, "register": "communique"},
    {"id": "d1:001", "text": "Talks were held.", "doc_id": "d1", "sent_idx": 1, "register": "communique"},
    {"id": "d2:000", "text": "We support Chile's candidacy.", "doc_id": "d2", "sent_idx": 0, "register": "ungd",
     "country": "PER", "session": 71, "year": 2016, "stratum": "random"},
]


def make_batch(root: Path, a: str, b: str, adjudication: str | None) -> Path:
    (batch,) = write_batches(SENTENCES, root, "t", 10)
    (batch / "reading_a.tsv").write_text(a)
    (batch / "reading_b.tsv").write_text(b)
    if adjudication is not None:
        (batch / "adjudication.tsv").write_text(adjudication)
    return batch


def test_codes_round_trip_in_label_order():
    assert encode(["project_pledge", "commitment"]) == "CP"
    assert encode([]) == "-"
    assert decode("pc", "f", 1) == ["commitment", "project_pledge"]
    assert decode("-", "f", 1) == []
    with pytest.raises(DataError, match=r"^f:3: unknown label code 'X'"):
        decode("CX", "f", 3)


@pytest.mark.parametrize("content, message", [
    ("1\tC\n1\t-\n", r"r.tsv:2: sentence 1 read twice"),
    ("4\tC\n", r"r.tsv:1: sentence number 4 outside 1..3"),
    ("one\tC\n", r"r.tsv:1: sentence number 'one' is not an integer"),
    ("1 C\n", r"r.tsv:1: expected 'n<TAB>codes'"),
])
def test_a_bad_reading_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "r.tsv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_tsv(path, 3)


def test_agreed_readings_stand_and_disagreements_take_the_adjudication(tmp_path):
    batch = make_batch(tmp_path, "1\tCP\n2\t-\n3\tS\n", "1\tCP\n2\tC\n3\tS\n", "2\t-\tpast event: none\n")
    rows = load_batch(batch).rows()
    assert [r["labels"] for r in rows] == [["commitment", "project_pledge"], [], ["support_declaration"]]
    assert rows[1]["reading_b"] == ["commitment"] and rows[1]["rationale"] == "past event: none"
    assert rows[0]["rationale"] == "" and rows[2]["country"] == "PER"


def test_an_unsettled_or_needless_adjudication_is_an_error(tmp_path):
    batch = make_batch(tmp_path / "x", "1\tC\n2\t-\n3\tS\n", "1\t-\n2\t-\n3\tS\n", "")
    with pytest.raises(DataError, match=r"1 disagreements not adjudicated \(first: sentence 1\)"):
        load_batch(batch)
    batch = make_batch(tmp_path / "y", "1\tC\n2\t-\n3\tS\n", "1\t-\n2\t-\n3\tS\n", "1\tC\tundertaking\n2\t-\tnone\n")
    with pytest.raises(DataError, match=r"adjudication.tsv:2: sentence 2 is adjudicated but the two readings agree"):
        load_batch(batch)
    batch = make_batch(tmp_path / "z", "1\tC\n2\t-\n3\tS\n", "1\t-\n2\t-\n3\tS\n", "1\tC\n")
    with pytest.raises(DataError, match=r"adjudication.tsv:1: sentence 1: an adjudication needs a one-line rationale"):
        load_batch(batch)


def test_an_incomplete_reading_is_an_error(tmp_path):
    batch = make_batch(tmp_path, "1\tC\n2\t-\n", "1\tC\n2\t-\n3\tS\n", "")
    with pytest.raises(DataError, match=r"reading_a.tsv: 1 sentences unread \(first: 3\)"):
        load_batch(batch)


def test_pending_batches_never_load_and_audit_corrections_apply(tmp_path):
    make_batch(tmp_path, "1\tC\n2\t-\n3\tS\n", "1\tC\n2\t-\n3\tS\n", "")
    (pending,) = write_batches(SENTENCES, tmp_path, "p", 10)
    (pending / "reading_a.tsv").write_text("1\tC\n2\t-\n3\tS\n")
    assert batch_statuses(tmp_path) == {"p-01": "pending (no reading_b.tsv, adjudication.tsv)", "t-01": "labelled"}
    assert [r["id"] for r in load_real_rows(tmp_path)] == ["d1:000", "d1:001", "d2:000"]

    (tmp_path / "audit.tsv").write_text("d1:000\tC\tCP\tthe bridge is a specific project\nd1:001\t-\t-\tconfirmed\n")
    rows = load_real_rows(tmp_path)
    assert rows[0]["labels"] == ["commitment", "project_pledge"] and rows[0]["audit"] == "changed"
    assert rows[1]["labels"] == [] and rows[1]["audit"] == "confirmed" and rows[0]["rationale"].startswith("audit:")

    (tmp_path / "audit.tsv").write_text("d1:000\tS\tCP\tstale\n")
    with pytest.raises(DataError, match=r"audit.tsv:1: d1:000: the audit corrects S but the adjudicated label is C"):
        load_real_rows(tmp_path)
    (tmp_path / "audit.tsv").write_text("zz:000\tS\tCP\tunknown\n")
    with pytest.raises(DataError, match=r"audit.tsv:1: audit row zz:000 matches no labelled real sentence"):
        load_real_rows(tmp_path)


def test_write_batches_refuses_to_overwrite_and_views_number_every_sentence(tmp_path):
    write_batches(SENTENCES, tmp_path, "t", 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t-01", "t-02"]  # documents kept whole
    with pytest.raises(DataError, match="batch exists already"):
        write_batches(SENTENCES, tmp_path, "t", 2)
    view = reader_view([{"n": i, **s} for i, s in enumerate(SENTENCES, 1)])
    assert "[1] Russia will build the bridge." in view and "[3] We support Chile's candidacy." in view
    assert view.count("===") == 2


# ---- the committed real data --------------------------------------------------------------
REAL_ROWS = load_real_rows()


def test_real_rows_never_come_from_dev_documents_or_evaluation_sessions():
    assert REAL_ROWS, "data/real holds no labelled batch"
    for row in REAL_ROWS:
        if row["register"] == "ungd":
            assert 70 <= row["session"] <= 76, row["id"]
            assert row["doc_id"].endswith(f"_{row['session']}_{row['year']}")
    if DEV_FILE.is_file():
        dev_docs = {json.loads(line)["doc"].removesuffix(".txt") for line in DEV_FILE.read_text().splitlines() if line}
        assert not dev_docs & {r["doc_id"] for r in REAL_ROWS}


def test_every_real_row_keeps_its_source_and_place():
    for row in REAL_ROWS:
        assert isinstance(row["start"], int) and row["end"] > row["start"]
        if row["register"] == "communique":
            assert row["url"].startswith("http") and row["publisher"] and row["date"]
        else:
            assert row["country"] and row["stratum"] in ("random", "uncertain", "diverse")


def test_every_batch_is_complete_or_plainly_pending():
    """A batch loads only with both readings and the adjudication; one still being read is
    reported as pending (and trains nothing): no half-read batch can pass for labelled."""
    statuses = batch_statuses()
    labelled = {r["batch"] for r in REAL_ROWS}
    for name, status in statuses.items():
        assert status == "labelled" or status.startswith("pending (no "), (name, status)
        assert (name in labelled) == (status == "labelled"), name


@pytest.mark.slow
def test_real_text_is_the_sentence_its_offsets_name_in_the_source(require_corpus):
    un = {}
    with gzip.open(CORPUS_DIR / "ungd-2015-2024.jsonl.gz", "rt", encoding="utf-8") as fh:
        wanted = {r["doc_id"] for r in REAL_ROWS if r["register"] == "ungd"}
        for line in fh:
            obj = json.loads(line)
            if obj["id"] in wanted:
                un[obj["id"]] = obj["text"]
    splits = {}
    for row in REAL_ROWS:
        if row["register"] == "ungd":
            raw = un[row["doc_id"]]
        else:
            raw = (CORPUS_DIR / "communiques" / f"{row['doc_id']}.txt").read_text(encoding="utf-8")
        assert raw[row["start"]:row["end"]] == row["text"], row["id"]
        sents = splits.get(row["doc_id"]) or splits.setdefault(row["doc_id"], split_document(raw, row["doc_id"]))
        assert sents[row["sent_idx"]].text == row["text"], row["id"]


def test_whole_communiques_are_labelled(require_corpus):
    import csv

    with (CORPUS_DIR / "communiques" / "manifest.tsv").open() as fh:
        files = [m["file"].removesuffix(".txt") for m in csv.DictReader(fh, delimiter="\t")]
    from data.real import excluded_ids

    left_out = excluded_ids()
    labelled = {r["doc_id"] for r in REAL_ROWS if r["register"] == "communique"}
    for doc in labelled:
        raw = (CORPUS_DIR / "communiques" / f"{doc}.txt").read_text(encoding="utf-8")
        ids = {r["id"] for r in REAL_ROWS if r["doc_id"] == doc}
        expected = {f"{doc}:{s.sent_idx:03d}" for s in split_document(raw, doc)}
        assert ids == expected - left_out, doc  # every sentence, but those left out for evaluation overlap
    assert labelled <= set(files)


def test_the_published_dataset_loads_with_datasets(tmp_path):
    import datasets

    from data.bundled import load_bundled
    from data.labels import LABELS
    from data.publish import write_hf_dataset
    from data.records import rows_hash

    rows = load_bundled()
    write_hf_dataset(rows, tmp_path / "hf", rows_hash(rows))
    ds = datasets.load_dataset("parquet", data_files={"train": str(tmp_path / "hf/data/train-*.parquet")},
                               cache_dir=str(tmp_path / "cache"))["train"]
    assert len(ds) == len(rows)
    assert ds.features["labels"].feature.names == list(LABELS)
    i = next(k for k, r in enumerate(rows) if r["source"] == "real" and r["labels"])
    assert ds[i]["id"] == rows[i]["id"] and [LABELS[j] for j in ds[i]["labels"]] == rows[i]["labels"]
    assert "---" in (tmp_path / "hf/README.md").read_text()


def test_ingest_random_selection_is_seeded_and_excludes_known_ids(seed_tfidf_model, tmp_path):
    from conftest import run_cli

    docs = write_jsonl(tmp_path / "docs.jsonl", [
        {"id": f"doc{i}", "text": " ".join(f"Sentence {j} of document {i} says we will act." for j in range(8))}
        for i in range(5)])
    outs = []
    for name, extra in (("a", []), ("b", []), ("c", ["--exclude", tmp_path / "a.jsonl"])):
        r = run_cli("ingest", docs, "--model", seed_tfidf_model, "--select", "random", "--n", "10", "--seed", "3",
                    "--output", tmp_path / f"{name}.jsonl", *extra, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        outs.append([json.loads(line)["id"] for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()])
    assert outs[0] == outs[1] and len(outs[0]) == 10
    assert not set(outs[2]) & set(outs[0]) and len(outs[2]) == 10
    r = run_cli("ingest", docs, "--model", seed_tfidf_model, "--select", "random", "--n", "3",
                "--exclude", tmp_path / "missing.jsonl", "--output", tmp_path / "d.jsonl", cwd=tmp_path)
    assert r.returncode == 2 and "missing.jsonl: no such file" in r.stderr


def test_the_audit_ranks_rows_whose_label_the_held_out_model_contradicts():
    import numpy as np

    from training.audit import flag_label_issues

    rng = np.random.default_rng(0)
    labels = [["commitment"] if i % 3 == 0 else ["support_declaration"] if i % 3 == 1 else [] for i in range(90)]
    probs = np.full((90, 3), 0.05)
    for i, lab in enumerate(labels):
        for k, name in enumerate(("commitment", "support_declaration", "project_pledge")):
            if name in lab:
                probs[i, k] = 0.9 + 0.05 * rng.random()
    planted = [4, 40, 76]  # the model is sure these are support_declaration, yet they are labelled project_pledge
    for i in planted:
        labels[i] = ["project_pledge"]
    rows = [{"id": f"r{i}", "text": f"sentence {i}", "labels": lab} for i, lab in enumerate(labels)]
    flagged = flag_label_issues(rows, probs)
    # every flag is a planted error (confident learning may leave some out), none a good row
    assert {f["id"] for f in flagged} <= {f"r{i}" for i in planted} and len(flagged) >= 2
    assert flagged[0]["model_labels"] == ["support_declaration"] and flagged[0]["labels"] == ["project_pledge"]


def test_a_blank_reading_is_not_a_none(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("1\tC\n2\t\n3\t-\n")
    with pytest.raises(DataError, match=r"r.tsv:2: no codes \(write - for none\)"):
        read_tsv(path, 3)


def test_data_weight_repeats_the_given_files_whatever_their_name(tmp_path):
    from training.train import gather_training_rows

    path = write_jsonl(tmp_path / "real.jsonl", [  # named like a bundled source
        {"id": "n:1", "text": "Peru will build the Chancay port.", "labels": ["commitment", "project_pledge"]},
        {"id": "n:2", "text": "The talks ended.", "labels": []}])
    rows, _ = gather_training_rows([path], authored=False, real=False, data_weight=3)
    assert sum(r["id"].startswith("n:1") for r in rows) == 3


def test_no_real_row_shares_text_with_evaluation_only_documents(require_corpus):
    from data.real import excluded_ids
    from data.real_sources import evaluation_only_runs, without_evaluation_text

    runs = evaluation_only_runs(require_corpus.parent)
    _, overlapping = without_evaluation_text([{"text": r["text"]} for r in REAL_ROWS], runs)
    assert not overlapping, overlapping[:3]
    assert not excluded_ids() & {r["id"] for r in REAL_ROWS}
    for path in REAL_DIR.glob("*/sentences.jsonl"):  # nothing but the sentences themselves is stored
        assert '"context_before"' not in path.read_text(encoding="utf-8"), path
