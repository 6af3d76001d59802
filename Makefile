# Two commands: `make run` (set up, check the shipped model, evaluate it, score the seeds) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV := ../shared/dev/dev.jsonl
SHIPPED := models/default
MODEL := artifacts/models/default
ARCH ?=

.PHONY: run train train-best ship track cv bench test test-fast lint venv compare select-arch real-data notebook clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# The shipped model (models/default/): verify its files, say whether its training data is current,
# evaluate it on ../shared/dev when present, score the seed articles. Minutes, no training.
run: $(STAMP)
	$(BIN)/diplostance verify-model $(SHIPPED)
	$(BIN)/diplostance build-data --output artifacts/data
	@if [ -f $(DEV) ]; then \
		$(BIN)/diplostance evaluate --model $(SHIPPED) --data $(DEV) --output artifacts/eval/dev; \
	else echo "skipping the dev-set evaluation: $(DEV) is absent"; fi
	$(BIN)/diplostance score data/raw/*.txt --model $(SHIPPED) --output artifacts/scores/seeds.jsonl
	@echo "outputs: data artifacts/data/, dev report artifacts/eval/dev/, scores artifacts/scores/seeds.jsonl"

# Retrain the default (finetune) model on the bundled data, as the shipped one was trained (~15-40 min
# on 2 cores), and compare it with the shipped model on the dev set (label-set agreement).
train: $(STAMP)
	$(BIN)/diplostance train $(if $(ARCH),--arch $(ARCH)) --output $(MODEL)
	@if [ -f $(DEV) ]; then \
		$(BIN)/diplostance compare $(SHIPPED) $(MODEL) --data $(DEV) --output artifacts/eval/shipped-vs-trained; \
	fi

# The heavier model that wins on dev but does not fit the shipped-size budget: tfidf + finetune ensemble.
train-best: $(STAMP)
	$(BIN)/diplostance train --arch ensemble --output artifacts/models/best

# Replace the shipped model with the one `make train` wrote (at most once per issue: history stays small).
ship: $(STAMP)
	$(BIN)/diplostance ship-model $(MODEL) --output $(SHIPPED)

# Actors, targets and projects over time (README "Who commits what to whom"): the seed articles and, when
# ../shared is there, the UN General Debate (every session; ~180k sentences, ONNX int8 runtime for speed).
UNGD := ../shared/corpus/ungd-2015-2024.jsonl.gz
track: $(STAMP)
	$(BIN)/diplostance score data/raw/*.txt --model $(SHIPPED) --output artifacts/scores/seeds.jsonl
	$(BIN)/diplostance track artifacts/scores/seeds.jsonl --metadata data/raw/metadata.csv --output artifacts/track/seeds
	@if [ -f $(UNGD) ]; then \
		$(BIN)/diplostance score $(UNGD) --model $(SHIPPED) --runtime onnx --output artifacts/scores/ungd.jsonl && \
		$(BIN)/diplostance track artifacts/scores/ungd.jsonl --output artifacts/track/ungd && \
		$(BIN)/diplostance notebook --track-dir artifacts/track/seeds --track-dir artifacts/track/ungd; \
	else $(BIN)/diplostance notebook --track-dir artifacts/track/seeds; fi

# Leave-one-article-out CV on the seed articles (tfidf unless ARCH=...).
cv: $(STAMP)
	$(BIN)/diplostance evaluate --cv --arch $(or $(ARCH),tfidf) --output artifacts/eval/cv

# Error-analysis notebook on the shipped model.
NB_MODEL := $(SHIPPED)
NB_OUT := artifacts/notebooks/error_analysis.executed.ipynb
notebook: $(STAMP)
	@if [ -f $(DEV) ]; then \
		$(BIN)/diplostance evaluate --model $(NB_MODEL) --data $(DEV) --output artifacts/eval/notebook; \
	else $(BIN)/diplostance evaluate --cv --arch tfidf --output artifacts/eval/notebook; fi
	$(BIN)/diplostance notebook --eval-dir artifacts/eval/notebook --output $(NB_OUT)

# The model comparison (README "Model comparison"): tfidf, finetune and their ensemble on the same data and
# splits: dev with CIs, grouped CV on the real rows, cross-register, ECE, train time, sentences/s (~2 h on 2 cores).
compare: $(STAMP)
	$(BIN)/python -m experiments.compare $(if $(wildcard $(DEV)),--dev $(DEV)) --mpnet-probe 300 --output artifacts/experiments/compare

# Every arch on seeds only, seeds + authored, and all the data, on the seed CV and the dev set (slow).
select-arch: $(STAMP)
	$(BIN)/diplostance select-arch $(if $(wildcard $(DEV)),--dev $(DEV)) --output artifacts/selection

# What the real labelled data buys (README, "Real data"): tfidf by default, ARCHS="tfidf finetune" for both.
ARCHS ?= tfidf
real-data: $(STAMP)
	$(BIN)/python -m experiments.real_data $(if $(wildcard $(DEV)),--dev $(DEV)) --archs $(ARCHS) --output artifacts/experiments/real-data

# Every test (slow ones included: notebook, Ray, kill -9, ONNX, packaging).
# Scoring speed on this machine: every inference lever, 1 and 2 threads, splitting, end to end
# on the UN corpus (about 15 minutes; needs ../shared). Figures: artifacts/benchmarks/throughput.json.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.throughput

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The fast lane: everything but the tests marked slow.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# The layers contract (pyproject.toml [tool.importlinter]).
lint: $(STAMP)
	$(BIN)/lint-imports --no-logo

clean:
	rm -rf artifacts
