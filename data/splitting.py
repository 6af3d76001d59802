"""Rule-based sentence splitting for news wires, readouts, transcripts and speeches.

Each paragraph (a run of non-blank lines) is cut into segments. Lines that are
boilerplate of the source site (timestamps, editor lines, disclaimers, photo
credits, datelines, "date YYYY-MM-DD" prefixes) become their own segments flagged
with the kind of boilerplate, so nothing is dropped and the labelled data can
still tell them apart. Body text is split by pysbd (rule-based, no download).

Invariant (tested): segments are in order, do not overlap, ``raw[start:end] ==
text``, and together they cover every non-space character of the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd


@dataclass(frozen=True)
class Sentence:
    doc_id: str
    sent_idx: int
    start: int  # character offset into the raw document
    end: int  # exclusive
    text: str
    boilerplate: str | None = None  # None for body text, else the kind of boilerplate


# Whole-paragraph boilerplate, matched against the stripped paragraph.
_BOILERPLATE_PARAGRAPHS: list[tuple[str, re.Pattern]] = [
    # "Xinhua) 14:25, May 20, 2024" (the site cuts the opening parenthesis)
    ("timestamp", re.compile(r"^\(?[A-Z][A-Za-z]+\)\s*\d{1,2}:\d{2},\s+[A-Z][a-z]+\.? \d{1,2},\s+\d{4}$")),
    # "2023-05-19The Source:Xinhua"
    ("source_line", re.compile(r"^\d{4}-\d{2}-\d{2}\s*The Source:.*$")),
    ("web_editor", re.compile(r"^\((?:Web editor|Editor)s?:.*\)$")),
    ("disclaimer", re.compile(r"^This article only represents the author's personal views")),
]
# Prefixes cut off a paragraph before the body is split.
_DATE_PREFIX = re.compile(r"date \d{4}-\d{2}-\d{2}(?=\s)")
_DATELINE = re.compile(
    r"[A-Z][A-Z.'\- ]+(?:, [A-Z][A-Za-z.'\- ]+)?, "  # CITY[, Country],
    r"[A-Z][a-z]+\.? \d{1,2} \((?:Xinhua|Reuters|AP|AFP|TASS|Sputnik)\) ?--"
)
# "(Xinhua/Yin Bogu)" closing a photo caption.
_PHOTO_CREDIT = re.compile(r"\((?:Xinhua|Photo|AP|AFP|Reuters)/[^()]+\)$")
_TERMINAL = re.compile(r"[.!?;:]['\"”’)]*$")
_HEADLINE_MAX_WORDS = 30


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_document(raw: str, doc_id: str) -> list[Sentence]:
    """Split one document into sentences with offsets into ``raw``.

    >>> [(s.text, s.boilerplate) for s in split_document(
    ...     "BISHKEK, May 20 (Xinhua) -- Japarov met Xi in Astana. Both smiled.", "d")]
    [('BISHKEK, May 20 (Xinhua) --', 'dateline'), ('Japarov met Xi in Astana.', None), ('Both smiled.', None)]
    """
    spans: list[tuple[int, int, str | None]] = []
    for p_start, p_end in _paragraphs(raw):
        spans.extend(_split_paragraph(raw, p_start, p_end))
    return [
        Sentence(doc_id, i, s, e, raw[s:e], kind) for i, (s, e, kind) in enumerate(spans)
    ]


def _paragraphs(raw: str):
    """(start, end) of each non-blank line, stripped.

    Wires and transcripts put one paragraph per line. A literal backslash-n (two
    characters, as left in some scraped corpora) also ends a paragraph.
    """
    cursor = 0
    for sep in re.finditer(r"\n|\\n|$", raw):
        line = raw[cursor : sep.start()]
        stripped = line.strip()
        if stripped:
            s = cursor + line.index(stripped[0])
            yield s, s + len(stripped)
        cursor = sep.end()
        if sep.start() == len(raw):
            break


def _split_paragraph(raw: str, start: int, end: int):
    text = raw[start:end]
    for kind, pattern in _BOILERPLATE_PARAGRAPHS:
        if pattern.search(text):
            yield from _body_spans(raw, start, end, kind)
            return
    # Leading "date 2024-07-04" and datelines are their own segments.
    for kind, pattern in (("date", _DATE_PREFIX), ("dateline", _DATELINE)):
        m = pattern.match(raw, start, end)
        if m:
            yield m.start(), m.end(), kind
            start = _skip_space(raw, m.end(), end)
    if start >= end:
        return
    credit = _PHOTO_CREDIT.search(raw, start, end)
    if credit:
        body_end = _rskip_space(raw, start, credit.start())
        yield from _body_spans(raw, start, body_end, "caption")
        yield credit.start(), credit.end(), "credit"
        return
    text = raw[start:end]
    if not _TERMINAL.search(text) and len(text.split()) <= _HEADLINE_MAX_WORDS:
        yield start, end, "headline"
        return
    yield from _body_spans(raw, start, end, None)


# pysbd's time grows with the square of the paragraph length (a 200 KB paragraph took 44 s), so
# long paragraphs are cut first at safe sentence ends (a lowercase word of 3+ letters, a full
# stop, space, a capital: a boundary pysbd makes too), into pieces of about _CHUNK characters.
_CHUNK = 2000
_SAFE_BREAK = re.compile(r"(?<=[a-z]{3}[.!?])\s+(?=[A-Z])")
_FORCED_BREAK = re.compile(r"\s+")


def _pieces(start: int, end: int, raw: str):
    """(start, end) pieces of raw[start:end] for pysbd: the paragraph itself when short; else
    cuts at safe sentence ends every ~_CHUNK characters (at a space only when no sentence end
    comes within 10 * _CHUNK, e.g. a megabyte with no full stop). Linear in the length.

    >>> text = "One cat sat here. " * 300
    >>> ps = list(_pieces(0, len(text), text))
    >>> len(ps) > 1 and all(text[a:b].endswith("here.") for a, b in ps[:-1])
    True
    """
    cursor = start
    while end - cursor > 2 * _CHUNK:
        m = _SAFE_BREAK.search(raw, cursor + _CHUNK, min(end, cursor + 10 * _CHUNK))
        if m is None:
            m = _FORCED_BREAK.search(raw, cursor + 10 * _CHUNK, end)
            if m is None:
                break
        yield cursor, m.start()
        cursor = m.end()
    yield cursor, end


def _body_spans(raw: str, start: int, end: int, kind: str | None):
    """pysbd sentences of raw[start:end], located back in raw by search (long paragraphs are
    split in pieces first, see _pieces)."""
    for a, b in _pieces(start, end, raw):
        yield from _piece_spans(raw, a, b, kind)


def _piece_spans(raw: str, start: int, end: int, kind: str | None):
    if start >= end:
        return
    text = raw[start:end]
    cursor = 0
    for piece in _segmenter().segment(text):
        piece = piece.strip()
        if not piece:
            continue
        pos = text.find(piece, cursor)
        if pos < 0:  # pysbd changed the text; fall back to the rest of the paragraph
            pos = _skip_space(text, cursor, len(text))
            piece = text[pos:].rstrip()
        yield start + pos, start + pos + len(piece), kind
        cursor = pos + len(piece)
        if cursor >= len(text):
            break
    rest = text[cursor:].strip()
    if rest:  # anything pysbd did not return still belongs to a segment
        pos = text.index(rest, cursor)
        yield start + pos, start + pos + len(rest), kind


def _skip_space(s: str, i: int, end: int) -> int:
    while i < end and s[i].isspace():
        i += 1
    return i


def _rskip_space(s: str, start: int, i: int) -> int:
    while i > start and s[i - 1].isspace():
        i -= 1
    return i
