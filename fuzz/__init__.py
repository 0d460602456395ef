"""Fuzz campaigns for fieldstream (see fuzz/README.md). Run with ``python -m fuzz``."""
