"""HDL helpers: cocotb runner (runner.py), pyverilog introspection (introspect.py),
yosys synthesis counts (synth.py)."""
