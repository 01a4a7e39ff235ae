# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
# Tests run in parallel, one worker per CPU (each with its own PostgreSQL database).
PYTEST_WORKERS ?= -n auto

.PHONY: run test install translations lint security pytest browser-deps clean extract-messages bench-load

run: install translations instance/secret_key
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving on http://127.0.0.1:$(PORT) (mail is written to instance/mail/)"
	BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} FLASK_DEBUG=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install translations lint security browser-deps pytest

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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

lint: install
	$(BIN)/ruff check marketplace tests wsgi.py

# Static security checks of our code (bandit) and known vulnerabilities in what we install.
security: install
	$(BIN)/bandit --quiet --recursive marketplace wsgi.py
	$(BIN)/python .ci/audit_dependencies.py

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
pytest: install translations
	env -u TEST_DATABASE_URL $(BIN)/pytest -q $(PYTEST_WORKERS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest -q $(PYTEST_WORKERS); \
	fi

# The load test (bench/load/, figures in bench/README.md): about 10 minutes, seeding included.
bench-load: install translations
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/load/run.py $(BENCH_LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache marketplace/translations/*/LC_MESSAGES/*.mo
