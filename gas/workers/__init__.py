"""Queue workers: the poll loop, one module per queue, and the process wiring."""
