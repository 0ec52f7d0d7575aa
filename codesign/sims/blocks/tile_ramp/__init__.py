"""cocotb bench of codesign/rtl/tile_ramp.v (see test_tile_ramp.py)."""
