"""codesign: hardware co-design toolkit for analog in-memory PCM accelerators."""
__version__ = "0.1.0"
