import re

from data.bundled import seed_documents
from data.splitting import split_document

DOCS = seed_documents()


def _segments(doc_prefix):
    doc_id = next(d for d in DOCS if d.startswith(doc_prefix))
    return split_document(DOCS[doc_id], doc_id)


def test_segments_cover_the_raw_text_in_order_without_overlap():
    for doc_id, raw in DOCS.items():
        sents = split_document(raw, doc_id)
        assert [s.sent_idx for s in sents] == list(range(len(sents)))
        previous_end = 0
        for s in sents:
            assert raw[s.start:s.end] == s.text
            assert s.start >= previous_end
            assert raw[previous_end:s.start].strip() == "", f"text dropped before {s.text[:30]!r}"
            previous_end = s.end
        assert raw[previous_end:].strip() == ""


def test_date_prefix_glued_before_headline_is_its_own_segment():
    s = _segments("000")
    assert (s[0].text, s[0].boilerplate) == ("date 2024-07-04", "date")
    assert s[1].text.startswith("Xi urges China") and s[1].boilerplate == "headline"


def test_date_prefix_before_a_lead_sentence_keeps_the_sentence_as_body():
    s = _segments("003")
    assert s[0].boilerplate == "date"
    assert s[1].text.startswith("China and Kyrgyzstan agreed on Wednesday") and s[1].boilerplate is None


def test_caption_credit_and_dateline():
    s = _segments("000")
    assert s[2].boilerplate == "caption" and s[2].text.endswith("July 3, 2024.")
    assert (s[3].text, s[3].boilerplate) == ("(Xinhua/Yin Bogu)", "credit")
    assert (s[4].text, s[4].boilerplate) == ("ASTANA, July 3 (Xinhua) --", "dateline")
    assert s[5].text.startswith("China and Kyrgyzstan should explore") and s[5].boilerplate is None


def test_dateline_with_country_and_timestamp_and_web_editor():
    s = _segments("004")
    kinds = {seg.text: seg.boilerplate for seg in s}
    assert kinds["Xinhua) 09:37, July 31, 2022"] == "timestamp"
    assert kinds["CHOLPON-ATA, Kyrgyzstan, July 30 (Xinhua) --"] == "dateline"
    assert kinds["(Web editor: Xian Jiangnan, Bianji)"] == "web_editor"


def test_source_line_related_headlines_and_disclaimer():
    s = _segments("001")
    assert (s[1].text, s[1].boilerplate) == ("2023-05-19The Source:Xinhua", "source_line")
    assert s[14].boilerplate == "headline" and "Tokayev" in s[14].text
    disclaimer = [seg for seg in s if seg.boilerplate == "disclaimer"]
    assert len(disclaimer) == 2 and disclaimer[-1].text.endswith("contact us.")


def test_body_sentences_split_at_sentence_ends_only():
    s = _segments("003")
    body = [seg.text for seg in s if seg.boilerplate is None]
    assert "Li is currently in Kyrgyzstan on an official visit." in body
    assert any(t.startswith("He will attend the 22nd Meeting") for t in body)
    # abbreviations inside a sentence do not cut it
    sents = split_document("The U.S. and Japan will build a port. It opens in 2030.", "x")
    assert [t.text for t in sents] == ["The U.S. and Japan will build a port.", "It opens in 2030."]


def test_literal_backslash_n_separates_paragraphs():
    raw = "First paragraph ends here.\\nSecond paragraph starts here."
    sents = split_document(raw, "d")
    assert [t.text for t in sents] == ["First paragraph ends here.", "Second paragraph starts here."]
    assert all(raw[t.start:t.end] == t.text for t in sents)


def test_no_body_sentence_contains_a_dateline():
    for doc_id, raw in DOCS.items():
        for s in split_document(raw, doc_id):
            if s.boilerplate is None:
                assert not re.search(r"\(Xinhua\) --", s.text)


def test_long_paragraphs_split_in_pieces_give_the_same_boundaries_as_one_pysbd_call():
    from benchmarks.splitting import synthetic_paragraph, whole_paragraphs

    text = "Mr. Smith went to Washington, D.C. on Monday. " + synthetic_paragraph(20_000, seed=3)
    pieces = [(s.start, s.end) for s in split_document(text, "long")]
    with whole_paragraphs():
        whole = [(s.start, s.end) for s in split_document(text, "long")]
    assert pieces == whole and len(pieces) > 100
