# Two commands set up a fresh machine: `make serve` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: serve test test-fast bench lint typecheck check clean sim chromium

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/testudo serve $(ARGS)

sim: $(STAMP)
	$(VENV)/bin/testudo sim $(ARGS)

# Debian's chromium, for the test that opens /docs and /redocs in a real browser
# (tests/api/test_docs_pages.py); installed when missing (CI runs as root).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { echo "installing chromium (Debian package) for the docs test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The whole check: lint, import contracts, mypy --strict, then every test (CI runs this).
test: lint typecheck chromium
	$(PY) -m pytest -n 2 -q $(PYTEST_ARGS)

# The suite without the slow tests (process kills, fault matrices, soak, fuzzing): while working.
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e '.[test,bench]'
	$(PY) -m pytest tests/bench -o python_files='bench_*.py' -m bench -s -q -p no:xdist $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check testudo actors api tests
	$(VENV)/bin/ruff format --check testudo actors api tests
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: test

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
