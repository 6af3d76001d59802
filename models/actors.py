"""Who commits, whom they back, which project: actors, targets and project spans of labelled
sentences, resolved with document context (data/ACTORS.md defines them; issue 15).

Rules over party mentions (data.parties: pycountry's names, official names, demonyms and a
fixed list of organisations), read in document order:

- the *trigger*: where the stance is expressed ("will", "is ready to", "supports", "pledged",
  ...); the actor is the party named nearest before it in the sentence: a state or
  organisation ("China", "Kyrgyz"), a person the document has introduced ("Chinese President
  Xi Jinping" teaches Xi -> CHN), "the two sides" / "both countries" / "the leaders" (the
  document's two main parties), or a first-person word (we, our, my delegation: the speaker);
- the speaker: a transcript's speaker prefix ("President of Russia Vladimir Putin: ..."), the
  country of a UN speech, or the publisher's own state (the Kremlin: RUS, the White House: USA,
  Xinhua: CHN) when nothing closer names the actor;
- targets (support_declaration only): the first party named after the support trigger that is
  not an actor;
- projects (project_pledge only): each noun phrase ending in a project head noun (railway,
  plant, centre, fund, corridor, ...), from its first naming word to the head, with offsets.

Measured on the double-read gold sample (data/actors/, evaluation.actor_eval; README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from data.parties import LEADERS, find_parties

PUBLISHER_PARTIES = {"en.kremlin.ru": "RUS", "kremlin": "RUS", "whitehouse.gov": "USA", "whitehouse": "USA",
                     "xinhua": "CHN", "Xinhua": "CHN"}

COMMIT_TRIGGER = re.compile(
    r"\b(will|shall|would|is|are|am|was|were|remain|remains|stand|stands|stood)?\s*"
    r"(ready|willing|prepared|committed|determined|resolved|intend|intends|plan|plans|pledge[sd]?|commit(?:s|ted)?|"
    r"undertake[sn]?|undertook|agree[sd]?|decided|vow(?:s|ed)?|promise[sd]?|continue[sd]?|seek|seeks|aim|aims|"
    r"willingness|readiness|commitment|intention|will|shall|going to)\b", re.I)
SUPPORT_TRIGGER = re.compile(
    r"\b(support(?:s|ed|ing)?|back(?:s|ed|ing)?|endorse[sd]?|welcome[sd]?|adhere[sd]?|uphold(?:s)?|upheld|"
    r"stand(?:s)? (?:with|by)|stood with|recogni[sz]e[sd]?|respect(?:s|ed)?|appreciate[sd]?|commend(?:s|ed)?|"
    r"salute[sd]?|thank(?:s|ed)?|favou?r(?:s|ed)?|champion(?:s|ed)?|reaffirm(?:s|ed)?|spoke highly of|"
    r"speaks highly of|prais(?:e|es|ed)|hail(?:s|ed)?|value[sd]?|solidarity)\b", re.I)
# where a reported clause starts: "Xi said (that) ...", ", adding that ...", "; ..."
CLAUSE_BOUNDARY = re.compile(
    r"\b(?:said|says|noted|notes|stressed|added|adding|pointed out|emphasi[sz]ed|stated|expressed|announced|"
    r"declared|affirmed|reaffirmed|reiterated|underlined|underscored|believes?|hopes?|hoped|told|"
    r"assured|confirmed|mentioned|remarked|observed)\b(?: that)?|;|:", re.I)
PERSON_PRONOUN = re.compile(r"\b(He|She|he|she|His|his|Her|her)\b")
PROJECT_VERB = re.compile(r"\b(build|construct|launch|open|establish|implement|complete|finance|fund|develop|"
                          r"accelerat\w*|promot\w*|advanc\w*|creat\w*|set up|start|invest\w*)\b", re.I)
GROUP = re.compile(r"\b(the two sides|both sides|the sides|the two countries|both countries|the two leaders|"
                   r"both leaders|the leaders|the two presidents|the presidents|the two heads of state|"
                   r"the heads of state|the parties|the two nations|both nations|the two governments|"
                   r"both governments|the two states|they|together)\b", re.I)
FIRST_PERSON = re.compile(r"\b([Ww]e|[Oo]urs?|us|I|[Mm]y|[Mm]y delegation|[Mm]y [Gg]overnment|[Mm]y country|"
                          r"[Oo]ur countries|[Oo]ur (?:two|three|four) (?:countries|nations))\b")
OWN_LEADER = re.compile(r"\b(the President|the Russian leader|the Head of State|my Administration|"
                        r"the Administration|the Biden Administration|the Biden-Harris Administration)\b")
JOINT_ACTION = re.compile(r"\b(jointly|together|joint|each other|one another|our two countries|both countries|"
                          r"bilateral|[A-Z][a-z]+[- ][A-Z][a-z]+ relations|(?:our|the) relations)\b")
SPEAKER_PREFIX = re.compile(r"^([A-Z][^:]{2,80}?):\s")
PERSON_INTRO = re.compile(
    r"\b(?P<party>[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)?) (?:President|Prime Minister|Premier|Foreign Minister|"
    r"Minister of Foreign Affairs|Vice President|Chancellor|leader|Chairman|King|Emir|Crown Prince|"
    r"State Councilor|Secretary of State|Ambassador|FM)\s+(?P<name>(?:[A-Z][\w'’-]+ ){0,2}[A-Z][\w'’-]+)")
PERSON_OF = re.compile(
    r"\b(?:President|Prime Minister|Premier|Foreign Minister|Minister of Foreign Affairs|Chancellor|King|Emir|"
    r"Secretary of State) of (?:the )?(?P<party>[A-Z][\w'’-]+(?: [A-Z][\w'’-]+){0,3}?)\s+"
    r"(?P<name>(?:[A-Z][\w'’-]+ ){0,2}[A-Z][\w'’-]+)")

PROJECT_HEADS = (
    "railway", "railways", "railroad", "rail line", "railway line", "pipeline", "pipelines", "power plant", "plant",
    "plants", "power station", "station", "centre", "center", "centres", "centers", "fund", "funds", "corridor",
    "port", "bridge", "highway", "road", "tunnel", "dam", "hospital", "park", "zone", "hub", "university", "school",
    "institute", "factory", "refinery", "terminal", "airport", "canal", "project", "projects", "programme",
    "program", "facility", "complex", "line", "network", "cable", "grid", "mine", "workshop", "workshops",
    "reactor", "reactors", "satellite", "laboratory", "campus", "academy", "initiative", "mechanism", "bank",
    "platform", "expressway", "dry port", "logistics centre", "cluster", "farm", "plantation", "branch",
    "monorail", "metro", "hospitals", "stations", "zones", "parks", "hubs", "corridors", "ports", "bridges", "roads",
    "highways", "airports", "schools", "universities", "wall", "infrastructure", "power line", "substation",
    "wind farm", "solar farm", "embassy", "consulate", "museum", "stadium", "housing",
    "mission", "operation", "pilot", "pilots", "system", "scheme", "course", "courses", "lab", "office", "force",
    "partnership", "foundation", "seaport", "microgrid", "capacity", "lines", "fellowship", "fellowships", "corner",
    "trust", "facilities", "package", "reactors", "service", "services", "centres", "mechanism",
)
GENERIC_HEADS = {"mission", "operation", "pilot", "pilots", "system", "scheme", "course", "courses", "office", "force",
                 "partnership", "foundation", "capacity", "lines", "service", "services", "package", "facilities",
                 "trust", "lab", "corner", "fellowship", "fellowships",
                 "project", "projects", "programme", "program", "line", "fund", "funds", "branch", "platform",
                 "mechanism", "initiative", "network", "bank", "station", "zone", "park", "hub", "centre", "center",
                 "centres", "centers", "complex", "facility", "cluster", "road", "school", "plant", "plants"}
_HEAD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PROJECT_HEADS), key=len, reverse=True)) + r")\b", re.I)
_CAPITAL_STOPS = {"The", "A", "An", "They", "We", "It", "He", "She", "I", "This", "These", "That", "Those", "Our",
                  "Their", "Its", "His", "Her", "Both", "All", "Such"}
_SPAN_STOP = {
    "the", "a", "an", "of", "to", "for", "and", "or", "in", "on", "with", "by", "at", "from", "as", "our", "their",
    "its", "his", "her", "this", "that", "these", "those", "will", "would", "shall", "can", "could", "should",
    "is", "are", "was", "were", "be", "been", "such", "other", "more", "further", "all", "both", "two", "which",
    "construction", "implementation", "building", "completion", "launch", "opening", "establishment",
    "creation", "development", "financing", "funding", "progress", "work", "works", "joint", "support",
    "cooperation", "including", "like",
    "build", "construct", "launch", "open", "establish", "implement", "complete", "finance", "fund", "develop",
    "accelerate", "promote", "advance", "create", "start", "invest", "set", "up", "said", "noted", "agreed",
    "we", "they", "it", "he", "she", "i", "also", "well", "about", "between", "under", "within", "into", "than",
    "discussed", "discuss", "welcomed", "welcome", "announced", "announce", "support", "supported", "plans", "plan",
}


@dataclass
class DocumentContext:
    """What the document so far tells about its parties: its speaker and publisher, the people
    it has introduced, and its two main parties (for "the two sides")."""

    default_party: str | None = None  # the UN speech's country, or the publisher's state
    parties: list[str] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=lambda: dict(LEADERS))  # surname -> party
    speaker: str | None = None  # from the last speaker prefix
    last_person_party: str | None = None  # the party of the last person named (for "he", "she")
    joint: bool = False  # a joint statement: "we" is every party
    counts: dict[str, float] = field(default_factory=dict)
    own_country: bool = False  # a UN speech: the default party is the speaker, not one of "the two sides"

    @classmethod
    def for_document(cls, sentences: list[str], meta: dict | None = None) -> "DocumentContext":
        meta = meta or {}
        default = meta.get("country") or None
        if not default:
            for key in ("publisher", "outlet", "doc_id", "source_file"):
                value = str(meta.get(key) or "")
                for name, party in PUBLISHER_PARTIES.items():
                    if name.lower() in value.lower():
                        default = party
                        break
                if default:
                    break
        counts: dict[str, float] = {}
        title = meta.get("title") or (sentences[0] if sentences else "")
        for weight, text in [(3.0, title)] + [(1.0, s) for s in sentences]:
            for _, _, code in find_parties(text or ""):
                counts[code] = counts.get(code, 0) + weight
        ranked = sorted(counts, key=lambda c: -counts[c])
        parties = ranked[:2]
        if default and default not in parties and len(ranked) > 0 and not meta.get("country"):
            parties = [default] + ranked[:1] if ranked[0] != default else ranked[:2]
        joint = bool(re.search(r"\bjoint\b[^.]{0,20}\b(statement|declaration|communiqu)", str(title), re.I))
        title_parties = list(dict.fromkeys(code for _, _, code in find_parties(str(title))))
        if default and default not in title_parties and not meta.get("country"):
            title_parties = [default] + title_parties
        if len(title_parties) >= 2:
            parties = title_parties  # "Talks with President of Serbia ..." (Kremlin): RUS and SRB
        ctx = cls(default_party=default, parties=parties, joint=joint, counts=counts,
                  own_country=bool(meta.get("country")))
        for s in sentences:
            ctx.learn_people(s)
        return ctx

    def observe(self, text: str) -> None:
        """Count the parties of a new sentence toward the document's two main parties (used
        while the title has not named two)."""
        for _, _, code in find_parties(text):
            self.counts[code] = self.counts.get(code, 0) + 1
        ranked = sorted(self.counts, key=lambda c: -self.counts[c])
        if self.default_party and not self.own_country:
            ranked = [self.default_party] + [c for c in ranked if c != self.default_party]
        self.parties = ranked[:2]

    def learn_people(self, text: str) -> None:
        for regex in (PERSON_INTRO, PERSON_OF):
            for m in regex.finditer(text):
                mentions = find_parties(m.group("party"))
                if mentions:
                    party = mentions[0][2]
                    for part in m.group("name").split():
                        if part[:1].isupper() and len(part) > 2:
                            self.people.setdefault(part.strip("'’s"), party)


@dataclass(frozen=True)
class Extraction:
    actors: tuple[str, ...]
    targets: tuple[str, ...]
    projects: tuple[tuple[int, int, str], ...]  # (start, end, text) within the sentence


def _person_candidates(text: str, ctx: DocumentContext) -> list[tuple[int, int, tuple[str, ...], str]]:
    """The "person" candidates of ``_candidates`` alone (all an unlabelled sentence needs)."""
    out = []
    for name, party in ctx.people.items():
        if name in text:  # cheap test first: most sentences name none of the document's people
            for m in re.finditer(r"\b" + re.escape(name) + r"\b", text):
                out.append((m.start(), m.end(), (party,), "person"))
    return out


def _candidates(text: str, ctx: DocumentContext) -> list[tuple[int, int, tuple[str, ...], str]]:
    """(start, end, parties, kind) for every span that can name an actor, in text order."""
    out = [(s, e, (c,), "party") for s, e, c in find_parties(text)]
    out += _person_candidates(text, ctx)
    for m in GROUP.finditer(text):
        word = m.group(1).lower()
        if word in ("they", "together"):
            out.append((m.start(), m.end(), (), "pronoun"))
        elif ctx.parties:
            out.append((m.start(), m.end(), tuple(ctx.parties), "group"))
    if ctx.last_person_party:
        for m in PERSON_PRONOUN.finditer(text):
            out.append((m.start(), m.end(), (ctx.last_person_party,), "person-pronoun"))
    speaker = ctx.speaker or ctx.default_party
    if ctx.joint and ctx.parties:
        we = tuple(ctx.parties)
    elif speaker:
        we = (speaker,)
    else:  # a quoted "we" in a news report that names no speaker: its two parties
        we = tuple(ctx.parties) if len(ctx.parties) >= 2 else ()
    if we:
        for m in FIRST_PERSON.finditer(text):
            out.append((m.start(), m.end(), we, "first-person"))
    if ctx.parties:
        for m in re.finditer(r"\bThey\b", text):
            out.append((m.start(), m.end(), tuple(ctx.parties), "group"))
        if ctx.default_party:
            for m in OWN_LEADER.finditer(text):
                out.append((m.start(), m.end(), (ctx.default_party,), "own-leader"))
    return sorted(out)


def _coordinated(text: str, cands, i: int) -> tuple[str, ...]:
    """The parties of candidate i plus those joined to it by "and" / "," right after it
    ("China and Kyrgyzstan will ...")."""
    parties = list(cands[i][2])
    j = i
    while j + 1 < len(cands):
        nxt = cands[j + 1]
        gap = text[cands[j][1]:nxt[0]]
        if cands[j][3] in ("party", "person") and nxt[3] in ("party", "person") and \
                re.fullmatch(r"\s*(,|and|, and|&)\s*(the )?", gap):
            parties += list(nxt[2])
            j += 1
        else:
            break
    seen: list[str] = []
    for p in parties:
        if p not in seen:
            seen.append(p)
    return tuple(seen)


def _trigger(text: str, labels: set[str]) -> int:
    spots = []
    if "commitment" in labels or "project_pledge" in labels:
        m = COMMIT_TRIGGER.search(text)
        if m:
            spots.append(m.start(2))
    if "support_declaration" in labels:
        m = SUPPORT_TRIGGER.search(text)
        if m:
            spots.append(m.start())
    if "project_pledge" in labels:
        m = PROJECT_VERB.search(text)
        if m:
            spots.append(m.start())
    return min(spots) if spots else len(text)


NAMING = ("party", "person", "group", "first-person", "own-leader", "person-pronoun")


def resolve_actors(text: str, labels: set[str], ctx: DocumentContext) -> tuple[str, ...]:
    """The first party named in the clause that carries the stance (after the last reporting
    verb before the trigger: "Xi said that China will" -> China); else the reporter named before
    that verb ("Xi said it will" -> Xi's state); else the speaker or the publisher's state."""
    cands = [c for c in _candidates(text, ctx) if c[3] in NAMING]
    t = _trigger(text, labels)
    clause_start = 0
    for m in CLAUSE_BOUNDARY.finditer(text, 0, t):
        clause_start = m.end()
    in_clause = [i for i, c in enumerate(cands) if clause_start <= c[0] < t]
    if in_clause:
        # the first naming word of the clause is its subject in this register ("China is ready to ...")
        first = cands[in_clause[0]]
        if first[3] == "first-person" and len(ctx.parties) >= 2 and JOINT_ACTION.search(text):
            return tuple(ctx.parties)  # "we elevate our relations", "we will jointly ...": both sides
        return _coordinated(text, cands, in_clause[0])
    before = [i for i, c in enumerate(cands) if c[1] <= clause_start]
    if before:
        return _coordinated(text, cands, before[-1])
    if ctx.speaker:
        return (ctx.speaker,)
    if ctx.default_party:
        return (ctx.default_party,)
    after = [c for c in cands if c[0] >= t and c[3] in ("party", "group")]
    return after[0][2] if after else ("?",)


def resolve_targets(text: str, actors: tuple[str, ...], ctx: DocumentContext) -> tuple[str, ...]:
    """The first state, organisation or person named after the support trigger that is not
    an actor."""
    m = SUPPORT_TRIGGER.search(text)
    start = m.end() if m else 0
    cands = [c for c in _candidates(text, ctx) if c[3] in ("party", "person")]
    if re.search(r"\b(each other|one another)\b", text[start:]) and len(ctx.parties) >= 2:
        return tuple(ctx.parties)  # "support each other on core interests": both sides back both
    single = actors[0] if len(actors) == 1 else None  # one actor never backs itself; joint actors may back one of them
    for i, (s, e, parties, kind) in enumerate(cands):
        if s >= start and parties[0] != single:
            return tuple(p for p in _coordinated(text, cands, i) if p != single)
    # the backed party named before the trigger ("the Secretary-General can count on our support")
    for s, e, parties, kind in reversed(cands):
        if s < start and parties[0] not in actors:
            return parties
    return ()


def find_projects(text: str) -> tuple[tuple[int, int, str], ...]:
    """Noun phrases ending in a project head noun: (start, end, text).

    >>> find_projects("They will accelerate the construction of the China-Kyrgyzstan-Uzbekistan railway project.")
    ((45, 88, 'China-Kyrgyzstan-Uzbekistan railway project'),)
    """
    spans: list[tuple[int, int]] = []
    fallback: list[tuple[int, int]] = []
    for m in _HEAD.finditer(text):
        end = m.end()
        # a head directly followed by another head extends the phrase ("railway project")
        nxt = _HEAD.match(text, end + 1) if text[end:end + 1] == " " else None
        if nxt:
            continue
        start = m.start()
        words = list(re.finditer(r"[\w'’.-]+", text[:m.start()]))
        for w in reversed(words):
            token = w.group(0)
            function_word = token.lower().strip(".") in _SPAN_STOP and (token[:1].islower() or token in _CAPITAL_STOPS)
            if token in ("and", "of", "for") and text[w.end() + 1:w.end() + 2].isupper() and \
                    any(x.group(0)[:1].isupper() for x in words if x.end() <= w.start()) and \
                    text[max(0, w.start() - 2):w.start()].strip()[-1:].isalpha() and \
                    text[:w.start()].split()[-1][:1].isupper():
                function_word = False  # inside a capitalised name: "Loss and Damage Fund", "Bank of Asia"
            if function_word or text[w.end():start].strip(" ") not in ("",):
                break
            start = w.start()
        if start == m.start():
            fallback.append((start, end))  # a bare head ("the railway") names a project only when nothing else does
            continue
        phrase = text[start:end]
        head = m.group(1).lower()
        if head in GENERIC_HEADS and not re.search(r"[A-Z]|\w-\w|\d", phrase[: -len(head)]) and \
                not _HEAD.search(phrase[: -len(head)]):
            fallback.append((start, end))  # "key projects", "connectivity network": generic
            continue
        spans.append((start, end))
    if not spans:
        obj = _verb_object(text)
        if obj:
            spans = [obj]
        elif fallback:
            spans = [max(fallback, key=lambda se: se[1] - se[0])]
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return tuple((s, e, text[s:e]) for s, e in merged)


_OBJECT_VERB = re.compile(r"\b(build|builds|building|construct\w*|launch\w*|establish\w*|open\w*|set(?:ting)? up|"
                          r"creat\w*|develop\w*|implement\w*|financ\w*|fund\w*|introduc\w*|deploy\w*|"
                          r"start\w*|complet\w*|install\w*|provid\w*|deliver\w*|donat\w*)\s+", re.I)
_DETERMINER = re.compile(r"(?:(?:the|a|an|its|their|our|this|these|that|those|two|three|new)\s+)*", re.I)
_OBJECT_END = re.compile(r"[,.;:(]|\s(?:to|that|which|who|with|by|and|in order|through|under|as|at|for|from|in|on)\s")


def _verb_object(text: str) -> tuple[int, int] | None:
    """The noun phrase right after a building verb ("launch early warning system pilots"),
    up to the next comma or preposition: the project a pledge sentence names without a head
    noun from the list."""
    m = _OBJECT_VERB.search(text)
    if not m:
        return None
    start = m.end() + len(_DETERMINER.match(text, m.end()).group(0))
    end_match = _OBJECT_END.search(text, start)
    end = end_match.start() if end_match else len(text)
    words = text[start:end].split()
    if not words or len(words) > 8 or words[0].lower() in _SPAN_STOP or not re.match(r"[\w“\"'$€£]", words[0]):
        return None
    return (start, start + len(" ".join(words)))


def extract(text: str, labels, ctx: DocumentContext) -> Extraction:
    """Actors, targets and project spans of one labelled sentence; empty for a sentence
    without labels. Updates ``ctx`` with what the sentence teaches (speaker, people)."""
    labels = set(labels)
    body = text
    prefix = SPEAKER_PREFIX.match(text)
    if prefix:
        named = find_parties(prefix.group(1))
        person = next((p for name, p in ctx.people.items() if name in prefix.group(1)), None)
        ctx.speaker = named[0][2] if named else person or ctx.speaker
        body = " " * prefix.end() + text[prefix.end():]  # keep offsets; the prefix names no actor
    ctx.learn_people(text)
    people = sorted(_person_candidates(text, ctx))
    if not labels:
        if people:
            ctx.last_person_party = people[0][2][0]
        return Extraction((), (), ())
    actors = resolve_actors(body, labels, ctx)
    targets = resolve_targets(body, actors, ctx) if "support_declaration" in labels else ()
    projects = find_projects(text) if "project_pledge" in labels else ()
    if people:
        ctx.last_person_party = people[0][2][0]
    return Extraction(actors, targets, projects)


class ActorAnnotator:
    """Streaming extraction over sentences in document order (as scoring produces them):
    a new ``doc_id`` starts a new context from the row's metadata (UN ``country``, publisher,
    title or source file; else the document's first sentence as its title), and each sentence
    teaches the context what it says (speakers, people, parties) before the next one."""

    def __init__(self):
        self.doc_id, self.ctx = None, None

    def __call__(self, doc_id: str, text: str, labels, meta: dict) -> Extraction:
        if doc_id != self.doc_id:
            self.doc_id = doc_id
            self.ctx = DocumentContext.for_document([] if meta.get("title") else [text], {"doc_id": doc_id, **meta})
        if not self.ctx.parties or len(self.ctx.parties) < 2:
            self.ctx.observe(text)
        return extract(text, labels, self.ctx)
