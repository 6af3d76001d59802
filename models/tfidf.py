"""TF-IDF features with one class-weighted logistic regression per label."""

from __future__ import annotations

from pathlib import Path

import skops.io as sio
from sklearn.pipeline import FeatureUnion
from sklearn.feature_extraction.text import TfidfVectorizer

from data.errors import DiplostanceError
from models.config import TrainConfig
from models.heads import LinearHeadsModel

WEIGHTS_FILE = "tfidf.skops"
# Types skops may rebuild from our files beyond its default trusted set.
_ALLOWED_TYPES = {
    "builtins.slice",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "collections.defaultdict",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
}


class TfidfModel(LinearHeadsModel):
    arch = "tfidf"

    def _feature_union(self) -> FeatureUnion:
        parts = [
            ("words", TfidfVectorizer(ngram_range=(1, self.config.max_ngram), sublinear_tf=True, min_df=1)),
        ]
        if self.config.char_ngrams:
            parts.append(
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2))
            )
        return FeatureUnion(parts)

    def _fit_features(self, texts):
        self.features_ = self._feature_union()
        return self.features_.fit_transform(texts).tocsr()

    def _features(self, texts, batch_size):
        return self.features_.transform(texts)

    def _save_weights(self, directory: Path):
        sio.dump({"features": self.features_, "estimators": self.estimators_, "priors": self.priors_},
                 directory / WEIGHTS_FILE)

    @classmethod
    def _load_weights(cls, directory: Path, config: TrainConfig, runtime: str):
        path = directory / WEIGHTS_FILE
        if not path.is_file():
            raise DiplostanceError(f"{directory}: missing {WEIGHTS_FILE}")
        untrusted = set(sio.get_untrusted_types(file=path))
        unexpected = untrusted - _ALLOWED_TYPES
        if unexpected:
            raise DiplostanceError(f"{path}: refuses to load unexpected types {sorted(unexpected)}")
        state = sio.load(path, trusted=sorted(untrusted))
        model = cls(config)
        model.features_, model.estimators_, model.priors_ = state["features"], state["estimators"], state["priors"]
        return model
