# Set-up and the two everyday commands. `make serve` and `make test` each build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: serve test bench clean

$(BIN)/graintrain: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)  # the CPU build on this machine's disk, before anything asks for torch
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

serve: $(BIN)/graintrain
	$(BIN)/graintrain fit attention three-grains

test: $(BIN)/graintrain
	$(BIN)/python -m pytest -q

bench: $(BIN)/graintrain
	$(BIN)/python benchmarks/fit_speed.py

clean:
	rm -rf $(VENV) build src/*.egg-info
