# Two commands do all the set-up on a fresh machine: `make run` and `make test`. Production: `make prod`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1:8000
# Production installs the runtime requirements only, into a virtualenv of its own.
PROD_VENV ?= .venv-prod
PROD_BIN := $(PROD_VENV)/bin
PROD_STAMP := $(PROD_VENV)/.installed
PROD_SETTINGS := shenxian_care.settings.production

.PHONY: install run serve migrate demo test lint audit backup restore worker beat prod-install prod-migrate prod clean mutation

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	HOST=$(HOST) $(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_visits
	$(BIN)/python manage.py seed_demo_desk
	$(BIN)/python manage.py seed_demo_settlement

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
	$(BIN)/pip-audit -r requirements-dev.txt --progress-spinner off || echo "pip-audit could not complete (see SECURITY.md)"

# Backup of the database and uploaded files (DATABASE_URL, MEDIA_ROOT); restore: make restore BACKUP=file
backup: install
	$(BIN)/python manage.py backup $(if $(BACKUP),--out $(BACKUP),)

restore: install
	test -n "$(BACKUP)" || (echo "usage: make restore BACKUP=backups/shenxian-....tar.gz" && false)
	$(BIN)/python manage.py restore $(BACKUP) --yes

# Background work beside `make run` on PostgreSQL and Redis (REDIS_URL), with the development settings.
worker: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-shenxian_care.settings.local} $(BIN)/celery -A shenxian_care worker --loglevel=INFO --concurrency=2

beat: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-shenxian_care.settings.local} $(BIN)/celery -A shenxian_care beat --loglevel=INFO

# Production on one machine: runtime requirements only, production settings (SECRET_KEY, FIELD_ENCRYPTION_KEYS,
# ID_HASH_KEY, DATABASE_URL, REDIS_URL, ALLOWED_HOSTS from the environment or .env; see deploy/shenxian.env),
# then web (gunicorn), one worker and exactly one beat from the Procfile under honcho. deploy/ has the systemd
# units that do the same on a county server.
$(PROD_STAMP): requirements.txt
	test -x $(PROD_BIN)/python || $(PYTHON) -m venv $(PROD_VENV)
	$(PROD_BIN)/python -m pip install --quiet --upgrade pip
	$(PROD_BIN)/python -m pip install --quiet -r requirements.txt
	touch $(PROD_STAMP)

prod-install: $(PROD_STAMP)

prod-migrate: prod-install
	DJANGO_SETTINGS_MODULE=$(PROD_SETTINGS) $(PROD_BIN)/python manage.py check --deploy --fail-level WARNING
	DJANGO_SETTINGS_MODULE=$(PROD_SETTINGS) $(PROD_BIN)/python manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=$(PROD_SETTINGS) $(PROD_BIN)/python manage.py collectstatic --noinput

prod: prod-migrate
	DJANGO_SETTINGS_MODULE=$(PROD_SETTINGS) PATH="$(CURDIR)/$(PROD_BIN):$$PATH" $(PROD_BIN)/honcho start --procfile Procfile

clean:
	rm -rf $(VENV) $(PROD_VENV) db.sqlite3 .pytest_cache .ruff_cache staticfiles celerybeat-schedule*

# Mutation testing of the rule modules, each against its own tests, with the score per module (slow: not
# part of `make test`). Some modules only: make mutation MODULES="scoping levels" (see tools/mutation.py).
mutation: install
	$(BIN)/python tools/mutation.py $(MODULES)
