"""cocotb bench of codesign/rtl/noc_fifo.v (see test_noc_fifo.py)."""
