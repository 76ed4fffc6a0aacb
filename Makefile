# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1:8000

.PHONY: install run serve migrate demo test lint audit backup restore worker beat clean mutation

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_visits

run: demo
	$(BIN)/python manage.py runserver $(HOST)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Static security analysis (must be clean, see SECURITY.md) and known-vulnerability audit of the pins.
audit: install
	$(BIN)/bandit -q -c pyproject.toml -r shenxian_care recipients contracts services supervision billing
	$(BIN)/pip-audit -r requirements.txt --progress-spinner off || echo "pip-audit could not complete (see SECURITY.md)"

# Backup of the database and uploaded files (DATABASE_URL, MEDIA_ROOT); restore: make restore BACKUP=file
backup: install
	$(BIN)/python manage.py backup $(if $(BACKUP),--out $(BACKUP),)

restore: install
	test -n "$(BACKUP)" || (echo "usage: make restore BACKUP=backups/shenxian-....tar.gz" && false)
	$(BIN)/python manage.py restore $(BACKUP) --yes

# Production background work (needs REDIS_URL): one worker, and exactly one beat for the whole county.
worker: install
	$(BIN)/celery -A shenxian_care worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A shenxian_care beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache

# Mutation testing of the five rule modules, each against its own tests, with the score per module (slow: not
# part of `make test`). Some modules only: make mutation MODULES="scoping levels" (see tools/mutation.py).
mutation: install
	$(BIN)/python tools/mutation.py $(MODULES)
