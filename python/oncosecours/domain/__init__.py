"""The functional core: pure, fast to import, no I/O, no pandas."""
