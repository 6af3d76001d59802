"""Label Studio round trip: tasks with the model's suggestions as pre-annotations, and
reading a Label Studio JSON export back into labelled JSONL rows.

The labelling config shipped in labelstudio/config.xml names the text `text` and the
choices control `stance` (multiple choice over LABELS).
"""

from __future__ import annotations

import json
from pathlib import Path

from data.errors import DataError
from data.labels import LABELS

FROM_NAME, TO_NAME = "stance", "text"


def labelling_config() -> str:
    choices = "\n".join(f'    <Choice value="{name}"/>' for name in LABELS)
    return (
        "<View>\n"
        f'  <Text name="{TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="multiple" showInline="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def to_task(row: dict, model_version: str) -> dict:
    """One ingested row -> a Label Studio task with a pre-annotation (prediction)."""
    result = []
    if row["labels"]:
        result.append({"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                       "value": {"choices": list(row["labels"])}})
    data = {k: row[k] for k in ("id", "doc_id", "sent_idx", "text", "source_file") if k in row}
    return {
        "data": data,
        "predictions": [{"model_version": model_version, "score": row.get("uncertainty", 0.0), "result": result}],
    }


def read_export(path: str | Path) -> tuple[list[dict], dict]:
    """Label Studio JSON export -> (labelled rows, counts).

    Takes the most recently updated annotation of each task that was not cancelled; a task
    without one is skipped and counted. An annotation with no choice means "none".
    Raises DataError naming the file and task for a malformed export or an unknown choice.
    """
    from data.records import read_text_file

    path = Path(path)
    try:
        tasks = json.loads(read_text_file(path))  # DataError for a missing, undecodable or corrupt gzip file
    except json.JSONDecodeError as exc:
        raise DataError(path, exc.lineno, f"malformed JSON ({exc.msg})") from None
    if not isinstance(tasks, list):
        raise DataError(path, None, "a Label Studio JSON export is a list of tasks")
    rows, counts = [], {"tasks": len(tasks), "labelled": 0, "unlabelled": 0, "cancelled": 0}
    for n, task in enumerate(tasks, 1):
        where = f"task {task.get('id', n) if isinstance(task, dict) else n}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise DataError(path, None, f"{where}: not a task object with 'data'")
        text = task["data"].get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataError(path, None, f"{where}: task data has no text")
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
        live = [a for a in annotations if not a.get("was_cancelled")]
        counts["cancelled"] += len(annotations) - len(live)
        if not live:
            counts["unlabelled"] += 1
            continue
        latest = max(live, key=lambda a: a.get("updated_at") or a.get("created_at") or "")
        labels: set[str] = set()
        for region in latest.get("result") or []:
            if not isinstance(region, dict) or not isinstance(region.get("value") or {}, dict):
                raise DataError(path, None, f"{where}: an annotation result is not a Label Studio region object")
            if region.get("from_name") != FROM_NAME:
                continue
            for choice in (region.get("value") or {}).get("choices") or []:
                if choice not in LABELS:
                    raise DataError(path, None, f"{where}: unknown choice {choice!r} (known: {', '.join(LABELS)})")
                labels.add(choice)
        data = task["data"]
        rows.append({
            "id": str(data.get("id") or f"labelstudio:{task.get('id', n)}"),
            "doc_id": str(data.get("doc_id") or ""),
            "text": text,
            "labels": [name for name in LABELS if name in labels],
            "source": "labelstudio",
            "annotator": latest.get("completed_by"),
        })
        counts["labelled"] += 1
    return rows, counts
