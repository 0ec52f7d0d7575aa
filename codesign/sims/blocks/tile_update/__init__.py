"""cocotb bench of codesign/rtl/tile_update.v (see test_tile_update.py)."""
