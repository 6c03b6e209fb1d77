# Two commands for a fresh machine: `make run` and `make test`. Both create .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run sandbox test lint catalogs extract update-catalogs bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP) catalogs
	$(BIN)/python -m bot

sandbox: $(STAMP) catalogs
	$(BIN)/python -m bot sandbox

test: $(STAMP) catalogs
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

catalogs: $(STAMP)
	$(BIN)/pybabel compile -d locales -D messages --statistics 2>&1 | tail -n 1

# Translator workflow: extract new strings into the template, merge them into every catalog.
extract: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml -k _ -k n_:1,2 -k N_ --no-location --sort-output \
		--project quartierbot -o locales/messages.pot bot handlers

update-catalogs: extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

bench: $(STAMP) catalogs
	$(BIN)/python bench/updates.py

clean:
	rm -rf $(VENV) build *.egg-info
