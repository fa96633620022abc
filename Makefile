# One-liners over the virtualenv in .venv; every target installs what it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install run test test-browser screenshots lint format bench chaos clean migrate seed campaign-load backup restore

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

run: $(INSTALLED)  ## the whole service on embedded defaults (SQLite, bundled Redis, WeChat sandbox)
	$(PY) -m devstack

test: $(INSTALLED)  ## the whole suite (set DATABASE_URL / REDIS_URL to use real servers)
	$(PY) -m pytest

test-browser: $(INSTALLED)  ## only the console's real-browser tests (needs: apt-get install chromium fonts-noto-cjk)
	REQUIRE_BROWSER=1 $(PY) -m pytest -p no:cacheprovider -m browser tests/console

screenshots: $(INSTALLED)  ## PNGs of the console (1366×768) and H5 (390×844) pages into docs/
	REQUIRE_BROWSER=1 SCREENSHOTS=docs/console $(PY) -m pytest -q -p no:cacheprovider -m browser tests/console/test_console_screenshots.py
	REQUIRE_BROWSER=1 SCREENSHOTS=docs/h5 $(PY) -m pytest -q -p no:cacheprovider -m browser tests/h5/test_h5_browser.py -k poster

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(INSTALLED)  ## benchmarks, printed as side-by-side ratios
	$(PY) -m bench

chaos: $(INSTALLED) ; CHAOS_RECIPIENTS=10000 CHAOS_KILLS=20 $(PY) -m pytest -p no:cacheprovider -s --timeout=900 tests/notices/test_chaos_outbox.py  # the outbox at 10,000 recipients, 20 worker SIGKILLs, one Redis kill

migrate: $(INSTALLED)  ## apply pending migrations to DATABASE_URL (default: the instance folder's SQLite)
	$(VENV)/bin/flask --app app db upgrade

seed: migrate  ## create the 2021 campaign from its plan if missing
	$(VENV)/bin/flask --app app campaign seed

campaign-load: migrate  ## make campaign-load FILE=my-plan.yaml: load a plan as the current campaign
	@test -n "$(FILE)" || { echo "usage: make campaign-load FILE=my-plan.yaml"; exit 2; }
	$(VENV)/bin/flask --app app campaign load "$(FILE)" --current

backup: $(INSTALLED)  ## database (SQLite online backup or pg_dump) + storage + manifest, under BACKUP_DIR
	$(PY) -m backups create $(or $(BACKUP_DIR),backups)

restore: $(INSTALLED)  ## make restore FROM=backups/backup-<time> [FORCE=1]: into an empty database, then checked
	$(PY) -m backups restore $(FROM) $(if $(FORCE),--force)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
