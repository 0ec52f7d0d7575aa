"""cocotb bench of rtl/tile_sar.v (see test_tile_sar.py)."""
