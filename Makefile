# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
# Tests run in parallel, one worker per CPU (each with its own PostgreSQL database).
PYTEST_WORKERS ?= -n auto

.PHONY: run test install lock translations lint security pytest browser-deps clean extract-messages bench-load

run: install translations instance/secret_key
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving on http://127.0.0.1:$(PORT) (mail is written to instance/mail/)"
	BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} FLASK_DEBUG=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install translations lint security browser-deps pytest

install: $(STAMP)

# What is installed is pinned with hashes in requirements-test.lock (requirements.lock, for
# production, holds the same pins without the test tools); `make lock` writes both.
$(STAMP): requirements-test.lock setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
		echo "The lock files do not match setup.cfg: run make lock"; exit 1; }
	touch $(STAMP)

# Refresh the lock files after changing setup.cfg, or to take new releases (a few minutes):
# the newest releases setup.cfg allows, with the hashes of all their files. LOCK_ARGS= keeps
# the pins that still fit; LOCK_ARGS="--upgrade-package NAME" moves one package.
LOCK_ARGS ?= --upgrade
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --build-deps-for editable
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(PIP_COMPILE) $(LOCK_ARGS) --extra test --extra s3 -o requirements-test.lock pyproject.toml
	cp requirements-test.lock requirements.lock  # the same pins, less what only tests need
	$(PIP_COMPILE) --extra s3 -o requirements.lock pyproject.toml
	$(BIN)/python .ci/audit_dependencies.py --record requirements-test.lock requirements.lock

translations: install
	$(BIN)/pybabel compile --use-fuzzy --directory marketplace/translations --statistics 2>&1 | grep -v '^$$' || true
	@test -f marketplace/translations/nl/LC_MESSAGES/messages.mo

# After changing user-facing text: extract, then translate the new entries in nl/.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project "Surplus Marketplace" -o marketplace/translations/messages.pot .
	$(BIN)/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations --no-fuzzy-matching

instance/secret_key:
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > $@
	chmod 600 $@

# The browser tests drive Debian's Chromium (never a downloaded browser).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	} || echo "chromium could not be installed: the browser tests will be skipped (not in CI)"

# ruff for style and mistakes, mypy for the annotations (settings in setup.cfg).
lint: install
	$(BIN)/ruff check marketplace tests wsgi.py
	$(BIN)/mypy

# Static security checks of our code (bandit) and known vulnerabilities in what we install:
# fails on a finding or a package not audited unless .ci/pip-audit-allow.txt says why.
security: install
	$(BIN)/bandit --quiet --recursive marketplace wsgi.py
	$(BIN)/python .ci/audit_dependencies.py requirements-test.lock requirements.lock

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set. Each run
# ends with its slowest tests, so a CI log says where the minutes went.
PYTEST_REPORT ?= --durations=15
pytest: install translations
	env -u TEST_DATABASE_URL $(BIN)/pytest -q $(PYTEST_WORKERS) $(PYTEST_REPORT)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest -q $(PYTEST_WORKERS) $(PYTEST_REPORT); \
	fi

# The load test (bench/load/, figures in bench/README.md): about 10 minutes, seeding included.
bench-load: install translations
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/load/run.py $(BENCH_LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache marketplace/translations/*/LC_MESSAGES/*.mo
