# The two commands of the quick start: `make run` (demo on SQLite) and `make test` (whole suite).
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app web
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test test-sqlite test-postgres setup system-deps demo verify load bench scale clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(FLASK) seed-demo --if-empty

run: demo
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn with several workers; settings from the environment (see README, "Production").
serve: setup
	$(FLASK) upgrade-db
	$(VENV)/bin/gunicorn -c gunicorn.conf.py

# The whole suite, twice: on SQLite and on a throwaway PostgreSQL server. Debian's Chromium (browser tests)
# and PostgreSQL are installed first if missing.
test: system-deps
	$(MAKE) test-sqlite test-postgres

system-deps:
	bash .ci/system-deps.sh

# pytest exits 5 when it collects no test; that is not a failure of the suite.
PYTEST := $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

test-sqlite: setup
	@echo '== test suite on SQLite =='
	$(PYTEST)

test-postgres: setup
	@echo '== test suite on PostgreSQL =='
	bash -c 'source .ci/postgres.sh && set +e && export TEST_DATABASE_URL=$$PG_URL && $(PYTEST)'

# The long load run (50 users × 60 s on the production server, both databases); CI runs a short version.
load: setup system-deps
	$(PY) bench/load.py --duration 60 --users 50 --database sqlite
	$(PY) bench/load.py --duration 60 --users 50 --database postgres

bench: setup
	$(PY) bench/throughput.py

# SPEC §6 scale bars: 100,000 teams and 10 million audit records, on SQLite and on a throwaway PostgreSQL server
# (docs/PERFORMANCE.md). SCALE_ARGS='--teams 20000 --records 2000000' for a quicker run.
scale: setup system-deps
	$(PY) bench/scale.py $(SCALE_ARGS)
	$(PY) bench/scale.py --postgres $(SCALE_ARGS)

verify: setup
	$(FLASK) verify

clean:
	rm -rf $(VENV) instance
