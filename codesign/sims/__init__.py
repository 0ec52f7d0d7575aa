"""cocotb benches, one per RTL block; run them with codesign.hdl.runner.run_bench."""
