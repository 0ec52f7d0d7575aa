# The two commands a new user needs: `make demo` and `make test`.
# Both install what they need first (Icarus Verilog, Yosys, and the project virtual
# environment .venv with Python >= 3.12, codesign and its Python packages), then run
# with .venv/bin/python.
VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: setup demo test bench docs
setup:
	@bash scripts/setup.sh

demo: setup
	$(PYTHON) -m codesign demo

test: setup
	$(PYTHON) -m pytest -n 2 -q

bench: setup
	$(PYTHON) -m codesign bench core

docs: setup
	$(PYTHON) -m codesign.docgen
	$(PYTHON) -m codesign.hdl.ports
