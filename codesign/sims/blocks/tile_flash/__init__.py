"""cocotb bench of codesign/rtl/tile_flash.v (see test_tile_flash.py)."""
