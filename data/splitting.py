"""Rule-based sentence splitting for news wires, readouts, transcripts and speeches.

Each paragraph (a run of non-blank lines) is cut into segments. Lines that are
boilerplate of the source site (timestamps, editor lines, disclaimers, photo
credits, datelines, "date YYYY-MM-DD" prefixes) become their own segments flagged
with the kind of boilerplate, so nothing is dropped and the labelled data can
still tell them apart. Body text is split where pysbd (rule-based, no download)
splits it; pysbd itself only sees the parts of a paragraph where its rules have
work to do (see "The fast path" below; inside `reference()` it sees everything).

Invariant (tested): segments are in order, do not overlap, ``raw[start:end] ==
text``, and together they cover every non-space character of the document.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.exclamation_words import ExclamationWords
from pysbd.lang.english import English


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
# stop, space, a capital: a boundary pysbd makes too, bar rare cases such as "the gen. The" or a
# quotation running over it), into pieces of about _CHUNK characters.
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
    """Sentences of raw[start:end]: the paragraph is cut into pieces (see _pieces), each piece is
    split by _fast_piece_spans, or by one pysbd call per piece inside `reference()`."""
    for a, b in _pieces(start, end, raw):
        if _USE_PYSBD_ONLY:
            yield from _piece_spans(raw, a, b, kind)
        else:
            yield from _fast_piece_spans(raw, a, b, kind)


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


# The fast path. pysbd spends about half a millisecond per sentence (it compiles a regex for each
# sentence it returns, and rescans the text once per word that starts like one of its
# abbreviations), yet most sentences of a speech need none of its rules. So each piece is cut at
# the sentence ends pysbd is sure to make (_cuts); a part between two cuts in which pysbd has
# nothing to split (_is_plain) is a sentence as it is, and only the other parts go to pysbd, one
# call each. Why that gives the boundaries of one pysbd call on the piece (tests/test_splitting.py
# and benchmarks/splitting.py compare the two on UN speeches and on hand-written hard cases):
# * A cut is a single space after . ! or ? and before a capital letter. Most rules of pysbd look
#   only at the word before a mark and the word after it; from those, pysbd ends a sentence there
#   unless the mark follows a space, another mark, or a letter standing alone or after a "."
#   ("J. F.", "U.S. The"); the word is one of pysbd's abbreviations ("gen. The", "etc. I"; the "."
#   of "e.g", "u.s" ... matches any character) or "Yahoo!", or 1-2 digits at the start ("1. The");
#   or the next word is a capital and a full stop ("P.M. The": read with the space before) or "KG"
#   after "Co.". None of those is cut.
# * The rules that see further are not allowed to reach over a cut (_zones): spans between quotes,
#   brackets, parentheses or "--" pairs (pysbd ignores the marks inside), items of what may be a
#   list ("(a) ... (b)", "1. ... 2.": pysbd looks for consecutive items over the whole text), and
#   `" (...) "`; a single-quoted span also depends on every "'" of the text. Where one of those
#   might apply, no cut is made, so the text on each side of a cut is split as it would be alone.
#   Likewise a part that pysbd splits has to hold the written "e.g" (...) if the piece has it and
#   the part a word it would match ("eng."), else the piece goes to pysbd whole.
# * A part is plain when its only . ! or ? ends it (or it has none), apart from titles ("Mr. X")
#   and numbers ("3.5") that pysbd never ends a sentence on; when it does not start with a quote or
#   bracket (pysbd may end a sentence after a quoted or bracketed text there); and when it has no
#   list item, no `" (...) "` and no "-" before a quote. pysbd then returns it whole.
# * Pieces with a backslash, a line break other than a space, full-width punctuation or a character
#   that pysbd uses as a placeholder, and those starting with "??" "!!" "?!" "!?" (which turn some
#   of its rules off for the whole text), go to pysbd whole.
_USE_PYSBD_ONLY = False


@contextmanager
def reference():
    """Within this block, split as before the fast path: every piece in one pysbd call. For tests and
    benchmarks that compare the two (a module-level switch: not for use across threads)."""
    global _USE_PYSBD_ONLY
    saved, _USE_PYSBD_ONLY = _USE_PYSBD_ONLY, True
    try:
        yield
    finally:
        _USE_PYSBD_ONLY = saved


_OPAQUE = re.compile("[\\\\\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029。．！？（）「」∯∮♨☝✂⌬⎋ᓰᓱᓳᓴᓷᓸ☉☈☇☄ȸȹ☏ƪ♟♝♬♭]")
_DOUBLE_MARK = re.compile(r"\?!|!\?|\?\?|!!")
_SENTENCE_END = re.compile(r"[.!?] (?=[A-Z])")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ABBREVIATION = re.compile("|".join(English.Abbreviation.ABBREVIATIONS), re.IGNORECASE)  # "." unescaped, as in pysbd
_ABBREVIATION_TAILS = ("phil", "philos")  # "d phil." matches "d.phil"
_WILDCARD_ABBREVIATIONS = {w: re.compile(rf"(?<!\S){w}\.", re.IGNORECASE)
                           for w in English.Abbreviation.ABBREVIATIONS if "." in w}
_EXCLAMATION_WORDS = tuple(w[:-1] for w in ExclamationWords.EXCLAMATION_WORDS if w.endswith("!"))
# From an opening mark to the closing one pysbd would pair it with.
_PAIRED = {"(": re.compile(r"\([^)]*\)"), "[": re.compile(r"\[[^\]]*\]"), "“": re.compile(r"“[^”]*”"),
           "«": re.compile(r"«[^»]*»"), "‘": re.compile(r"‘(?:[^’]|’[a-zA-Z])*’")}
_SINGLE_QUOTE_OPENING = re.compile(r"(?<![^\W_])'")  # not an apostrophe in or after a word
_PARENS_IN_QUOTES = re.compile(r'["”]\s\(.*\)\s["“]')
# The mark of what pysbd may take for a list item: " a." "(a)" " a)" "iv)" "5) " " 12." "-3.",
# found by the mark, then the characters before it (search " " + text).
_LIST_ITEM = re.compile(r"[.)](?:(?<=\s[a-z]\.)|(?<=[\s\-⁃]\d\.)(?=[\s)])|(?<=[\s\-⁃]\d\d\.)(?=[\s)])"
                        r"|(?<=[\s(][a-z]\))|(?<=[ivx]\))|(?<=\d\))(?=\s))")
_TITLES = "|".join(a for a in English.Abbreviation.PREPOSITIVE_ABBREVIATIONS if len(a) > 1)
_PLAIN = re.compile(rf"(?![\s'\"“‘«(\[])(?:[^.!?]|(?<!\S)(?i:{_TITLES})\.(?=\s)|(?<=\d)\.(?=\d))*"
                    r"(?:(?<=\S)[.!?])?")
_DASH_QUOTE = re.compile("-[\"'“”]")


def _fast_piece_spans(raw: str, start: int, end: int, kind: str | None):
    """The spans of _piece_spans(raw, start, end, kind), calling pysbd only where needed (see above)."""
    text = raw[start:end]
    parts = None if not text or _OPAQUE.search(text) or _DOUBLE_MARK.match(text) else _parts(text)
    if parts is None:
        yield from _piece_spans(raw, start, end, kind)
        return
    for a, b, plain in parts:
        if plain:
            yield start + a, start + b, kind
        else:
            yield from _piece_spans(raw, start + a, start + b, kind)


def _parts(text: str) -> list[tuple[int, int, bool]] | None:
    """(start, end, plain) of the parts of text between cuts, or None if pysbd must see it whole.

    >>> text = "We met Mr. Li in 2024. Growth was 3.5 per cent. We want (a) peace and (b) aid. Done"
    >>> for a, b, plain in _parts(text):
    ...     print(plain, text[a:b])
    True We met Mr. Li in 2024.
    True Growth was 3.5 per cent.
    False We want (a) peace and (b) aid.
    True Done
    """
    items = [m.start() - 1 for m in _LIST_ITEM.finditer(" " + text)]
    lists = (max(0, items[0] - 8), items[-1] + 2) if len(items) > 1 else (0, 0)
    cuts = _cuts(text, lists)
    parts = [(a, b, _is_plain(text[a:b]) and not (a < lists[1] and lists[0] < b))
             for a, b in zip([0] + [c + 1 for c in cuts], cuts + [len(text)])]
    written = [w for w in _WILDCARD_ABBREVIATIONS if w in text.lower()]
    for a, b, plain in parts if written else ():
        if not plain and any(w not in text[a:b].lower() and _WILDCARD_ABBREVIATIONS[w].search(text, a, b)
                             for w in written):
            return None
    return parts


def _cuts(text: str, lists: tuple[int, int] = (0, 0)) -> list[int]:
    """Offsets in text of the spaces where the fast path cuts (see above); no cut falls in `lists`.

    >>> text = 'He met the gen. Then they left. They said "We stay. We go." It is over. Yes sir.'
    >>> [text[c - 5:c] for c in _cuts(text)]
    ['left.', 'over.']
    """
    zones = _zones(text, lists)
    cuts: list[int] = []
    z = 0
    for m in _SENTENCE_END.finditer(text):
        mark, space = m.start(), m.end() - 1
        while z < len(zones) and zones[z][1] <= space:
            z += 1
        if z < len(zones) and zones[z][0] <= space:
            continue
        before = text[max(0, mark - 16):mark]
        if (not before or before[-1].isspace() or before[-1] in ".!?"
                or (before[-1] in _ASCII_LETTERS and not (len(before) > 1 and before[-2].isalnum()))):
            continue
        word = before.split()[-1]
        if ((word.isdigit() and len(word) < 3 and mark == len(word))
                or _ABBREVIATION.fullmatch(word) or word.lower().endswith(_ABBREVIATION_TAILS)
                or (text[mark] == "!" and word.endswith(_EXCLAMATION_WORDS))
                or text.startswith(".", space + 2) or (text.startswith("KG", space + 1) and word.endswith("Co"))):
            continue
        cuts.append(space)
    return cuts


def _zones(text: str, lists: tuple[int, int]) -> list[tuple[int, int]]:
    """Sorted, disjoint (start, end) spans of text in which no cut is made (see above)."""
    zones = [m.span() for opening, pattern in _PAIRED.items() if opening in text for m in pattern.finditer(text)]
    for mark in ('"', "--"):
        first, last = text.find(mark), text.rfind(mark)
        if first < last:
            zones.append((first, last + len(mark)))
    if _SINGLE_QUOTE_OPENING.search(text):
        zones.append((text.find("'"), text.rfind("'") + 1))
    if "(" in text:
        zones.extend(m.span() for m in _PARENS_IN_QUOTES.finditer(text))
    zones.append(lists)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(zones):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _is_plain(part: str) -> bool:
    return bool(_PLAIN.fullmatch(part)
                and not ("-" in part and _DASH_QUOTE.search(part))
                and not ("(" in part and _PARENS_IN_QUOTES.search(part)))


def _skip_space(s: str, i: int, end: int) -> int:
    while i < end and s[i].isspace():
        i += 1
    return i


def _rskip_space(s: str, start: int, i: int) -> int:
    while i > start and s[i - 1].isspace():
        i -= 1
    return i
