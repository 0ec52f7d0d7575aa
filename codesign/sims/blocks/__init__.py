"""Per-block cocotb benches: codesign/sims/blocks/<block>/test_<block>.py (codesign.hdl.blocks)."""
