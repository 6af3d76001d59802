import re

import pytest

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


# ---- the fast path gives the boundaries of pysbd (data/splitting.py, "The fast path") -----------
# Written for these tests: abbreviations, decimals, ellipses, quotes and brackets around sentence
# ends, list items, ? and !, initials, capitals, web addresses, sentences ending in digits, and the
# cases where pysbd does not end a sentence after ". " + capital. Each is long enough (or ends with
# a full stop) to be split as body text rather than kept whole as a headline.
TRICKY = [
    "The U.S. and Japan will build a port. It opens in 2030. The E.U. agreed, e.g. on trade. I.e. we all did.",
    "Mr. Smith met Dr. Jones and Mrs. Brown. They discussed resolution No. 5 and Art. 12 of the treaty. "
    "Gen. Ward left.",
    "Growth reached 3.5 per cent in 2023. Inflation fell to 2.75 per cent. The budget is 1,000.50 dollars.",
    "We waited... And waited. . . . Then the talks began... we hope. Nothing more….",
    'He said: "We will act. We are ready." Then he left. She asked “Why now?” Nobody answered. '
    'They replied, "No!" The end.',
    "The Goals (SDGs) matter (see annex I. A). The Council (in resolution 1234 (2001)) acted. "
    "Peace (we hope) will come.",
    "The plan has two aims: (a) to end hunger; (b) to build peace; and (c) to act now. Members agreed to (i) fund and "
    "(ii) report.",
    "Our priorities are: 1. peace; 2. development; 3. human rights. All three matter. See paragraph 4. "
    "The rest follows.",
    "Will the world act? We must! Can we wait?! No. Really?? Yes!!! We act now.",
    "President J. F. Kennedy spoke in 1961. John F. Kennedy said so. A. Guterres agreed. The P.M. The talks ended at "
    "5 p.m. Then we left.",
    "The UN. The USA. The NATO summit ended. THE WORLD IS WATCHING. WE ACT.",
    "See www.un.org/en/ga for details. Email info@un.org today. Visit http://example.org/a.b?x=1. The site is up.",
    "We adopted Goal 17. Partnerships matter. The target is 2030. SDG 5. Gender equality. COVID-19. It hit us. "
    "The G20. It met.",
    "He met the gen. The talks were long. The common man. I think so. It is etc. I said. Yahoo! The firm grew.",
    "1. The first point. 2. The second point. 3. The third.",
    "?? The text starts oddly. Then it goes on. And on!! Then stops.",
    "They called it 'the best. Truly the best' and left. The nations' rights matter. Our people's future too.",
    "He spoke -- at length. Very long. -- and then sat. The crowd left.",
    "The English. Then we eng. and left. Examples, e.g. this one, help. We use. I think so.",
    "The XCo. KG firm grew. The Co. KG firm too. Yes.",
    "Thank you, Mr. President. We agree. Thank you all for coming to this debate on the future of our nations and "
    "the world (see annex) Then more words follow without an end of sentence",
    "We agree with the speakers before us on the agenda of the Assembly. Then we list the points of our proposal: "
    "(a) food and (b) water and (c) peace for all the peoples of the world today",
    "Lists: a) first; b) second. The list ended. i) one; ii) two. Done.",
    "The «new deal. For all» was signed. The [draft. text] was read. The ‘old. order’ fell. It is over.",
    'The report " (see below) " is out. The " (annex) " too. We read it.',
    'We met. He said " (see annex) " Then it was over. Fine.',
    'We met. The so-called pro-" New order was set. Fine.',
    "We said it in the 1990s. The 2nd. The 3rd Committee met. Côte d’Ivoire. São Tomé agreed. Bogotá. It was ÉTÉ.",
    "He cited p. 5. The text (A/12/PV.34) notes it. See A/12/PV.34 The next. Footnote.12 The end.",
    "We thank H.E. Mr. António Guterres, Secretary-General. He leads us. Mr. President, we thank you. "
    "St. Lucia agrees.",
    "This is it: the end. The end; really. The end, no? Yes. She said “go”. He said “stay.” They left.",
]


def _spans(raw):
    return [(s.start, s.end, s.boilerplate) for s in split_document(raw, "d")]


def _reference_spans(raw):
    from data.splitting import reference

    with reference():
        return _spans(raw)


def test_fast_path_gives_the_boundaries_of_pysbd_on_hard_cases():
    for raw in TRICKY:
        assert _spans(raw) == _reference_spans(raw), raw
    # and as one paragraph, and in documents of several paragraphs with boilerplate
    assert _spans(" ".join(TRICKY)) == _reference_spans(" ".join(TRICKY))
    doc = "\n".join(["BISHKEK, May 20 (Xinhua) -- " + TRICKY[0], *TRICKY[1:], "(Web editor: A, B)"])
    assert _spans(doc) == _reference_spans(doc)
    for raw in ("", "(Xinhua/Yin Bogu)", "A photo. (Xinhua/Yin Bogu)", "date 2024-07-04 ", "Yes.", "Thank you"):
        assert _spans(raw) == _reference_spans(raw), raw


def test_fast_path_emits_plain_sentences_without_pysbd():
    from data.splitting import _parts

    plain = [text[a:b] for text in TRICKY for a, b, is_plain in _parts(text) or [] if is_plain]
    assert "It opens in 2030." in plain and "Growth reached 3.5 per cent in 2023." in plain
    assert "We thank H.E. Mr. António Guterres, Secretary-General." not in plain  # "H.E." needs pysbd
    assert len(plain) > 40


def test_fast_path_gives_the_boundaries_of_pysbd_on_random_compositions():
    """Sentences drawn from hard-case words, with a varying share of them, joined in paragraphs."""
    import random

    hard = ("Mr. U.S. e.g. i.e. etc. No. 5 3.5 2030 17. G20 COVID-19 a. b. (a) (b) 1) 2) 1. 2. (ii) J. P.M. I "
            "I'm nations' 'the plan' “We go.” \"we\" go.\" ‘word’ -- ... . . . ? ! ?! !! Yahoo! [1] «x» www.un.org "
            "gen. man. use. eng. USS. ph d. Co. KG 1990s. É. (SDGs). ”. -. A/12/PV.34 dr. vs. Inc.").split()
    plain = "peace security development nations together region climate them our and of to us it UN".split()
    starts = ["The", "We", "It", "I", "A", "However", "Mr.", "J.", "U.S.", "(a) The", "1. The", "“We", "'The", "??"]
    rng = random.Random(14)
    for _ in range(300):
        share = rng.choice([0.02, 0.1, 0.3])
        sentences = []
        for _ in range(rng.randint(1, 10)):
            words = [rng.choice(hard) if rng.random() < share else rng.choice(plain) for _ in range(rng.randint(1, 10))]
            end = rng.choice([".", ".", "?", "!", "", ".”", "…"])
            sentences.append(" ".join([rng.choice(starts), *words]) + end)
        raw = rng.choice([" ", " ", "  ", "\t"]).join(sentences)
        assert _spans(raw) == _reference_spans(raw), raw


def test_fast_path_gives_the_boundaries_of_pysbd_on_un_speeches(require_corpus):
    """A fixed sample of 30 UN speeches, read from ../shared at run time (skipped when absent)."""
    import gzip
    import json
    import random

    path = require_corpus / "ungd-2015-2024.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared corpus is read at run time, never committed)")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        speeches = [json.loads(line) for line in fh]
    for speech in random.Random(0).sample(speeches, 30):
        assert _spans(speech["text"]) == _reference_spans(speech["text"]), speech["id"]
