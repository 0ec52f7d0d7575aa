"""Per-block cocotb benches: sims/blocks/<block>/test_<block>.py (codesign.hdl.blocks)."""
