"""README.md model card written into every model directory."""

from __future__ import annotations

from pathlib import Path


SOURCE_NAMES = {
    "seed": "hand-labelled sentences of five Xinhua articles",
    "authored": "sentences the project authored in the styles of other publishers",
    "real": "real Kremlin and White House communiqué sentences and UN General Debate sentences (2015-2021), "
            "each read twice and adjudicated",
}


def _describe_sources(counts: dict) -> str:
    parts = [f"{n:,} {SOURCE_NAMES.get(source, source + ' rows')}" for source, n in counts.items()]
    return "; ".join(parts) if parts else "unrecorded data"


def write_model_card(directory: Path, meta: dict) -> None:
    data = meta.get("training_data") or {}
    lines = [
        f"# diplostance model ({meta['arch']})",
        "",
        "Tags each sentence of diplomatic text with zero or more of: "
        + ", ".join(f"`{name}`" for name in meta["labels"])
        + " (codebook v1.2 of the diplostance project).",
        "",
        "## Decision thresholds",
        "",
        "| label | threshold |",
        "|---|---|",
        *[f"| {name} | {t:.3f} |" for name, t in meta["thresholds"].items()],
        "",
        "## Training data",
        "",
        f"- rows: {data.get('rows', 'unknown')}; sha256 of (id, text, labels): `{data.get('sha256', 'unknown')}`",
        f"- positives per label: {data.get('label_counts', {})}",
        f"- rows per source: {data.get('source_counts', {})}",
    ]
    for entry in data.get("files", []):
        lines.append(f"- file `{entry['path']}` sha256 `{entry['sha256'][:16]}…` rows {entry['rows']}")
    held = meta.get("heldout_metrics") or {}
    if held:
        lines += ["", f"## Held-out scores at these thresholds ({held['sentences']} training sentences, "
                      "each predicted by a model that did not see its document)", "",
                  "The thresholds were chosen on these same held-out predictions (and a finetune model "
                  "chose its best epoch on them), so these figures are optimistic; see the project README "
                  "for scores on a separate dev set.", "",
                  "| | precision | recall | F1 |", "|---|---|---|---|",
                  *[f"| {name} | {held[name]['precision']:.3f} | {held[name]['recall']:.3f} | {held[name]['f1']:.3f} |"
                    for name in (*meta["labels"], "micro", "macro") if name in held],
                  "", "These come from the training distribution; see the project README for scores on "
                      "other publishers' text."]
    lines += [
        "",
        "## Training configuration",
        "",
        "```",
        *[f"{k} = {v}" for k, v in meta["training_config"].items()],
        "```",
        "",
        f"Library versions: {meta['library_versions']}",
        "",
        "## Intended use and limitations",
        "",
        "- For research on stance in diplomatic communiqués, readouts and speeches, one English",
        "  sentence at a time; counts over many sentences, checked against a labelled sample.",
        f"- Trained on {_describe_sources(data.get('source_counts', {}))}. Precision on publishers and",
        "  registers outside the training data is lower (see the project README for measured",
        "  figures). Not for decisions about individuals.",
        "- Sentences are judged alone: context that changes who speaks or whether an act is past",
        "  is not seen. Non-English text is out of scope.",
    ]
    (directory / "README.md").write_text("\n".join(lines) + "\n")
