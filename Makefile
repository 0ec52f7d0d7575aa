# The two commands a new user needs: `make demo` and `make test`.
# Both install what they need first (Python packages, Icarus Verilog, Yosys).
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

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
