# revorg: `make run` for a local demo, `make test` for the whole suite (Postgres + Redis).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
NPM_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint format bench-match bench-allocate bench-writeback bench-ui bench-book bench-import bench-plan clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

## Front-end libraries (charts, map boundaries) from npm, served by Django from node_modules.
$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $@

install: $(STAMP) $(NPM_STAMP)

## A running demo on http://127.0.0.1:8000 with SQLite and eager tasks.
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py load_demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

## The whole suite against Postgres and Redis on 127.0.0.1. It talks plain http to the test
## client and the live server: the https-only defaults of DEBUG=0 are tested in subprocesses.
test: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=test-only-secret \
		SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 \
		$(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks: one command each; they print their figures (see bench/README.md).
bench-match: install
	$(BIN)/python bench/match.py

bench-allocate: install
	$(BIN)/python bench/allocate.py

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_writeback_bench
bench-writeback: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qtc "SELECT 1 FROM pg_database WHERE datname = 'revorg_writeback_bench'" | grep -q 1 \
		|| psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_writeback_bench"
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/writeback.py

bench-ui: install
	$(BIN)/python bench/ui.py

## A fresh database each run: the bench writes a million accounts and their history.
BOOK_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_book_bench
BOOK_BENCH_ARGS ?=
bench-book: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_book_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_book_bench"
	DATABASE_URL=$(BOOK_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(BOOK_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/book.py $(BOOK_BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles artifacts

## A fresh database each run: 100,000 accounts from the fake Salesforce, 100,000 CSV rows.
IMPORT_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_import_bench

bench-import: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_import_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_import_bench"
	DATABASE_URL=$(IMPORT_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(IMPORT_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/crm_import.py $(IMPORT_BENCH_ARGS)

## A fresh database each run, as bench-book (the same generator; STAGES of bench/plan.py).
PLAN_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_plan_bench

bench-plan: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_plan_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_plan_bench"
	DATABASE_URL=$(PLAN_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(PLAN_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/plan.py $(PLAN_BENCH_ARGS)
