# revorg: `make run` for a local demo, `make test` for the whole suite (Postgres + Redis).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
NPM_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint format bench-match bench-allocate bench-allocate-ab bench-writeback bench-ui bench-book bench-import bench-plan-activation bench-plan-replay bench-analytics bench-sla bench-webhooks bench-map bench-plan clean

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

## Two versions interleaved on the same machine: make bench-allocate-ab BEFORE=<git revision>
bench-allocate-ab: install
	$(BIN)/python bench/allocate_ab.py --before $(BEFORE)

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

## Plan activation with a transition (bench/plan_activation.py): a fresh database each run.
ACTIVATION_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_activation_bench
ACTIVATION_BENCH_ARGS ?=
bench-plan-activation: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_activation_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_activation_bench"
	DATABASE_URL=$(ACTIVATION_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(ACTIVATION_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/plan_activation.py $(ACTIVATION_BENCH_ARGS)

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

## A fresh database each run: a 2,000-territory plan, its draft clone and 100,000 history rows.
REPLAY_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_replay_bench
REPLAY_BENCH_ARGS ?=

bench-plan-replay: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_replay_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_replay_bench"
	DATABASE_URL=$(REPLAY_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(REPLAY_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/plan_replay.py $(REPLAY_BENCH_ARGS)
## A fresh database each run: a million accounts, 200,000 deals with closed history, analytics.
ANALYTICS_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_analytics_bench
ANALYTICS_BENCH_ARGS ?=
bench-analytics: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_analytics_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_analytics_bench"
	DATABASE_URL=$(ANALYTICS_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(ANALYTICS_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/analytics.py $(ANALYTICS_BENCH_ARGS)
## A fresh database each run: 100,000 open allocations under an SLA policy, one sweep tick;
## then webhook delivery (bench-webhooks): the governance issue asks one command for both.
SLA_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_sla_bench
SLA_BENCH_ARGS ?=

bench-sla: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_sla_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_sla_bench"
	DATABASE_URL=$(SLA_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(SLA_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/sla.py $(SLA_BENCH_ARGS)
	$(MAKE) --no-print-directory bench-webhooks
## Webhook delivery: 2 Celery workers (own Redis) to a local receiver process.
WEBHOOKS_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_webhooks_bench
BENCH_WEBHOOKS_ARGS ?=
bench-webhooks: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qtc "SELECT 1 FROM pg_database WHERE datname = 'revorg_webhooks_bench'" | grep -q 1 \
		|| psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_webhooks_bench"
	DATABASE_URL=$(WEBHOOKS_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(WEBHOOKS_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/webhooks.py $(BENCH_WEBHOOKS_ARGS)
## A fresh database each run: the map bench writes a million placed accounts.
MAP_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_map_bench

bench-map: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_map_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_map_bench"
	DATABASE_URL=$(MAP_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(MAP_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/map.py $(MAP_BENCH_ARGS)
## A fresh database each run, as bench-book (the same generator; STAGES of bench/plan.py).
PLAN_BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/revorg_plan_bench

bench-plan: install
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS revorg_plan_bench"
	psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE revorg_plan_bench"
	DATABASE_URL=$(PLAN_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python manage.py migrate -v0
	DATABASE_URL=$(PLAN_BENCH_DATABASE_URL) SECRET_KEY=bench $(BIN)/python bench/plan.py $(PLAN_BENCH_ARGS)
