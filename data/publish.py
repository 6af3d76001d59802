"""The whole labelled set as a Hugging Face dataset: Parquet with explicit Features and a card.

    datasets.load_dataset("parquet", data_files={"train": "artifacts/data/hf/data/train-*.parquet"})

gives one row per sentence; ``labels`` is a list of ClassLabel over data.labels.LABELS.
"""

from __future__ import annotations

import json
from pathlib import Path

from datasets import ClassLabel, Dataset, Features, List, Value

from data.atomic import atomic_path, write_text_atomic
from data.labels import LABELS

STRING_COLUMNS = ("id", "doc_id", "text", "source", "register", "boilerplate", "rationale",
                  "publisher", "url", "date", "title", "country", "stratum", "batch")
INT_COLUMNS = ("sent_idx", "start", "end", "session", "year")
FEATURES = Features({
    **{name: Value("string") for name in STRING_COLUMNS[:3]},
    "labels": List(ClassLabel(names=list(LABELS))),
    **{name: Value("string") for name in STRING_COLUMNS[3:]},
    **{name: Value("int32") for name in INT_COLUMNS},
    "reading_a": List(ClassLabel(names=list(LABELS))),
    "reading_b": List(ClassLabel(names=list(LABELS))),
})


def to_publish_dataset(rows: list[dict]) -> Dataset:
    columns = {}
    for name in FEATURES:
        if name in STRING_COLUMNS[:3]:  # id, doc_id, text: always present
            columns[name] = [str(r[name]) for r in rows]
        elif name in STRING_COLUMNS:  # optional metadata: null when a row has none
            columns[name] = [str(r[name]) if r.get(name) not in (None, "") else None for r in rows]
        elif name in INT_COLUMNS:
            columns[name] = [int(r[name]) if isinstance(r.get(name), int) else None for r in rows]
        elif name in ("reading_a", "reading_b"):
            columns[name] = [list(r[name]) if name in r else None for r in rows]
        else:
            columns[name] = [list(r[name]) for r in rows]
    return Dataset.from_dict(columns, features=FEATURES)


CARD_TEMPLATE = """---
license: other
language: [en]
task_categories: [text-classification]
task_ids: [multi-label-classification]
pretty_name: diplostance labelled sentences
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
---
# diplostance labelled sentences

Sentences of diplomatic text labelled for stance ({labels}; multi-label, an empty list is
"none"), following the diplostance codebook v1.2 and the project guideline (data/GUIDELINE.md).

Rows: {n} ({by_source}); sha256 of (id, text, labels) in order: `{sha}`.

Columns: `labels` (ClassLabel list), `source` (seed / authored / real), `register`, `doc_id`
(the grouping unit for cross-validation), `rationale` (why, on hard or adjudicated rows);
real rows also carry `publisher`, `url`, `date`, `title` (communiqués) or `country`, `session`,
`year` (UN speeches), their place in the document (`sent_idx`, `start`, `end`), the selection
`stratum`, the `batch` and the two independent first readings `reading_a` / `reading_b`.

## Sources and licences
- seed: five Xinhua articles (see data/raw/metadata.csv), hand-labelled.
- authored: sentences written fresh for the project; Apache-2.0 like the project.
- real / communiqués from en.kremlin.ru: CC BY 4.0 — credit en.kremlin.ru and the document URL
  given in the `url` column of every row.
- real / communiqués from whitehouse.gov: U.S. federal government works (public domain in the U.S.).
- real / UN General Debate speeches (sessions 70-76): UN General Debate Corpus. Cite Jankin,
  Baturo and Dasandi, "Words to unite nations: The complete UN General Debate Corpus,
  1946-present", Journal of Peace Research; Baturo, Dasandi and Mikhaylov, "Understanding State
  Preferences With Text As Data", Research & Politics, 2017.

Load it with:

```python
import datasets
ds = datasets.load_dataset("parquet", data_files={{"train": "{path}/data/train-*.parquet"}})["train"]
```
"""


def write_hf_dataset(rows: list[dict], out_dir: str | Path, sha: str) -> Path:
    """Write ``out_dir/data/train-00000-of-00001.parquet`` and ``out_dir/README.md``."""
    from collections import Counter

    out_dir = Path(out_dir)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    target = out_dir / "data" / "train-00000-of-00001.parquet"
    with atomic_path(target) as tmp:
        to_publish_dataset(rows).to_parquet(str(tmp))
    by_source = ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["source"] for r in rows).items()))
    write_text_atomic(out_dir / "README.md", CARD_TEMPLATE.format(
        labels=", ".join(LABELS), n=len(rows), by_source=by_source, sha=sha, path=out_dir))
    write_text_atomic(out_dir / "features.json", json.dumps(FEATURES.to_dict(), indent=1) + "\n")
    return target
