"""cocotb bench of codesign/rtl/tile_linecmp.v (see test_tile_linecmp.py)."""
