"""cocotb bench of codesign/rtl/tile_sar.v (see test_tile_sar.py)."""
