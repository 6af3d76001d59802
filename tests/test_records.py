import json

import pytest

from data.bundled import load_bundled, load_seed_rows, RAW_DIR
from data.errors import DataError
from data.labels import LABELS
from data.records import check_consistent_labels, read_labelled_jsonl, rows_hash, to_dataset
from tests.conftest import write_jsonl

GOOD = {"id": "a:1", "text": "China will build a port.", "labels": ["commitment", "project_pledge"]}


def _error(tmp_path, lines):
    path = write_jsonl(tmp_path / "rows.jsonl", lines)
    with pytest.raises(DataError) as info:
        read_labelled_jsonl(path)
    return str(info.value)


def test_reads_valid_rows_and_canonicalises_label_order(tmp_path):
    path = write_jsonl(tmp_path / "rows.jsonl", [{**GOOD, "labels": ["project_pledge", "commitment"]}])
    (row,) = read_labelled_jsonl(path)
    assert row["labels"] == ["commitment", "project_pledge"]
    assert row["doc_id"] == "a" and str(row["where"]).endswith("rows.jsonl:1") and row["where"].line == 1


@pytest.mark.parametrize(
    "bad, message",
    [
        ({**GOOD, "labels": ["promise"]}, "unknown label 'promise'"),
        ({**GOOD, "text": "   "}, "empty text"),
        ({"id": "x", "text": "t"}, "missing field 'labels'"),
        ('{"id": "x", "text": ', "malformed JSON"),
        ({**GOOD, "labels": "commitment"}, "must be a list"),
    ],
)
def test_bad_row_names_file_and_line(tmp_path, bad, message):
    text = _error(tmp_path, [{**GOOD, "id": "ok"}, bad])
    assert "rows.jsonl:2:" in text and message in text


def test_duplicate_id_names_both_lines(tmp_path):
    text = _error(tmp_path, [GOOD, {**GOOD, "text": "Other."}])
    assert "rows.jsonl:2:" in text and "duplicate id 'a:1' (first at line 1)" in text


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_labelled_jsonl(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no rows"):
        read_labelled_jsonl(tmp_path / "empty.jsonl")


def test_conflicting_labels_for_the_same_sentence(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [GOOD, {**GOOD, "id": "b:1", "labels": []}])
    with pytest.raises(DataError, match=r"r.jsonl:2: conflicting labels"):
        check_consistent_labels(read_labelled_jsonl(path))


def test_dataset_has_explicit_features():
    rows = load_bundled(include_authored=False)
    ds = to_dataset(rows)
    assert ds.features["labels"].feature.names == list(LABELS)
    first_positive = next(i for i, r in enumerate(rows) if r["labels"])
    assert [LABELS[i] for i in ds[first_positive]["labels"]] == rows[first_positive]["labels"]


def test_seed_rows_are_all_labelled_and_hash_is_stable():
    rows = load_seed_rows()
    assert len(rows) == len({r["id"] for r in rows})
    assert {r["doc_id"] for r in rows} == {p.stem for p in RAW_DIR.glob("*.txt")}
    assert rows_hash(rows) == rows_hash(load_seed_rows())


def test_stale_annotation_text_is_an_error(tmp_path):
    from data.bundled import SEED_ANNOTATIONS

    lines = SEED_ANNOTATIONS.read_text().splitlines()
    row = json.loads(lines[5])
    row["text"] = row["text"] + " (edited)"
    lines[5] = json.dumps(row)
    edited = tmp_path / "seeds.jsonl"
    edited.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"seeds.jsonl:6: text of .* no longer matches"):
        load_seed_rows(annotations_path=edited)


def test_authored_rows_never_share_ids_with_seeds():
    rows = load_bundled(include_authored=True)
    assert len(rows) == len({r["id"] for r in rows})
    authored = [r for r in rows if r["source"] == "authored"]
    assert all(r["doc_id"].startswith("authored/") for r in authored)


def test_dataset_card_counts_match_the_data():
    from data.card import card_is_current

    assert card_is_current(load_bundled(include_authored=True)), "run: diplostance build-data --update-card"


def test_labelled_rows_are_typed_frozen_and_know_where_they_came_from(tmp_path):
    import dataclasses

    from data.records import LabelledRow

    path = write_jsonl(tmp_path / "r.jsonl", [{**GOOD, "labels": ["project_pledge", "commitment"]}])
    (row,) = read_labelled_jsonl(path)
    assert isinstance(row, LabelledRow)
    assert row.labels == ("commitment", "project_pledge") and row["labels"] == ["commitment", "project_pledge"]
    assert (row.where.path, row.where.line) == (str(path), 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.labels = ()
    with pytest.raises(TypeError):
        row["labels"] = []
    moved = row.replace(doc_id="d9", start=4)
    assert (moved.doc_id, moved["start"], row.doc_id, row.get("start")) == ("d9", 4, row.doc_id, None)
    assert moved.to_json()["where"] == f"{path}:1"
    with pytest.raises(DataError, match=r"r.jsonl:1: boom"):
        raise row.where.error("boom")
