"""French text blocks shown by both shells (CLI and ribbon): one place per text, no shell
imports the other. Pure formatting of plain dicts; no store, no Excel, no Word."""
