"""The Ray Data engine for `diplostance score --engine ray`: the same rows as the local
engine (with the same model runtime: torch, onnx or onnx-fp32), computed by `map_batches` over a pool of actors, each loading the model once.

Documents stream through in windows (ScoreOptions.group_sentences is raised to a large
window for this engine); each window becomes one Ray dataset whose actors load the model
once for that window, and whose rows come back in input order (preserve_order) to be
written and checkpointed by the driver exactly as the local engine's are. Local Ray by
default; `--address` joins an existing cluster. Needs the optional extra [distributed].
"""

from __future__ import annotations

import json

import numpy as np

from data.errors import DiplostanceError
from data.records import ScoredSentence
from diplostance.reader import unchanged


class _RayScorer:
    """Actor body: loads the model once, turns a batch of documents into sentence rows."""

    def __init__(self, model_dir: str, split: bool, batch_size: int, runtime: str):
        from diplostance.engines import LocalEngine
        from models.registry import load_model

        self.engine = LocalEngine(load_model(model_dir, runtime=runtime), split, batch_size)

    def __call__(self, batch: dict) -> dict:
        from data.documents import Document

        docs = [Document(str(d), str(t), "", json.loads(m)) for d, t, m in zip(batch["doc_id"], batch["text"], batch["meta"])]
        rows = self.engine.score_group(docs)
        return {"row": np.array([json.dumps(r.to_json(), ensure_ascii=False) for r in rows], dtype=object)}


class RayEngine:
    window_sentences = 20_000

    def __init__(self, model_dir: str, split: bool, batch_size: int, runtime: str = "torch", address: str | None = None):
        try:
            import ray
        except ImportError:
            raise DiplostanceError("--engine ray needs Ray: pip install 'diplostance[distributed]'") from None
        if not model_dir:
            raise DiplostanceError("--engine ray needs a saved model directory")
        self.ray = ray
        if not ray.is_initialized():
            kwargs = {"address": address} if address else {"num_cpus": None}
            ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, **kwargs)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        self.model_dir, self.split, self.batch_size, self.runtime = str(model_dir), split, batch_size, runtime
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // 2)

    prepare = staticmethod(unchanged)  # the actors split

    def score_prepared(self, documents) -> list[ScoredSentence]:
        return self.score_group(documents)

    def score_group(self, documents) -> list[ScoredSentence]:
        if not documents:
            return []
        items = [{"doc_id": d.doc_id, "text": d.text, "meta": json.dumps(d.meta, ensure_ascii=False)} for d in documents]
        ds = self.ray.data.from_items(items).map_batches(
            _RayScorer,
            fn_constructor_kwargs={"model_dir": self.model_dir, "split": self.split,
                                   "batch_size": self.batch_size, "runtime": self.runtime},
            batch_size=32,
            batch_format="numpy",
            concurrency=self.workers,
        )
        return [ScoredSentence.from_json(json.loads(r["row"])) for r in ds.iter_rows()]

    def close(self):
        pass
