"""cocotb bench of codesign/rtl/tile_cco.v (see test_tile_cco.py)."""
