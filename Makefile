# Kehu — the two commands a newcomer needs are `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := kehu.settings
TEST_PROCESSES ?= 2

.PHONY: demo test install chromium lint format typecheck serve worker messages bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium (Playwright's own download cannot be used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }

## make demo: install, migrate, load the demo company and serve it at http://127.0.0.1:8000
demo: install
	$(BIN)/kehu migrate --no-input
	$(BIN)/kehu demo
	@echo "Serving Kehu at http://127.0.0.1:8000 (Ctrl+C to stop)"
	$(BIN)/kehu serve --dev --bind 127.0.0.1:8000

## make test: the whole suite (set DATABASE_URL=postgres://… to run it on PostgreSQL)
test: install chromium
	$(BIN)/python -m pytest -p no:cacheprovider -n $(TEST_PROCESSES) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

serve: install
	$(BIN)/kehu serve --dev

worker: install
	$(BIN)/kehu worker

## make messages: refresh the translation catalogue (needs GNU gettext) and compile it
messages: install
	cd kehu && ../$(BIN)/django-admin makemessages -l zh_Hans -l en --no-obsolete \
	  --ignore 'static/vendor/*'
	cd kehu && ../$(BIN)/django-admin compilemessages

## make bench: figures beside their limits, on PostgreSQL (BENCH_DATABASE_URL, BENCH_ARGS)
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kehu_bench
bench: install
	psql "$(BENCH_DATABASE_URL)" -c 'SELECT 1' >/dev/null 2>&1 || \
	  psql "$(dir $(BENCH_DATABASE_URL))postgres" -c "CREATE DATABASE $(notdir $(BENCH_DATABASE_URL))"
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/kehu migrate --no-input -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/kehu bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache
