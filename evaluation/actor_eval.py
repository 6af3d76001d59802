"""Actors, targets and project spans measured against the double-read gold sample
(data/actors/): actor accuracy, target accuracy, project-span F1 (exact and overlap), and the
same figures between the two first readings (their agreement).

Each gold sentence is resolved in its document, as scoring resolves it (models.actors.
ActorAnnotator, streaming): every bundled sentence of that document is read in order (seed
articles and communiqués are bundled whole; a UN speech contributes its labelled rows).
"""

from __future__ import annotations

from collections import defaultdict

from data.actor_annotation import ActorReading, GoldSentence, load_gold
from data.bundled import load_bundled
from models.actors import ActorAnnotator, Extraction


def _spans_f1(pred: list[list[str]], gold: list[list[str]], texts: list[str], overlap: bool) -> dict:
    tp = fp = fn = 0
    for p_spans, g_spans, text in zip(pred, gold, texts):
        def pos(span):
            i = text.find(span)
            return (i, i + len(span))

        p_pos, g_pos = [pos(s) for s in p_spans], [pos(s) for s in g_spans]
        if overlap:
            matched_g = {j for j, g in enumerate(g_pos) if any(a < g[1] and g[0] < b for a, b in p_pos)}
            matched_p = {i for i, p in enumerate(p_pos) if any(p[0] < b and a < p[1] for a, b in g_pos)}
            tp += len(matched_g)
            fp += len(p_pos) - len(matched_p)
            fn += len(g_pos) - len(matched_g)
        else:
            common = set(p_spans) & set(g_spans)
            tp += len(common)
            fp += len(set(p_spans) - common)
            fn += len(set(g_spans) - common)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "gold_spans": tp + fn, "predicted_spans": tp + fp}


def score_readings(pred: list[ActorReading], gold: list[ActorReading], sentences: list[dict]) -> dict:
    """Actor accuracy over sentences with a stance label, target accuracy over support rows,
    span F1 over project rows (exact string match, and any character overlap)."""
    labelled = [i for i, s in enumerate(sentences) if s["labels"]]
    support = [i for i in labelled if "support_declaration" in sentences[i]["labels"]]
    project = [i for i in labelled if "project_pledge" in sentences[i]["labels"]]
    same = lambda a, b: sorted(set(a)) == sorted(set(b))  # noqa: E731
    out = {
        "sentences": len(labelled),
        "actor_accuracy": sum(same(pred[i].actors, gold[i].actors) for i in labelled) / max(len(labelled), 1),
        "support_sentences": len(support),
        "target_accuracy": sum(same(pred[i].targets, gold[i].targets) for i in support) / max(len(support), 1),
        "project_sentences": len(project),
    }
    for kind in ("exact", "overlap"):
        out[f"project_{kind}"] = _spans_f1([list(pred[i].projects) for i in project], [list(gold[i].projects) for i in project],
                                           [sentences[i]["text"] for i in project], overlap=kind == "overlap")
    return out


def predict_gold(gold: list[GoldSentence], rows: list[dict] | None = None) -> list[Extraction]:
    """The extractor's output for every gold sentence, each resolved in its document."""
    rows = rows if rows is not None else load_bundled()
    by_doc: dict[str, list] = defaultdict(list)
    for r in rows:
        by_doc[r["doc_id"]].append(r)
    wanted = {g.sentence["id"] for g in gold}
    found: dict[str, Extraction] = {}
    for doc_id in sorted({g.sentence["doc_id"] for g in gold}):
        doc_rows = sorted(by_doc.get(doc_id, []), key=lambda r: r.get("sent_idx") or 0)
        first = next((g.sentence for g in gold if g.sentence["doc_id"] == doc_id), {})
        meta = {k: first[k] for k in ("country", "publisher", "title") if k in first}
        annotator = ActorAnnotator()  # as scoring runs it: streaming, the document's metadata only
        for r in doc_rows:
            result = annotator(doc_id, r["text"], r["labels"], meta)
            if r["id"] in wanted:
                found[r["id"]] = result
    return [found[g.sentence["id"]] for g in gold]


def as_reading(x: Extraction) -> ActorReading:
    return ActorReading(x.actors, x.targets, tuple(span for _, _, span in x.projects))


def evaluate_actors(gold: list[GoldSentence] | None = None) -> dict:
    gold = gold if gold is not None else load_gold()
    sentences = [g.sentence for g in gold]
    predicted = [as_reading(x) for x in predict_gold(gold)]
    return {
        "gold_sentences": len(gold),
        "extractor": score_readings(predicted, [g.gold for g in gold], sentences),
        "reader_agreement": score_readings([g.a for g in gold], [g.b for g in gold], sentences),
        "by_batch": {batch: score_readings([p for p, g in zip(predicted, gold) if g.sentence.get("batch") == batch],
                                           [g.gold for g in gold if g.sentence.get("batch") == batch],
                                           [s for s in sentences if s.get("batch") == batch])
                     for batch in sorted({s.get("batch") for s in sentences if s.get("batch")})},
        "by_register": {reg: score_readings([p for p, g in zip(predicted, gold) if g.sentence["register"] == reg],
                                            [g.gold for g in gold if g.sentence["register"] == reg],
                                            [s for s in sentences if s["register"] == reg])
                        for reg in sorted({s["register"] for s in sentences})},
    }


def format_actor_report(report: dict) -> str:
    """Markdown: the extractor against the gold, and the two first readings against each other."""
    lines = [f"{report['gold_sentences']} gold sentences (data/actors/, read twice and adjudicated).", "",
             "| scope | compared | sentences | actor accuracy | support rows | target accuracy | project rows | "
             "span F1 exact | span F1 overlap (P / R) |",
             "|---|---|---|---|---|---|---|---|---|"]

    def row(scope, compared, s):
        o = s["project_overlap"]
        return (f"| {scope} | {compared} | {s['sentences']} | {s['actor_accuracy']:.3f} | {s['support_sentences']} | "
                f"{s['target_accuracy']:.3f} | {s['project_sentences']} | {s['project_exact']['f1']:.3f} | "
                f"{o['f1']:.3f} ({o['precision']:.2f} / {o['recall']:.2f}) |")

    lines.append(row("all", "extractor vs gold", report["extractor"]))
    for name, s in report.get("by_batch", {}).items():
        lines.append(row(name, "extractor vs gold", s))
    for name, s in report["by_register"].items():
        lines.append(row(name, "extractor vs gold", s))
    lines.append(row("all", "reader A vs reader B", report["reader_agreement"]))
    return "\n".join(lines) + "\n"
