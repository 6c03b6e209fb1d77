# Two commands for a fresh machine: `make run` and `make test`. Both create .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run sandbox check test test-repeat lint catalogs extract update-catalogs update-schema bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -q --upgrade pip
	$(BIN)/pip install -q -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP) catalogs
	$(BIN)/python -m bot

sandbox: $(STAMP) catalogs
	$(BIN)/python -m bot sandbox

# Before going live: configuration, directory, database, staff group; one line per problem.
check: $(STAMP) catalogs
	$(BIN)/python -m bot check

# Every core: tests share nothing but immutable data (each has its own sandbox, port,
# database and clock).
# Three workers on two cores: a third of a test's time is spent waiting (HTTP round trips,
# subprocesses, PTB's real-time back-off), so a third worker fills it (measured: 93 s -> 75 s).
TEST_WORKERS ?= 3
test: $(STAMP) catalogs
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

# The suite N times, each from a fresh clone of HEAD (one venv for all runs); LOAD=1 keeps a
# CPU-heavy process running beside it. scripts/test-repeat.sh --help says more.
N ?= 10
test-repeat:
	LOAD=$(LOAD) PY=$(PY) scripts/test-repeat.sh $(N)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pybabel prints one line per catalog; the summary names all of them and fails loudly.
catalogs: $(STAMP)
	@out=$$($(BIN)/pybabel compile -d locales -D messages 2>&1) || { echo "$$out"; exit 1; }; \
	echo "catalogs compiled: $$(echo "$$out" | sed -n 's#.*locales/\([a-zA-Z_]*\)/LC_MESSAGES.*#\1#p' | sort | tr '\n' ' ')"

# Telegram's Bot API schema the sandbox checks every call against, kept in the repository.
# SCHEMA_FILE names a newer api.json (Telegram's Bot API documentation as JSON, e.g. from the
# project that publishes it so); it is checked before it replaces the old one. Commit the
# change with the version in the message.
update-schema: $(STAMP)
	@test -n "$(SCHEMA_FILE)" || { echo "usage: make update-schema SCHEMA_FILE=path/to/api.json"; exit 2; }
	$(BIN)/python -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['methods'] and d['types']; print(d['version'], d['release_date'])" "$(SCHEMA_FILE)"
	cp "$(SCHEMA_FILE)" sandbox/data/api.json

# Translator workflow: extract new strings into the template, merge them into every catalog.
extract: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml -k _ -k n_:1,2 -k p_:1c,2 -k N_ --no-location --sort-output \
		--project quartierbot -o locales/messages.pot bot handlers

update-catalogs: extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

bench: $(STAMP) catalogs
	$(BIN)/python bench/updates.py

clean:
	rm -rf $(VENV) build *.egg-info
