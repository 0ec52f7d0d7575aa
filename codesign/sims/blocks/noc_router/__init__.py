"""cocotb bench of codesign/rtl/noc_router.v (see test_noc_router.py)."""
