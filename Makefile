# GridPatrol: two commands set up everything on a fresh machine.
#   make demo   install, initialise the database, generate and load the demo city if missing,
#               serve the app on http://localhost:8501 and the API on http://127.0.0.1:8000
#   make test   install, run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.PHONY: install lock demo test lint bench bench-top clean docs docs-serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8

# Reinstall only when the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml | $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	UV_PYTHON_DOWNLOADS=never $(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Pin every extra (web, api, dask, postgres, docs, dev): `make install` installs all of them.
lock:
	$(UV) pip compile pyproject.toml --all-extras --python-version 3.11 --generate-hashes -o requirements.lock

demo: install
	$(BIN)/gridpatrol init
	@# a year ending today (the city's time zone): open work in every queue on the last day
	test -f data/geo/demo/manifest.json || $(BIN)/gridpatrol demo-data --days 365 --out data/geo/demo
	$(BIN)/gridpatrol refresh || echo "gridpatrol refresh failed: the Coverage and Forecast pages will compute on demand"
	$(BIN)/gridpatrol users demo
	@# the API beside the app: Ctrl-C stops both, and the API stops when the app ends
	@$(BIN)/gridpatrol api --host 127.0.0.1 --port 8000 & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 120); do \
	  kill -0 $$api 2>/dev/null || { echo "the API did not start (port 8000 in use?)"; exit 1; }; \
	  $(BIN)/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/openapi.json', timeout=1)" \
	    2>/dev/null && break; sleep 0.5; \
	done; \
	echo "app: http://localhost:8501"; \
	echo "API: http://127.0.0.1:8000/open311/v2/discovery.json (docs: http://127.0.0.1:8000/docs)"; \
	$(BIN)/streamlit run app/streamlit_app.py --server.port 8501 --server.headless true --browser.gatherUsageStats false

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m benchmarks

# All 387 Chao Team Orienteering instances at 1 s each; writes benchmarks/results/top_chao.md.
bench-top: install
	$(BIN)/python -m benchmarks.top_chao

# The documentation site (MkDocs, offline from the lock): site/ ; `make docs-serve` rebuilds on every edit.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8001

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
