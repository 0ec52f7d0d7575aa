"""cocotb bench of rtl/noc_router.v (see test_noc_router.py)."""
