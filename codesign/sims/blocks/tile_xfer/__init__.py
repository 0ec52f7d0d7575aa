"""cocotb bench of codesign/rtl/tile_xfer.v (see test_tile_xfer.py)."""
