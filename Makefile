# One-liners over the virtualenv in .venv; every target installs what it needs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint format bench chaos clean backup restore

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

run: $(INSTALLED)  ## the whole service on embedded defaults (SQLite, bundled Redis, WeChat sandbox)
	$(PY) -m devstack

test: $(INSTALLED)  ## the whole suite (set DATABASE_URL / REDIS_URL to use real servers)
	$(PY) -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(INSTALLED)  ## benchmarks, printed as side-by-side ratios
	$(PY) -m bench

chaos: $(INSTALLED) ; CHAOS_RECIPIENTS=10000 CHAOS_KILLS=20 $(PY) -m pytest -p no:cacheprovider -s --timeout=900 tests/test_chaos_outbox.py  # the outbox at 10,000 recipients, 20 worker SIGKILLs, one Redis kill

backup: $(INSTALLED)  ## database (SQLite online backup or pg_dump) + storage + manifest, under BACKUP_DIR
	$(PY) -m backups create $(or $(BACKUP_DIR),backups)

restore: $(INSTALLED)  ## make restore FROM=backups/backup-<time> [FORCE=1]: into an empty database, then checked
	$(PY) -m backups restore $(FROM) $(if $(FORCE),--force)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
