"""Actors, targets and project spans: the resolution rules on sentences written for these
tests, every labelled seed sentence against the double-read gold, and the gold files."""

import pytest

from data.actor_annotation import ActorReading, load_batch, load_gold
from data.errors import DataError
from evaluation.actor_eval import as_reading, evaluate_actors, predict_gold, score_readings
from models.actors import ActorAnnotator, DocumentContext, extract, find_projects


def _run(sentences, meta, labels=("commitment",)):
    annotate = ActorAnnotator()
    return [annotate("doc", s, labels if i == len(sentences) - 1 else (), meta) for i, s in enumerate(sentences)][-1]


def test_reported_speech_gives_the_state_of_the_reported_clause():
    x = _run(["Ruritanian leaders met in Zenda.", "The minister said that Mongolia is ready to expand grain exports."], {})
    assert x.actors == ("MNG",)


def test_a_person_introduced_with_a_demonym_is_remembered():
    x = _run(["Kazakh President Kassym Tokayev received the delegation.",
              "Tokayev said his government will open two new border crossings."], {})
    assert x.actors == ("KAZ",)


def test_the_two_sides_are_the_parties_of_the_title():
    x = _run(["The two sides agreed to hold consultations every year."],
             {"title": "Talks between Armenia and Georgia", "publisher": "example.org"})
    assert set(x.actors) == {"ARM", "GEO"}


def test_first_person_in_a_un_speech_is_the_speaking_country():
    x = _run(["We will double our contribution to peacekeeping training."], {"country": "NPL"})
    assert x.actors == ("NPL",)


def test_we_in_a_joint_statement_is_every_signatory():
    x = _run(["We intend to launch a joint fisheries survey."],
             {"title": "Joint Statement of Chile and Peru on Ocean Science", "publisher": "example.org"})
    assert set(x.actors) == {"CHL", "PER"}


def test_publisher_state_and_speaker_prefix():
    kremlin = {"publisher": "en.kremlin.ru", "title": "Meeting with the Governor"}
    assert _run(["The President will visit the new plant next month."], kremlin).actors == ("RUS",)
    x = _run(["President of Belarus Alexander Lukashenko: Thank you.", "We will keep our promises on supplies."], kremlin)
    assert x.actors == ("BLR",)


def test_support_target_and_each_other():
    ctx = DocumentContext.for_document([], {"title": "Talks between Chile and Peru"})
    assert extract("Chile firmly supports Peru's candidacy for the council.", ["support_declaration"], ctx).targets == ("PER",)
    x = extract("Chile and Peru will support each other on core issues.", ["commitment", "support_declaration"], ctx)
    assert set(x.actors) == {"CHL", "PER"} and set(x.targets) == {"CHL", "PER"}


def test_project_spans_have_offsets_into_the_sentence():
    text = "Both governments will finance the Lake Tana solar farm and a new maritime academy."
    spans = find_projects(text)
    assert [t for _, _, t in spans] == ["Lake Tana solar farm", "new maritime academy"]
    assert all(text[s:e] == t for s, e, t in spans)
    # a generic head is only a fallback, and a capitalised function word still ends the phrase
    assert [t for _, _, t in find_projects("They discussed key projects.")] == ["key projects"]
    assert [t for _, _, t in find_projects("Kenya will open the Lamu port and key projects.")] == ["Lamu port"]


def test_unlabelled_sentences_get_no_fields():
    x = _run(["Nepal will host the summit."], {"country": "NPL"}, labels=())
    assert (x.actors, x.targets, x.projects) == ((), (), ())


def test_every_labelled_seed_sentence_has_the_right_actor():
    seeds = [g for g in load_gold() if g.sentence["register"] == "seed"]
    assert len(seeds) == 36
    predicted = [as_reading(x) for x in predict_gold(seeds)]
    wrong = [(g.sentence["n"], p.actors, g.gold.actors) for p, g in zip(predicted, seeds)
             if sorted(p.actors) != sorted(g.gold.actors)]
    assert wrong == []


def test_gold_batches_load_and_readers_agree_far_above_chance():
    report = evaluate_actors()
    assert report["gold_sentences"] >= 436
    agreement = report["reader_agreement"]
    assert agreement["actor_accuracy"] > 0.9 and agreement["project_overlap"]["f1"] > 0.9


def test_span_scores_exact_and_overlap():
    sentences = [{"text": "They will build the Lake Tana solar farm.", "labels": ["project_pledge"]}]
    gold = [ActorReading(("ETH",), (), ("Lake Tana solar farm",))]
    pred = [ActorReading(("ETH",), (), ("Tana solar farm",))]
    scores = score_readings(pred, gold, sentences)
    assert scores["project_exact"]["f1"] == 0 and scores["project_overlap"]["f1"] == 1
    assert scores["actor_accuracy"] == 1


def test_a_reading_with_a_bad_code_or_span_names_file_and_line(tmp_path):
    batch = tmp_path / "b"
    batch.mkdir()
    (batch / "sentences.jsonl").write_text('{"n": 1, "text": "Chile will build a port.", "labels": ["commitment"]}\n')
    for name in ("reading_a.tsv", "reading_b.tsv"):
        (batch / name).write_text("1\tCHL\t-\tport\n")
    (batch / "adjudication.tsv").write_text("")
    assert load_batch(batch)[0].gold.actors == ("CHL",)
    (batch / "reading_b.tsv").write_text("1\tChile\t-\t-\n")
    with pytest.raises(DataError, match=r"reading_b.tsv:1: 'Chile' is not an ISO 3166"):
        load_batch(batch)
    (batch / "reading_b.tsv").write_text("1\tCHL\t-\tairport\n")
    with pytest.raises(DataError, match="not in the sentence"):
        load_batch(batch)
    (batch / "reading_b.tsv").write_text("1\tPER\t-\tport\n")
    with pytest.raises(DataError, match="differ and it is not adjudicated"):
        load_batch(batch)
