# Set-up and the everyday commands. `make serve` and `make test` each build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
CHROMIUM := /usr/bin/chromium

.PHONY: serve site test screenshots bench clean

$(BIN)/graintrain: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)  # the CPU build on this machine's disk, before anything asks for torch
	$(BIN)/pip install --quiet -e '.[test,ray]'
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

serve: $(BIN)/graintrain
	$(BIN)/graintrain serve

site: $(BIN)/graintrain
	$(BIN)/graintrain build --out site

# Two workers: one trains the article while the other runs the tests that need no article.
test: $(BIN)/graintrain $(CHROMIUM)
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

# The browser tests again, keeping a picture of every page they check in artifacts/screenshots/.
screenshots: $(BIN)/graintrain $(CHROMIUM)
	GRAINTRAIN_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_browser.py

bench: $(BIN)/graintrain
	$(BIN)/python benchmarks/fit_speed.py
	$(BIN)/python benchmarks/step_speed.py
	$(BIN)/python benchmarks/recovery.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/lab_first_update.py
	$(BIN)/python benchmarks/lab_load.py --seconds 20

clean:
	rm -rf $(VENV) build src/*.egg-info site artifacts
