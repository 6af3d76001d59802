"""The generated parts of the dataset card (data/README.md): counts and reader agreement.

`diplostance build-data --update-card` rewrites the block between the markers; a test
fails when the card no longer matches the data.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from data.labels import LABELS

CARD = Path(__file__).resolve().parent / "README.md"
AGREEMENT_DIR = Path(__file__).resolve().parent / "agreement"
START, END = "<!-- generated:start -->", "<!-- generated:end -->"


def _count_table(rows: list[dict], key, title: str) -> list[str]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    lines = [f"| {title} | sentences | " + " | ".join(LABELS) + " | none |", "|---|---|" + "---|" * (len(LABELS) + 1)]
    for name in sorted(groups):
        rs = groups[name]
        c = Counter(label for r in rs for label in r["labels"])
        lines.append(f"| {name} | {len(rs)} | " + " | ".join(str(c[n]) for n in LABELS) + f" | {sum(not r['labels'] for r in rs)} |")
    c = Counter(label for r in rows for label in r["labels"])
    lines.append(f"| **all** | {len(rows)} | " + " | ".join(str(c[n]) for n in LABELS) + f" | {sum(not r['labels'] for r in rows)} |")
    return lines


def label_agreement(pairs: list[tuple[list[str], list[str]]]) -> dict:
    """Cohen's kappa per label between two readings of the same sentences: [(labels A, labels B)]."""
    from sklearn.metrics import cohen_kappa_score

    out = {"n": len(pairs), "labels": {}}
    for name in LABELS:
        a = [name in x for x, _ in pairs]
        b = [name in y for _, y in pairs]
        out["labels"][name] = {"kappa": round(float(cohen_kappa_score(a, b)), 3), "a_positive": sum(a),
                               "b_positive": sum(b), "disagreements": sum(x != y for x, y in zip(a, b))}
    out["exact_match"] = sum(set(x) == set(y) for x, y in pairs)
    return out


def agreement(first: dict[str, list[str]], second: list[dict]) -> dict:
    """Kappa between the first labels (id -> labels) and a second reader's rows."""
    return label_agreement([(first[r["id"]], r["labels"]) for r in second])


def read_second_reader(directory: Path = AGREEMENT_DIR) -> list[dict]:
    """Rows of every second_reader*.jsonl (one per sampling round)."""
    rows = []
    for path in sorted(directory.glob("second_reader*.jsonl")):
        rows += [{**json.loads(line), "file": path.name} for line in path.read_text().splitlines() if line.strip()]
    return rows


def generated_block(rows: list[dict]) -> str:
    seeds = [r for r in rows if r["source"] == "seed"]
    authored = [r for r in rows if r["source"] == "authored"]
    lines = [START, "", "### Per source", "", *_count_table(rows, lambda r: r["source"], "source"), ""]
    lines += ["### Seed articles, per document", "", *_count_table(seeds, lambda r: r["doc_id"], "document"), ""]
    lines += ["Seed boilerplate segments (kept, flagged): "
              + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["boilerplate"] for r in seeds if r["boilerplate"]).items())), ""]
    if authored:
        lines += ["### Authored sentences, per register", "", *_count_table(authored, lambda r: r["register"], "register"), ""]
        hard = sum(1 for r in authored if not r["labels"] and r["rationale"])
        lines += [f"Hard negatives (authored rows labelled none with a rationale naming the rule that excludes them): {hard}.", ""]
    second = read_second_reader()
    if second:
        first = {r["id"]: r["labels"] for r in rows}
        ag = agreement(first, [r for r in second if r["id"] in first])
        lines += [
            f"### Second-reader agreement ({ag['n']} authored rows sampled at random, relabelled blind: "
            + ", ".join(f"{n} in {f}" for f, n in sorted(Counter(r["file"] for r in second).items())) + ")", "",
            "| label | Cohen's kappa | first reader positives | second reader positives | disagreements |",
            "|---|---|---|---|---|",
            *[f"| {n} | {v['kappa']:.3f} | {v['a_positive']} | {v['b_positive']} | {v['disagreements']} |"
              for n, v in ag["labels"].items()],
            "", f"Identical label sets on {ag['exact_match']} of {ag['n']} rows.", "",
        ]
    real = [r for r in rows if r["source"] == "real"]
    if real:
        lines += _real_block(real)
    lines.append(END)
    return "\n".join(lines)


def reading_agreement(rows: list[dict]) -> dict:
    """Cohen's kappa per label between the two independent first readings of the real rows."""
    return label_agreement([(r["reading_a"], r["reading_b"]) for r in rows])


def _real_block(real: list[dict]) -> list[str]:
    from data.real import batch_statuses

    lines = ["### Real sentences, per register and selection stratum", "",
             *_count_table(real, lambda r: f"{r['register']} / {r.get('stratum') or 'all sentences'}", "register / stratum"), ""]
    un = [r for r in real if r["register"] == "ungd"]
    cq = [r for r in real if r["register"] == "communique"]
    if cq:
        lines += [f"Communiqués: {len(cq)} sentences from {len({r['doc_id'] for r in cq})} documents "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(r['publisher'] for r in cq).items()))}).", ""]
    if un:
        lines += [f"UN General Debate: {len(un)} sentences from {len({r['doc_id'] for r in un})} speeches of "
                  f"{len({r['country'] for r in un})} countries; per session: "
                  + ", ".join(f"{k} ({2015 + k - 70}) {v}" for k, v in sorted(Counter(r['session'] for r in un).items())) + ".", ""]
    ag = reading_agreement(real)
    adjudicated = sum(r["reading_a"] != r["reading_b"] for r in real)
    checked = sum(1 for r in real if r.get("audit"))
    changed = sum(1 for r in real if r.get("audit") == "changed")
    lines += [
        f"### Agreement between the two independent readings of the real sentences ({ag['n']} sentences)", "",
        "| label | Cohen's kappa | reader A positives | reader B positives | disagreements |", "|---|---|---|---|---|",
        *[f"| {n} | {v['kappa']:.3f} | {v['a_positive']} | {v['b_positive']} | {v['disagreements']} |"
          for n, v in ag["labels"].items()],
        "", f"Identical label sets on {ag['exact_match']} of {ag['n']} sentences; the other {adjudicated} were "
        f"settled by a third reading, each with a one-line rationale. The label audit re-checked {checked} "
        f"rows flagged by cleanlab and changed {changed} of them.", "",
    ]
    from data.real import excluded_ids

    left_out = excluded_ids()
    if left_out:
        lines += [f"{len(left_out)} read sentences were left out afterwards because they share a 16-word run "
                  "with evaluation-only text (the dev documents, UN sessions 77-79); their ids are in "
                  "`real/excluded.tsv`, their text is not stored.", ""]
    pending = {k: v for k, v in batch_statuses().items() if v != "labelled"}
    if pending:
        lines += ["Pending batches (not yet labelled, not used): " + ", ".join(f"{k} {v}" for k, v in pending.items()), ""]
    return lines


def update_card(rows: list[dict], card: Path = CARD) -> bool:
    """Rewrite the generated block of the card; True when it changed."""
    text = card.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    new = before + generated_block(rows) + after
    from data.atomic import write_text_atomic

    write_text_atomic(card, new)
    return new != text


def card_is_current(rows: list[dict], card: Path = CARD) -> bool:
    text = card.read_text()
    return generated_block(rows) in text
