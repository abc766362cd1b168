# The two set-up commands in the README: `make run` and `make test`.
# Both create .venv on first use, so a fresh clone needs only Python and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m syncd.demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# CORPUS=DIR adds a folder of real minutes to the parse benchmark.
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(CORPUS),--corpus $(CORPUS))

soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .syncd-demo
