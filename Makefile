# Two commands: `make run` (set up, build data, train, evaluate, score) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV := ../shared/dev/dev.jsonl
MODEL := artifacts/models/default
ARCH ?=

.PHONY: run test test-fast lint venv compare real-data notebook clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/diplostance build-data --output artifacts/data
	$(BIN)/diplostance train $(if $(ARCH),--arch $(ARCH)) --output $(MODEL)
	$(BIN)/diplostance evaluate --cv $(if $(ARCH),--arch $(ARCH)) --output artifacts/eval/cv
	@if [ -f $(DEV) ]; then \
		$(BIN)/diplostance evaluate --model $(MODEL) --data $(DEV) --output artifacts/eval/dev; \
	else echo "skipping the dev-set evaluation: $(DEV) is absent"; fi
	$(BIN)/diplostance score data/raw/*.txt --model $(MODEL) --output artifacts/scores/seeds.jsonl
	@echo "outputs: model $(MODEL)/, data artifacts/data/, reports artifacts/eval/{cv,dev}/, scores artifacts/scores/seeds.jsonl"

# Error-analysis notebook: uses the default model when it exists, else trains a small tfidf one.
NB_MODEL := $(if $(wildcard $(MODEL)/config.json),$(MODEL),artifacts/models/notebook-tfidf)
NB_OUT := artifacts/notebooks/error_analysis.executed.ipynb
notebook: $(STAMP)
	@test -f $(NB_MODEL)/config.json || $(BIN)/diplostance train --arch tfidf --output $(NB_MODEL)
	@if [ -f $(DEV) ]; then \
		$(BIN)/diplostance evaluate --model $(NB_MODEL) --data $(DEV) --output artifacts/eval/notebook; \
	else $(BIN)/diplostance evaluate --cv --arch tfidf --output artifacts/eval/notebook; fi
	$(BIN)/diplostance notebook --eval-dir artifacts/eval/notebook --output $(NB_OUT)

# Every arch on seeds only and seeds + authored, on the seed CV and the dev set (slow: ~1 h on 2 cores).
compare: $(STAMP)
	$(BIN)/diplostance select-arch $(if $(wildcard $(DEV)),--dev $(DEV)) --output artifacts/selection

# What the real labelled data buys (README, "Real data"): tfidf by default, ARCHS="tfidf finetune" for both.
ARCHS ?= tfidf
real-data: $(STAMP)
	$(BIN)/python -m experiments.real_data $(if $(wildcard $(DEV)),--dev $(DEV)) --archs $(ARCHS) --output artifacts/experiments/real-data

# Every test (slow ones included: notebook, Ray, kill -9, ONNX, packaging).
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
