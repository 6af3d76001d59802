"""`diplostance track`: project pledges grouped across name variants and over time, stances by
actor and target, from scored rows written for these tests."""

import csv
import json

import pytest

from diplostance.cli import main
from diplostance.track import merge_variants, project_key, track


def _row(doc, idx, text, labels, actors, targets=(), projects=(), **meta):
    return {"doc_id": doc, "sent_idx": idx, "text": text, "labels": list(labels), "actors": list(actors),
            "targets": list(targets), "projects": [{"start": text.find(p), "end": text.find(p) + len(p), "text": p}
                                                  for p in projects], **meta}


ROWS = [
    _row("a", 3, "Both sides will speed up the Chile-Peru-Bolivia railway project.", ["commitment", "project_pledge"],
         ["CHL", "PER"], projects=["Chile-Peru-Bolivia railway project"], date="2021-04-02"),
    _row("b", 7, "Work on the CPB railway will resume.", ["project_pledge"], ["PER"], projects=["CPB railway"],
         date="2023-11-20"),
    _row("c", 1, "Chile will finance the Chile Peru Bolivia railway.", ["commitment", "project_pledge"], ["CHL"],
         projects=["Chile Peru Bolivia railway"], year=2022),
    _row("c", 2, "Chile supports Bolivia's bid.", ["support_declaration"], ["CHL"], ["BOL"], year=2022),
    _row("d", 0, "Peru backs Bolivia's bid.", ["support_declaration"], ["PER"], ["BOL"]),
    _row("d", 1, "Nothing pledged here.", [], []),
]


def test_name_variants_and_acronyms_share_one_project():
    keys = merge_variants(["Chile-Peru-Bolivia railway project", "CPB railway", "Chile Peru Bolivia railway",
                           "Lamu port"])
    assert len({keys["Chile-Peru-Bolivia railway project"], keys["CPB railway"], keys["Chile Peru Bolivia railway"]}) == 1
    assert keys["Lamu port"] != keys["CPB railway"]
    assert project_key("Lamu port")[1] == "port"


def test_project_table_spans_first_to_last_date_with_actors_and_documents():
    result = track(ROWS, dates={"d": "2020-01-01"})
    (railway,) = result["projects"]
    assert (railway["first"], railway["last"]) == ("2021-04-02", "2023-11-20")
    assert railway["pledges"] == 3 and railway["documents"] == 3 and railway["actors"] == "CHL;PER"
    pairs = {(p["actor"], p["target"], p["label"]): p for p in result["pairs"]}
    assert pairs[("CHL", "BOL", "support_declaration")]["first"] == "2022"
    assert pairs[("PER", "BOL", "support_declaration")]["first"] == "2020-01-01"  # from the metadata CSV
    assert pairs[("CHL", "-", "commitment")]["sentences"] == 2


def test_track_cli_writes_tables_and_figure(tmp_path):
    scored = tmp_path / "scored.jsonl"
    scored.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    meta = tmp_path / "meta.csv"
    meta.write_text("doc_id,date\nd,2020-01-01\n")
    assert main(["track", str(scored), "--output", str(tmp_path / "out"), "--metadata", str(meta)]) == 0
    with (tmp_path / "out" / "projects.csv").open() as fh:
        projects = list(csv.DictReader(fh))
    assert len(projects) == 1 and projects[0]["pledges"] == "3"
    assert (tmp_path / "out" / "pairs.csv").is_file() and (tmp_path / "out" / "pledges.jsonl").is_file()
    pytest.importorskip("matplotlib")
    assert (tmp_path / "out" / "timeline.png").stat().st_size > 1000


def test_track_refuses_scores_without_actor_columns(tmp_path, capsys):
    scored = tmp_path / "old.jsonl"
    scored.write_text(json.dumps({"doc_id": "a", "sent_idx": 0, "text": "x", "labels": []}) + "\n")
    assert main(["track", str(scored), "--output", str(tmp_path / "out")]) != 0
    assert "no actors/targets/projects columns" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": "a"}\nnot json\n')
    assert main(["track", str(bad), "--output", str(tmp_path / "out2")]) != 0
    assert "bad.jsonl:2" in capsys.readouterr().err


@pytest.mark.slow
def test_tracking_notebook_runs_on_track_output(tmp_path):
    scored = tmp_path / "scored.jsonl"
    scored.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert main(["track", str(scored), "--output", str(tmp_path / "seeds")]) == 0
    out = tmp_path / "tracking.ipynb"
    assert main(["notebook", "--track-dir", str(tmp_path / "seeds"), "--output", str(out)]) == 0
    cells = json.loads(out.read_text())["cells"]
    assert any("Chile-Peru-Bolivia" in json.dumps(c.get("outputs", [])) for c in cells)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_score_writes_actors_targets_and_project_offsets_then_track_reads_them(fmt, seed_tfidf_model, tmp_path):
    from pathlib import Path

    from diplostance.track import read_scored

    raw = sorted(Path("data/raw").glob("*.txt"))
    out = tmp_path / f"seeds.{fmt}"
    assert main(["score", *map(str, raw), "--model", str(seed_tfidf_model), "--output", str(out), "--quiet"]) == 0
    rows = read_scored(out)
    labelled = [r for r in rows if r["labels"]]
    assert labelled and all(r["actors"] for r in labelled)
    assert all(not r["actors"] and not r["projects"] for r in rows if not r["labels"])
    texts = {p.stem: p.read_text(encoding="utf-8") for p in raw}
    spans = [(r["doc_id"], p) for r in rows for p in r["projects"]]
    assert spans and all(texts[doc][p["start"]:p["end"]] == p["text"] for doc, p in spans)
    assert main(["track", str(out), "--metadata", "data/raw/metadata.csv", "--output", str(tmp_path / "t")]) == 0
    with (tmp_path / "t" / "projects.csv").open() as fh:
        top = next(csv.DictReader(fh))
    assert "railway" in top["project"] and int(top["documents"]) >= 3 and top["first"] < top["last"]


def test_reextract_recomputes_fields_from_text_and_labels(tmp_path):
    rows = [{"doc_id": "d", "sent_idx": 0, "start": 10, "text": "Chile will build the Lamu port.", "labels": ["commitment",
             "project_pledge"], "country": "CHL"}]
    scored = tmp_path / "old.jsonl"
    scored.write_text(json.dumps(rows[0]) + "\n")
    assert main(["track", str(scored), "--reextract", "--output", str(tmp_path / "out")]) == 0
    (pledge,) = [json.loads(line) for line in (tmp_path / "out" / "pledges.jsonl").read_text().splitlines()]
    assert pledge["project"] == "Lamu port" and pledge["actors"] == ["CHL"]
